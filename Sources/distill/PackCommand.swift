import APK
import ApkoConfig
import ArgumentParser
import Foundation

/// `distill pack … DIR OUT.apk`: a directory into a signed package.
struct PackCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack a directory into a signed .apk, laid out as abuild makes one.",
        discussion: """
            Entries are sorted, owned by root:root and dated SOURCE_DATE_EPOCH (0 when unset), so the \
            same directory and SOURCE_DATE_EPOCH give the same bytes. Every file and symlink carries \
            its SHA-1 (APK-TOOLS.checksum.SHA1); .PKGINFO gets the installed size and datahash.

            Example:
              distill pack --name hello --version 1.0-r0 --arch x86_64 \\
                --depends "so:libc.musl-x86_64.so.1" --key me.rsa \\
                rootfs/ hello-1.0-r0.apk
            """
    )

    @Option(help: "Package name (pkgname).") var name: String
    @Option(help: "Version including the -rN release (pkgver).") var version: String
    @Option(help: "Architecture (x86_64, aarch64, noarch, …).") var arch: String
    @Option(help: ArgumentHelp("Dependencies, space-separated; repeatable.", valueName: "deps")) var depends: [String] = []
    @Option(help: ArgumentHelp("Provides (name or name=version), space-separated; repeatable.", valueName: "names")) var provides: [String] = []
    @Option(help: "Origin (source package name); defaults to the name.") var origin: String?
    @Option(help: "License (SPDX expression).") var license: String?
    @Option(help: "One-line description (pkgdesc).") var description: String?
    @Option(help: "Project URL.") var url: String?
    @Option(help: "Maintainer, 'Name <mail>'.") var maintainer: String?
    @Option(help: "Source commit.") var commit: String?
    @Option(name: .customLong("install-if"), help: ArgumentHelp("install_if dependencies, space-separated.", valueName: "deps"))
    var installIf: [String] = []
    @Option(name: .customLong("provider-priority"), help: "Priority among providers of the same name.") var providerPriority: Int?
    @Option(help: ArgumentHelp("Names whose files this package may overwrite; repeatable.", valueName: "names")) var replaces: [String] = []
    @Option(name: .customLong("replaces-priority"), help: "replaces_priority.") var replacesPriority: Int?
    @Option(help: ArgumentHelp("Directories (globs) whose changes run the .trigger script, space-separated.", valueName: "dirs"))
    var triggers: [String] = []
    @Option(name: .customLong("pre-install"), help: ArgumentHelp("Script file.", valueName: "file")) var preInstall: String?
    @Option(name: .customLong("post-install"), help: ArgumentHelp("Script file.", valueName: "file")) var postInstall: String?
    @Option(name: .customLong("pre-deinstall"), help: ArgumentHelp("Script file.", valueName: "file")) var preDeinstall: String?
    @Option(name: .customLong("post-deinstall"), help: ArgumentHelp("Script file.", valueName: "file")) var postDeinstall: String?
    @Option(name: .customLong("pre-upgrade"), help: ArgumentHelp("Script file.", valueName: "file")) var preUpgrade: String?
    @Option(name: .customLong("post-upgrade"), help: ArgumentHelp("Script file.", valueName: "file")) var postUpgrade: String?
    @Option(help: ArgumentHelp("Trigger script file (run for --triggers).", valueName: "file")) var trigger: String?

    @Option(help: ArgumentHelp("The RSA private key (PEM) to sign with; the signature names NAME.rsa.pub.", valueName: "NAME.rsa"))
    var key: String

    @Flag(name: .customLong("sign-sha256"), help: "Sign with SHA-256 (.SIGN.RSA256) instead of SHA-1 (.SIGN.RSA).")
    var signSHA256 = false

    @Argument(help: "The directory whose contents become the package's files.") var directory: String
    @Argument(help: "The .apk to write.") var output: String

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() throws {
        let epoch = try BuildEpoch.resolve(buildDate: nil, sourceDateEpoch: ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"])
        func list(_ values: [String]) throws -> [Dependency] {
            try values.flatMap { try Dependency.parseList($0) }
        }
        let info = PackageInfo(
            name: name, version: version, arch: arch, description: description, url: url, license: license,
            origin: origin ?? name, maintainer: maintainer, commit: commit, providerPriority: providerPriority,
            depends: try list(depends), provides: try list(provides), installIf: try list(installIf),
            replaces: try list(replaces), replacesPriority: replacesPriority,
            triggers: triggers.flatMap { $0.split(separator: " ").map(String.init) })
        let scriptFiles: [(APKFile.ScriptKind, String?)] = [
            (.preInstall, preInstall), (.postInstall, postInstall), (.preDeinstall, preDeinstall), (.postDeinstall, postDeinstall),
            (.preUpgrade, preUpgrade), (.postUpgrade, postUpgrade), (.trigger, trigger),
        ]
        let scripts = try scriptFiles.compactMap { kind, path in try path.map { try APKBuilder.script(kind, file: $0) } }
        let options = APKBuilder.Options(info: info, scripts: scripts, modificationTime: epoch.seconds, key: try SigningKey(file: key),
                                         signatureAlgorithm: signSHA256 ? .rsaSHA256 : .rsaSHA1)
        let result = try APKBuilder.pack(directory: directory, options: options, to: output)
        print("\(output): \(result.info.nameVersion), \(result.entryCount) entries, C:\(result.info.checksum ?? "")")
    }
}
