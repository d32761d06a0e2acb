import ArgumentParser
import Foundation
import OCI
import Signing

/// `distill verify --key PUB OCI-DIR|REF`: checks every signature and SBOM attestation.
struct VerifyCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an image's cosign signatures and SBOM attestations.",
        discussion: """
            For the index and every platform manifest: the sha256-<hex>.sig signature verifies \
            with the key, its payload passes containers/image's strict rules and names the \
            manifest's digest (and, for a registry image, the reference given); the \
            sha256-<hex>.att attestation's envelope verifies, its subject is the manifest's digest \
            and its predicate is an SPDX 2.3 document. Prints one line per check and exits \
            3 (verification failed) if any fails.

            Examples:
              distill verify --key keys/image.pub out/
              distill verify --key keys/image.pub registry.example/team/app:1.0
            """
    )

    @Option(help: ArgumentHelp("The public key (PEM PUBLIC KEY).", valueName: "NAME.pub"))
    var key: String

    @Flag(name: .customLong("signatures-only"), help: "Check signatures only; do not require SBOM attestations.")
    var signaturesOnly = false

    @Option(help: ArgumentHelp("The reference payloads must name (default: the registry reference; not checked for a layout).",
                               valueName: "registry/repo:tag"))
    var identity: String?

    @Option(name: .customLong("ref-name"), help: ArgumentHelp("The index.json entry of the layout to verify (default: its one image).", valueName: "name"))
    var refName: String?

    @OptionGroup(title: "Registry") var registry: RegistryOptions

    @Argument(help: ArgumentHelp("An OCI layout directory or an image reference.", valueName: "OCI-DIR|REF"))
    var image: String

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() async throws {
        let location = try ImageLocation.parse(image, refName: refName)
        let key = try SigningKeyFile.readPublicKey(at: key)
        let identity = try identity.map { try ImageReference(parsing: $0) }
        let report = try await SigningOperations.verify(location, publicKey: key, identity: identity,
                                                        requireAttestations: !signaturesOnly, access: registry.access(environment: ProcessInfo.processInfo.environment))
        for item in report.items { print(item.line) }
        if !report.passed { throw ExitCode(ExitStatus.verificationFailed) }
    }
}
