import APK
import ApkoConfig
import ArgumentParser
import Distill
import Foundation
import Signing

/// `distill build CONFIG TAG OUT`: the product — an OCI image (layout directory or docker
/// archive) with SPDX SBOMs, optionally signed.
struct BuildCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an OCI image from an apko.yaml: an OCI layout directory or a docker-archive tarball, with SPDX SBOMs.",
        discussion: """
            OUT is an OCI layout when it is an existing directory or ends with /, otherwise a \
            docker-archive tarball (docker load, skopeo docker-archive:) tagged TAG. One image per \
            architecture, always under an index. SBOMs (sbom-<arch>.spdx.json per architecture \
            and sbom-index.spdx.json) go inside the layout directory or next to the tarball, or \
            into --sbom-path. With the same inputs and SOURCE_DATE_EPOCH every output is byte for \
            byte the same. Prints the index digest.

            Examples:
              distill build apko.yaml registry.example/app:1.0 out/
              SOURCE_DATE_EPOCH=0 distill build --arch x86_64,aarch64 apko.yaml app:1.0 app.tar
              distill build --sign-key keys/image.key apko.yaml registry.example/app:1.0 out/
            """
    )

    @Argument(help: "The apko.yaml to build.")
    var config: String

    @Argument(help: ArgumentHelp("The image reference: the layout's ref.name, the archive's tag, the SBOMs' image name.", valueName: "TAG"))
    var tag: String

    @Argument(help: ArgumentHelp("Output: a directory (OCI layout) or a file (docker archive).", valueName: "OUT"))
    var output: String

    @Option(name: .customLong("sbom"), help: ArgumentHelp("Write SPDX SBOMs (true or false).", valueName: "bool"))
    var sbom = true

    @Option(name: .customLong("sbom-path"),
            help: ArgumentHelp("Directory for the SBOMs (created if missing; default: inside the layout, or next to the tarball).",
                               valueName: "dir"))
    var sbomPath: String?

    @Option(name: .customLong("sign-key"),
            help: ArgumentHelp("Sign the layout (and attest its SBOMs) with this private key, in cosign's format (see `distill keygen`).",
                               valueName: "NAME.key"))
    var signKey: String?

    @OptionGroup var options: ConfigOptions
    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var flags: BuildFlags
    @OptionGroup var consoleOptions: ConsoleOptions

    func run() async throws {
        let console = consoleOptions.console()
        let environment = ProcessInfo.processInfo.environment
        let overrides = options.overrides(sourceDateEpoch: environment["SOURCE_DATE_EPOCH"])
        let loaded = try ConfigLoader.load(path: config, includeSearchPaths: options.includePaths).applying(overrides)
        console.warnVerbatim(loaded.warnings.map(\.description))
        let epoch = try overrides.buildEpoch()
        let lock = try flags.lockfile.map { try Lockfile.read(path: $0) }
        let key = try signKey.map { try SigningKeyFile.readPrivateKey(at: $0) }
        let pipeline = Pipeline(options: try pipelineOptions.repositoryOptions(environment: environment))
        let buildOptions = BuildOptions(
            reference: tag, output: output, epoch: epoch, compressionLevel: flags.compressionLevel, writesSBOMs: sbom,
            sbomDirectory: sbomPath, lockfile: lock, lockfileName: flags.lockfile ?? "the lock file", signingKey: key,
            toolVersion: DistillVersion.current, progress: console.steps, progressEvents: console.events)
        let report = try await pipeline.build(loaded, options: buildOptions)
        console.finish()
        console.warn(report.warnings)
        let progress = console.steps
        for image in report.images {
            progress("\(image.architecture.apkName): \(image.manifestDigest), \(image.packages.count) packages, \(image.layerDigests.count) layer(s)")
        }
        for file in report.sbomFiles { progress("wrote \(file)") }
        for line in report.signatures { progress(line) }
        print(report.indexDigest)
    }
}

/// `distill build-minirootfs CONFIG OUT.tar.gz`: the rootfs of one architecture as a single gzip
/// tarball.
struct BuildMinirootfsCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-minirootfs",
        abstract: "Build the rootfs of one architecture as a single .tar.gz (apko build-minirootfs).",
        discussion: """
            The tarball is exactly the layer `build` would write for a single-layer image: the \
            installed packages, apk's database and everything the config adds. It is written \
            under a temporary name and renamed into place. Prints its sha256 digest.

            Example:
              distill build-minirootfs --build-arch aarch64 apko.yaml rootfs.tar.gz
            """
    )

    @Argument(help: "The apko.yaml to build.")
    var config: String

    @Argument(help: ArgumentHelp("The tarball to write.", valueName: "OUT.tar.gz"))
    var output: String

    @Option(name: .customLong("build-arch"),
            help: ArgumentHelp("The architecture (apk or OCI name; default: the host's). Replaces `archs:` in the config.", valueName: "arch"))
    var buildArchitecture: String?

    @OptionGroup var options: ConfigOptions
    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var flags: BuildFlags
    @OptionGroup var consoleOptions: ConsoleOptions

    func validate() throws {
        guard options.architectures.isEmpty else {
            throw ValidationError("build-minirootfs builds one architecture: use --build-arch instead of --arch")
        }
    }

    func run() async throws {
        let console = consoleOptions.console()
        let environment = ProcessInfo.processInfo.environment
        var overrides = options.overrides(sourceDateEpoch: environment["SOURCE_DATE_EPOCH"])
        overrides.architectures = [buildArchitecture ?? "host"]
        let loaded = try ConfigLoader.load(path: config, includeSearchPaths: options.includePaths).applying(overrides)
        console.warnVerbatim(loaded.warnings.map(\.description))
        let epoch = try overrides.buildEpoch()
        let lock = try flags.lockfile.map { try Lockfile.read(path: $0) }
        let pipeline = Pipeline(options: try pipelineOptions.repositoryOptions(environment: environment))
        let report = try await pipeline.buildMinirootfs(
            loaded, output: output, epoch: epoch, compressionLevel: flags.compressionLevel, lockfile: lock,
            lockfileName: flags.lockfile ?? "the lock file", progress: console.steps, progressEvents: console.events)
        console.finish()
        console.warn(report.warnings)
        print(report.digest)
    }
}
