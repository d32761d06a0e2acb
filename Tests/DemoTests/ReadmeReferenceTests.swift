import Foundation
import TestSupport
import Testing

/// The README's reference sections say what the binary says: every subcommand `distill --help`
/// lists has a row in the command table, and the exit statuses and the progress line format are
/// the ones the help documents.
@Suite("README reference matches distill --help")
struct ReadmeReferenceTests {
    static let texts: Result<(readme: String, help: String), any Error> = Result {
        let readme = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let help = try DistillBinary.run(["--help"], in: try ScratchDirectory()).text
        return (readme, help)
    }

    @Test("every subcommand has a row in the README's command table")
    func everySubcommandIsDocumented() throws {
        let (readme, help) = try Self.texts.get()
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "SUBCOMMANDS:"))
        // Names start at column 2; wrapped abstracts are indented further; a blank line ends the list.
        let names = lines[(start + 1)...].prefix { !$0.isEmpty }.compactMap { line -> String? in
            guard line.hasPrefix("  "), line.dropFirst(2).first?.isLetter == true else { return nil }
            return line.dropFirst(2).split(separator: " ").first.map(String.init)
        }
        #expect(names.count >= 14, "\(help)")
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| `distill ") }
        for name in names {
            #expect(rows.contains { $0.hasPrefix("| `distill \(name) ") || $0.hasPrefix("| `distill \(name)`") },
                    "the README's command table has no row for distill \(name)")
        }
    }

    @Test("the README's exit statuses are the ones distill --help lists")
    func exitStatusesMatch() throws {
        let (readme, help) = try Self.texts.get()
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "Exit status:"))
        let statuses = lines[(start + 1)...].prefix { !$0.isEmpty }.compactMap { line -> (code: String, meaning: String)? in
            let words = line.split(separator: " ")
            guard line.hasPrefix("  "), words.count >= 2, words[0].allSatisfy(\.isNumber) else { return nil }
            return (String(words[0]), String(words[1]).trimmingCharacters(in: CharacterSet(charactersIn: ":")))
        }
        #expect(statuses.map(\.code) == ["0", "1", "2", "3"], "\(help)")
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.dropFirst(2).first?.isNumber == true }
        #expect(rows.count == statuses.count)
        for status in statuses {
            #expect(rows.contains { $0.hasPrefix("| \(status.code) | \(status.meaning)") }, "README row for exit status \(status.code)")
        }
    }

    @Test("the README gives the plain progress line format distill --help gives")
    func progressFormatMatches() throws {
        let (readme, help) = try Self.texts.get()
        let format = try #require(help.split(separator: "\n").first { $0.contains("progress: <activity>") })
            .trimmingCharacters(in: .whitespaces)
        #expect(readme.contains("\n" + format + "\n"))
    }
}
