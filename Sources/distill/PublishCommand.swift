import ApkoConfig
import ArgumentParser
import Distill
import Foundation
import Signing

/// `distill publish CONFIG REF…`: `distill build`, then the image pushed (and signed) to every
/// reference, as `apko publish` does.
struct PublishCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Build an image from an apko.yaml and push it to one or more registry references.",
        discussion: """
            The build is exactly `distill build`'s. Then, in every repository the references name \
            (they may differ, as with apko: each gets the whole image), blobs the registry lacks \
            are uploaded (HEAD first), the platform manifests and the index go by digest, and \
            with --sign-key the index and every platform manifest are signed and their SBOMs \
            attested (cosign's sha256-<hex>.sig/.att tags, each tagged reference as identity). \
            Only when all of that succeeded everywhere are the tags set, so a failure never \
            leaves a tag pointing at an incomplete image. Prints registry/repo@sha256:<index> of \
            the first reference. Progress (the build's, then bytes pushed per repository) goes \
            to standard error; see `distill --help` for its format.

            Examples:
              distill publish apko.yaml registry.example/app:1.0 registry.example/app:latest
              distill publish --sign-key keys/image.key --arch x86_64,aarch64 apko.yaml localhost:5000/app:1.0
            """
    )

    @Argument(help: "The apko.yaml to build.")
    var config: String

    @Argument(help: ArgumentHelp("Where to publish: registry/repository[:tag] (default tag latest), one or more.", valueName: "REF"))
    var references: [String]

    @Option(name: .customLong("sbom"), help: ArgumentHelp("Make SPDX SBOMs (true or false); with --sign-key they are attested.", valueName: "bool"))
    var sbom = true

    @Option(name: .customLong("sbom-path"),
            help: ArgumentHelp("Keep the SBOMs in this directory (created if missing; default: discarded after publishing).",
                               valueName: "dir"))
    var sbomPath: String?

    @Option(name: .customLong("sign-key"),
            help: ArgumentHelp("Sign the image (and attest its SBOMs) in the registry with this private key, in cosign's format.",
                               valueName: "NAME.key"))
    var signKey: String?

    @Option(name: .customLong("image-refs"),
            help: ArgumentHelp("Write the pushed references (each platform manifest, then the index, by digest) to this file.",
                               valueName: "file"))
    var imageRefs: String?

    @OptionGroup var options: ConfigOptions
    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var flags: BuildFlags
    @OptionGroup(title: "Registry") var registry: RegistryOptions
    @OptionGroup var consoleOptions: ConsoleOptions

    func validate() throws {
        if references.isEmpty { throw ValidationError("give at least one image reference to publish to") }
    }

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
        let publishOptions = PublishOptions(
            references: references, access: try registry.access(environment: environment), epoch: epoch,
            compressionLevel: flags.compressionLevel, writesSBOMs: sbom, sbomDirectory: sbomPath, lockfile: lock,
            lockfileName: flags.lockfile ?? "the lock file", signingKey: key, imageRefsFile: imageRefs,
            toolVersion: DistillVersion.current, progress: console.steps, progressEvents: console.events)
        let result = try await pipeline.publish(loaded, options: publishOptions)
        console.finish()
        console.warn(result.build.warnings)
        print(result.indexReference)
    }
}
