import Foundation
import TestSupport
import Testing

/// Every command's help, as the binary prints it.
@Suite struct HelpTests {
    /// The subcommand names a help text lists under SUBCOMMANDS.
    static func subcommands(in help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        return section.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            let name = line.dropFirst(2).prefix { $0 != " " }
            return name.isEmpty || name == "See" ? nil : String(name)
        }
    }

    /// Walks every command the binary has (so a command added later is checked too): each help
    /// shows an example, and each command that runs takes --log-level and --quiet.
    @Test func everyCommandHasAnExampleAndTheConsoleFlags() throws {
        let scratch = try ScratchDirectory()
        var pending: [[String]] = [[]]
        var checked: [String] = []
        while let path = pending.popLast() {
            let help = try DistillBinary.run(path + ["--help"], in: scratch).text
            let name = (["distill"] + path).joined(separator: " ")
            #expect(help.contains("Example:") || help.contains("Examples:"), "\(name) --help has no example")
            // Examples show the command itself.
            #expect(help.contains("  \(name)"), "\(name) --help's example does not run \(name)")
            let children = Self.subcommands(in: help).filter { $0 != "help" }
            if children.isEmpty {
                #expect(help.contains("--log-level <level>"), "\(name) has no --log-level")
                #expect(help.contains("--quiet"), "\(name) has no --quiet")
            }
            pending += children.map { path + [$0] }
            checked.append(name)
        }
        // The walk reached the whole tree (the commands on main when this was written).
        for command in ["distill build", "distill build-minirootfs", "distill show-config", "distill show-packages", "distill lock",
                        "distill dot", "distill apk inspect", "distill apk verify", "distill index show", "distill index verify",
                        "distill index build", "distill pack", "distill push", "distill publish", "distill keygen", "distill sign", "distill verify",
                        "distill version"] {
            #expect(checked.contains(command), "\(command) was not reached")
        }
    }

    /// The top-level help documents the exit statuses and the progress line grammar, so the
    /// README can be written from it.
    @Test func topLevelHelpDocumentsStatusesAndProgress() throws {
        let help = try DistillBinary.run(["--help"], in: try ScratchDirectory()).text
        for line in ["  0  success", "  1  failure", "  2  usage", "  3  verification failed",
                     "progress: <activity> <item> <completed>/<total> <state>"] {
            #expect(help.contains(line), "missing: \(line)")
        }
        for word in ["fetch", "layer", "write", "push", "plan", "start", "run", "commit", "done"] {
            #expect(help.contains(word))
        }
    }
}
