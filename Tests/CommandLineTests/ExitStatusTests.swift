import Foundation
import TestSupport
import Testing

/// The exit statuses `distill --help` documents, each produced by the real binary.
@Suite struct ExitStatusTests {
    struct StatusCase: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var status: Int32
        /// Text the one error line must contain (empty: the command succeeds).
        var message: String
        /// Swaps one package file for another: a package that is not the one its index names.
        var replacing: [String: String] = [:]
        var testDescription: String { name }
    }

    static let cases: [StatusCase] = [
        StatusCase(name: "version", arguments: ["version"], status: 0, message: ""),
        StatusCase(name: "an unknown flag", arguments: ["build", "--frobnicate", "apko.yaml", "app:1", "out/"], status: 2,
                   message: "Unknown option '--frobnicate'"),
        StatusCase(name: "a missing argument", arguments: ["build", "apko.yaml"], status: 2, message: "Missing expected argument"),
        StatusCase(name: "an invalid --log-level", arguments: ["show-packages", "--log-level", "loud", "apko.yaml"], status: 2,
                   message: "'loud' is invalid for '--log-level <level>'"),
        StatusCase(name: "a size flag checked while running", arguments: ["show-packages", "--max-apk-data-size", "lots", "apko.yaml"],
                   status: 2, message: "--max-apk-data-size 'lots' is not a size"),
        // pack has its own --version option: a parse failure must not be taken for `distill --version`.
        StatusCase(name: "a missing option next to pack's --version", arguments: ["pack", "--name", "a", "--version", "1-r0", "--key", "k", "d", "a.apk"],
                   status: 2, message: "Missing expected argument '--arch <arch>'"),
        StatusCase(name: "an unknown subcommand", arguments: ["frobnicate"], status: 2, message: "Unexpected argument 'frobnicate'"),
        StatusCase(name: "a missing config", arguments: ["build", "--cache-dir", "cache", "missing.yaml", "app:1", "out/"], status: 1,
                   message: "missing.yaml"),
        StatusCase(name: "an unsatisfiable world", arguments: ["build", "--cache-dir", "cache", "-p", "nothere", "apko.yaml", "app:1", "out/"],
                   status: 1, message: "nothere — no such package"),
        StatusCase(name: "an index signed by an untrusted key",
                   arguments: ["show-packages", "--cache-dir", "cache", "-r", Fixtures.url("apko-private-repo").path, "apko.yaml"],
                   status: 3, message: "private_pkg_key.rsa.pub, which is not in the keyring"),
        StatusCase(name: "a package that is not the one its index names",
                   arguments: ["build", "--cache-dir", "cache", "--arch", "x86_64", "apko.yaml", "app:1", "out/"], status: 3,
                   message: "replayout-1.0.0-r0 from ",
                   replacing: ["x86_64/replayout-1.0.0-r0.apk": "apko-testrepo/aarch64/replayout-1.0.0-r0.apk"]),
        StatusCase(name: "index verify with a failure",
                   arguments: ["index", "verify", "--keyring", Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub").path,
                               "repo/x86_64/APKINDEX.tar.gz"], status: 3, message: ""),
        StatusCase(name: "apk verify with a failure",
                   arguments: ["apk", "verify", "--keyring", Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub").path,
                               "repo/x86_64/replayout-1.0.0-r0.apk"], status: 3, message: ""),
    ]

    @Test(arguments: cases) func status(_ row: StatusCase) throws {
        let scratch = try TestRepository.workspace(replacing: row.replacing)
        let result = try DistillBinary.run(row.arguments, in: scratch, expectSuccess: false)
        #expect(result.status == row.status, "\(result.standardError)")
        let errors = result.standardError.split(separator: "\n").filter { !$0.hasPrefix("progress: ") && !$0.hasPrefix("warning: ") }
        if row.message.isEmpty {
            #expect(errors.isEmpty, "\(result.standardError)")
        } else if row.status == 2 {
            // Usage errors: the error, then the usage reminder.
            #expect(errors.first?.hasPrefix("Error: ") == true, "\(result.standardError)")
            #expect(errors.first?.contains(row.message) == true, "\(result.standardError)")
            #expect(result.standardError.contains("Usage: distill") || result.standardError.contains("USAGE: distill"))
        } else {
            // Failures: exactly one line, `Error: <where>: <what>`.
            #expect(errors.count == 1, "\(result.standardError)")
            #expect(errors.first?.hasPrefix("Error: ") == true)
            #expect(errors.first?.contains(row.message) == true, "\(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out")))
    }

    /// `--log-level debug` adds the steps the failure happened in and the error's kind; the
    /// first line stays the same.
    @Test func debugShowsTheChain() throws {
        let scratch = try TestRepository.workspace(replacing: [
            "x86_64/replayout-1.0.0-r0.apk": "apko-testrepo/aarch64/replayout-1.0.0-r0.apk",
        ])
        let arguments = ["build", "--cache-dir", "cache", "--arch", "x86_64", "apko.yaml", "app:1", "out/"]
        let plain = try DistillBinary.run(arguments, in: scratch, expectSuccess: false)
        let debug = try DistillBinary.run(arguments + ["--log-level", "debug"], in: scratch, expectSuccess: false)
        #expect(debug.status == 3)
        let plainError = plain.standardError.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        let debugLines = debug.standardError.split(separator: "\n").filter { !$0.hasPrefix("progress: ") && !$0.hasPrefix("info: ") }
        #expect(debugLines.first == plainError.first)
        #expect(debugLines.contains("  while building x86_64"), "\(debug.standardError)")
        #expect(debugLines.last == "  (repository error)")
        // Errors of other modules name their type and kind.
        let missing = try DistillBinary.run(["index", "show", "--log-level", "debug", "missing/APKINDEX.tar.gz"], in: scratch,
                                            expectSuccess: false)
        #expect(missing.status == 1)
        let lines = missing.standardError.split(separator: "\n")
        #expect(lines.count == 2, "\(missing.standardError)")
        #expect(lines.first?.hasPrefix("Error: ") == true)
        #expect(lines.last == "  (APKError.io)", "\(missing.standardError)")
    }

    /// `distill version` and `distill --version` agree.
    @Test func versionMatches() throws {
        let scratch = try ScratchDirectory()
        let version = try DistillBinary.run(["version"], in: scratch).text
        let flag = try DistillBinary.run(["--version"], in: scratch).text
        #expect(version == "distill \(flag)")
        #expect(version.range(of: #"^distill \d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
    }
}
