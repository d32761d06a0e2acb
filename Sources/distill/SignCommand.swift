import ArgumentParser
import Foundation
import OCI
import Signing

/// `distill sign --key KEY OCI-DIR|REF`: cosign-compatible signatures (and SBOM attestations)
/// for an image that is already built or published.
struct SignCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign an image (and attest its SBOMs) in cosign's format.",
        discussion: """
            Signs the index and every platform manifest: a sha256-<hex>.sig for each, in the \
            registry repository or in the OCI layout (where cosign verify --local-image finds \
            them). With --sbom-path, also attests sbom-<arch>.spdx.json for each platform and \
            sbom-index.spdx.json for the index as sha256-<hex>.att (in-toto SPDX statements in \
            DSSE envelopes, as cosign attest --type spdxjson writes them). Existing signatures are \
            kept; signing again with the same key adds nothing.

            Examples:
              distill sign --key keys/image.key --sbom-path out/ out/
              distill sign --key keys/image.key registry.example/team/app:1.0
            """
    )

    @Option(help: ArgumentHelp("The private key (PEM: PKCS#8, EC or RSA; ECDSA P-256, RSA or Ed25519).", valueName: "NAME.key"))
    var key: String

    @Option(name: .customLong("sbom-path"), help: ArgumentHelp("Directory holding the image's SPDX SBOMs to attest.", valueName: "dir"))
    var sbomPath: String?

    @Option(help: ArgumentHelp("The tagged reference to sign as the image's identity (default: the registry reference, or the layout image's name).",
                               valueName: "registry/repo:tag"))
    var identity: String?

    @Option(name: .customLong("ref-name"), help: ArgumentHelp("The index.json entry of the layout to sign (default: its one image).", valueName: "name"))
    var refName: String?

    @OptionGroup(title: "Registry") var registry: RegistryOptions

    @Argument(help: ArgumentHelp("An OCI layout directory or an image reference.", valueName: "OCI-DIR|REF"))
    var image: String

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() async throws {
        let location = try ImageLocation.parse(image, refName: refName)
        let key = try SigningKeyFile.readPrivateKey(at: key)
        let identity = try identity.map { try ImageReference(parsing: $0) }
        let report = try await SigningOperations.sign(location, key: key, identity: identity, sbomDirectory: sbomPath,
                                                      access: registry.access(environment: ProcessInfo.processInfo.environment))
        for entry in report.entries { print(entry.line) }
    }
}
