import ArgumentParser
import Foundation
import OCI

/// `distill push OCI-DIR REF`: pushes an image that is already built.
struct PushCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push an image from an OCI layout directory to a registry.",
        discussion: """
            Blobs the registry already has are skipped; manifests go by digest, then the index, and \
            the tag is set only when everything below it is in place. Signatures and attestations \
            stored in the layout (cosign's layout) follow under cosign's sha256-<digest>.sig/.att \
            tags. Prints the pushed reference with its digest. Progress (bytes pushed) goes to \
            standard error; see `distill --help` for its format.

            Example:
              distill push out/ registry.example/app:1.0
            """
    )

    @Argument(help: "The OCI layout directory (as `distill build` writes it).")
    var layout: String

    @Argument(help: "Where to push: registry/repository:tag, or …@sha256:<hex> to push without a tag.")
    var reference: String

    @Option(name: .customLong("image"),
            help: ArgumentHelp("Which image of the layout to push, by its org.opencontainers.image.ref.name; needed only when the layout holds several.",
                               valueName: "name"))
    var image: String?

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var consoleOptions: ConsoleOptions

    func run() async throws {
        let console = consoleOptions.console()
        let target = try ImageReference(parsing: reference)
        let access = try registry.access(environment: ProcessInfo.processInfo.environment)
        let report = try await LayoutPush.push(layout: layout, refName: image, to: target, access: access, progress: console.events)
        console.finish()
        print("\(target.name)@\(report.image.digest)")
    }
}
