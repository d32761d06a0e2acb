import APK
import ArgumentParser

/// `distill apk …`: look at and verify single `.apk` files.
struct APKCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apk",
        abstract: "Inspect and verify .apk packages.",
        discussion: """
            Examples:
              distill apk inspect curl-7.83.1-r1.apk
              distill apk verify --keyring /etc/apk/keys repo/x86_64/*.apk
            """,
        subcommands: [APKInspectCommand.self, APKVerifyCommand.self]
    )
}

/// `distill apk inspect FILE.apk`.
struct APKInspectCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a package's .PKGINFO fields, identity, signer, sections, scripts and file list.",
        discussion: """
            Without --keyring the signature is reported but not checked.

            Example:
              distill apk inspect --keyring /etc/apk/keys curl-7.83.1-r1.apk
            """
    )

    @Option(name: .customLong("keyring"), help: ArgumentHelp("A directory of *.rsa.pub keys, or one key file; repeatable.", valueName: "path"))
    var keyrings: [String] = []

    @Option(help: "Output format: text or json.")
    var format: ReportFormat = .text

    @Argument(help: "The .apk to inspect.")
    var file: String

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() throws {
        let keyring = try Keyring(paths: keyrings)
        let package = try APKFile.read(path: file, options: APKFile.Options(keyring: keyring))
        print(Report.inspection(path: file, file: package, keyringGiven: !keyrings.isEmpty, format: format.value), terminator: "")
    }
}

/// `distill apk verify --keyring DIR FILE.apk…`.
struct APKVerifyCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify packages like `apk verify`: signature, datahash and structure.",
        discussion: """
            Prints one line per file: OK, UNTRUSTED (signed by a key not in the keyring), unsigned, \
            BAD signature, BAD datahash, or ERROR with the problem. Exits 3 (verification failed) \
            unless every file is OK.

            Example:
              distill apk verify --keyring keys/ repo/x86_64/*.apk
            """
    )

    @Option(name: .customLong("keyring"), help: ArgumentHelp("A directory of *.rsa.pub keys, or one key file; repeatable.", valueName: "path"))
    var keyrings: [String] = []

    @Argument(help: "The .apk files to verify.")
    var files: [String]

    @OptionGroup var consoleOptions: ConsoleOptions

    func validate() throws {
        if keyrings.isEmpty { throw ValidationError("--keyring is required: the keys to trust") }
        if files.isEmpty { throw ValidationError("give at least one .apk file") }
    }

    func run() throws {
        let keyring = try Keyring(paths: keyrings)
        var failed = false
        for file in files {
            do {
                let package = try APKFile.read(path: file, options: APKFile.Options(keyring: keyring, listsDataEntries: false))
                print(Report.verifyLine(path: file, file: package))
                failed = failed || package.verdict != .ok
            } catch {
                print(Report.errorLine(path: file, error: error))
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.verificationFailed) }
    }
}

/// `--format text|json`.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json

    var value: Report.Format {
        switch self {
        case .text: .text
        case .json: .json
        }
    }
}
