import APK
import ApkoConfig
import ArgumentParser
import Foundation

/// `distill index …`: read, verify and build signed APKINDEX.tar.gz files.
struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Show, verify and build signed APKINDEX.tar.gz repository indexes.",
        discussion: """
            Examples:
              distill index verify --keyring /etc/apk/keys x86_64/APKINDEX.tar.gz
              distill index build --key me.rsa -o x86_64/APKINDEX.tar.gz x86_64/*.apk
            """,
        subcommands: [IndexShowCommand.self, IndexVerifyCommand.self, IndexBuildCommand.self]
    )
}

/// `distill index show [--keyring DIR] APKINDEX.tar.gz`.
struct IndexShowCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print an index's signature status, then its packages (name, version, arch, C:).",
        discussion: """
            The content is shown even when the signature is not trusted; the first lines say so.

            Example:
              distill index show --keyring keys/ --format json x86_64/APKINDEX.tar.gz
            """
    )

    @Option(name: .customLong("keyring"), help: ArgumentHelp("A directory of *.rsa.pub keys, or one key file; repeatable.", valueName: "path"))
    var keyrings: [String] = []

    @Option(help: "Output format: text or json.")
    var format: ReportFormat = .text

    @Argument(help: "The APKINDEX.tar.gz to show.")
    var file: String

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() throws {
        let index = try APKIndexFile.read(path: file, keyring: try Keyring(paths: keyrings), requiresTrust: false)
        print(Report.indexListing(path: file, index: index, format: format.value), terminator: "")
    }
}

/// `distill index verify --keyring DIR APKINDEX.tar.gz…`.
struct IndexVerifyCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify indexes' signatures and records.",
        discussion: """
            Prints one line per index: OK with its signers, UNTRUSTED, unsigned, BAD signature, or \
            ERROR with the problem. Exits 3 (verification failed) unless every index is OK.

            Example:
              distill index verify --keyring /etc/apk/keys APKINDEX.tar.gz
            """
    )

    @Option(name: .customLong("keyring"), help: ArgumentHelp("A directory of *.rsa.pub keys, or one key file; repeatable.", valueName: "path"))
    var keyrings: [String] = []

    @Argument(help: "The APKINDEX.tar.gz files to verify.")
    var files: [String]

    @OptionGroup var consoleOptions: ConsoleOptions

    func validate() throws {
        if keyrings.isEmpty { throw ValidationError("--keyring is required: the keys to trust") }
        if files.isEmpty { throw ValidationError("give at least one APKINDEX.tar.gz") }
    }

    func run() throws {
        let keyring = try Keyring(paths: keyrings)
        var failed = false
        for file in files {
            do {
                let index = try APKIndexFile.read(path: file, keyring: keyring, requiresTrust: false)
                print(Report.indexVerifyLine(path: file, index: index))
                failed = failed || !index.signature.isTrusted
            } catch {
                print(Report.errorLine(path: file, error: error))
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.verificationFailed) }
    }
}

/// `distill index build --key NAME.rsa -o APKINDEX.tar.gz FILE.apk…`.
struct IndexBuildCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build and sign an APKINDEX.tar.gz for packages, as `apk index` and abuild-sign do.",
        discussion: """
            Every package is read in full: it must be well formed and its datahash must hold; with \
            --keyring its own signature must verify too. Records are sorted by name and version. \
            Times come from SOURCE_DATE_EPOCH (0 when unset).

            Example:
              distill index build --key me.rsa --description "my repo" -o x86_64/APKINDEX.tar.gz x86_64/*.apk
            """
    )

    @Option(help: ArgumentHelp("The RSA private key (PEM) to sign with; signatures name NAME.rsa.pub.", valueName: "NAME.rsa"))
    var key: String

    @Option(help: "The DESCRIPTION entry (e.g. a repository version).")
    var description: String?

    @Flag(name: .customLong("sign-sha256"), help: "Sign with SHA-256 (.SIGN.RSA256) instead of SHA-1 (.SIGN.RSA).")
    var signSHA256 = false

    @Option(name: .customLong("keyring"), help: ArgumentHelp("Require every package's signature to verify against these keys.", valueName: "path"))
    var keyrings: [String] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write the index.", valueName: "APKINDEX.tar.gz"))
    var output: String

    @Argument(help: "The .apk files to index.")
    var files: [String]

    @OptionGroup var consoleOptions: ConsoleOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one .apk file to index") }
    }

    func run() throws {
        let epoch = try BuildEpoch.resolve(buildDate: nil, sourceDateEpoch: ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"])
        let signingKey = try SigningKey(file: key)
        let records = try APKIndexWriter.records(forPackagesAt: files, keyring: keyrings.isEmpty ? nil : try Keyring(paths: keyrings))
        try APKIndexWriter.write(packages: records, description: description, modificationTime: epoch.seconds, key: signingKey,
                                 algorithm: signSHA256 ? .rsaSHA256 : .rsaSHA1, to: output)
        print("\(output): \(records.count) packages, signed by \(signingKey.keyName)")
    }
}
