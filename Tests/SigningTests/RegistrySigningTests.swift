import DistillCrypto
import Foundation
import OCI
import Signing
import TestSupport
import Testing

/// The fixture image pushed to a fresh loopback docker-registry, with its SBOM files and a key.
struct PublishedImage {
    let registry: LocalRegistry
    let scratch: ScratchDirectory
    let fixture: SignedImageFixture
    let key: KeyPairFixture
    /// `127.0.0.1:PORT/distill/signed`.
    let repository: String
    var tagged: String { "\(repository):1.0" }
    var sbomDirectory: String { scratch.path("sboms") }

    init() async throws {
        registry = try LocalRegistry()
        scratch = try ScratchDirectory()
        repository = "\(registry.host)/distill/signed"
        fixture = try SignedImageFixture(in: scratch, repository: repository, tag: "1.0")
        let destination = RegistryDestination(client: try registry.client(), repository: "distill/signed")
        _ = try await ImagePublisher.publish(fixture.image, to: destination, tags: ["1.0"])
        try fixture.writeSBOMFiles(to: scratch.path("sboms"))
        key = try KeyPairFixture(named: "image", in: scratch)
    }

    /// `repository@digest` for each platform manifest.
    var platformReferences: [String] {
        fixture.image.images.map { "\(repository)@\($0.manifest.descriptor.digest)" }
    }

    func cosign(_ arguments: [String]) throws -> ExternalTool.Output {
        try Cosign.run(arguments, in: scratch)
    }

    func cosignVerify(_ publicKey: String, _ reference: String) throws -> ExternalTool.Output {
        try cosign(["verify", "--key", publicKey, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry", reference])
    }

    func cosignVerifyAttestation(_ publicKey: String, _ reference: String) throws -> ExternalTool.Output {
        try cosign(["verify-attestation", "--key", publicKey, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry",
                    "--type", "spdxjson", reference])
    }

    /// The digest the `.sig` tag of `digest` points at, or nil.
    func signatureManifest(of digest: Digest) async throws -> Descriptor? {
        try await registry.client().headManifest(repository: "distill/signed", reference: CosignArtifactKind.signatures.tag(for: digest))
    }
}

@Suite("Signing an image in a registry")
struct RegistrySigningTests {
    @Test("cosign verify and verify-attestation pass for the index and each platform, fail with another key; distill verify agrees")
    func cosignAcceptsTheSignedImage() async throws {
        let image = try await PublishedImage()
        let signed = try DistillBinary.run(["sign", "--key", image.key.privatePath, "--sbom-path", image.sbomDirectory, image.tagged],
                                           in: image.scratch)
        #expect(signed.text.split(separator: "\n").count == 6)
        let other = try KeyPairFixture(named: "other", in: image.scratch)

        for reference in [image.tagged] + image.platformReferences {
            let verified = try image.cosignVerify(image.key.publicPath, reference)
            #expect(verified.status == 0, "\(reference): \(verified.standardError)")
            #expect(verified.text.contains("\"docker-reference\":\"\(image.tagged)\""))
            let attested = try image.cosignVerifyAttestation(image.key.publicPath, reference)
            #expect(attested.status == 0, "\(reference): \(attested.standardError)")
            #expect(try image.cosignVerify(other.publicPath, reference).status != 0)
            #expect(try image.cosignVerifyAttestation(other.publicPath, reference).status != 0)
        }

        let good = try DistillBinary.run(["verify", "--key", image.key.publicPath, image.tagged], in: image.scratch, expectSuccess: false)
        #expect(good.status == 0, "\(good.text)\(good.standardError)")
        let lines = good.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6 && lines.allSatisfy { $0.hasPrefix("OK ") })
        let byDigest = try DistillBinary.run(["verify", "--key", image.key.publicPath, image.platformReferences[1]], in: image.scratch,
                                             expectSuccess: false)
        #expect(byDigest.status == 0)
        #expect(byDigest.text == "OK sig \(image.fixture.image.images[1].manifest.descriptor.digest) (image)\n"
                    + "OK att \(image.fixture.image.images[1].manifest.descriptor.digest) (image)\n")

        let bad = try DistillBinary.run(["verify", "--key", other.publicPath, image.tagged], in: image.scratch, expectSuccess: false)
        #expect(bad.status == 3)   // verification failed
        let badLines = bad.text.split(separator: "\n").map(String.init)
        #expect(badLines.count == 6 && badLines.allSatisfy { $0.hasPrefix("FAIL ") })

        // The payloads name 1.0: pulled as 2.0, containers/image's default policy would refuse them.
        let retagged = try DistillBinary.run(["verify", "--key", image.key.publicPath, "--identity", "\(image.repository):2.0", image.tagged],
                                             in: image.scratch, expectSuccess: false)
        #expect(retagged.status == 3)
        #expect(retagged.text.contains("FAIL sig \(image.fixture.image.index.descriptor.digest) (index): docker-reference \"\(image.tagged)\" is not \(image.repository):2.0"))
    }

    @Test("cosign's own signature is kept when distill appends, and signing again adds nothing")
    func appendsToExistingSignatures() async throws {
        let image = try await PublishedImage()
        let index = image.fixture.image.index.descriptor.digest
        let password = ["COSIGN_PASSWORD": ""]
        let generated = try Cosign.run(["generate-key-pair"], in: image.scratch, environment: password)
        #expect(generated.status == 0, "\(generated.standardError)")
        let cosignSigned = try Cosign.run(["sign", "--key", image.scratch.path("cosign.key"), "--tlog-upload=false", "--yes",
                                           "--allow-insecure-registry", "--allow-http-registry", "\(image.repository)@\(index)"],
                                          in: image.scratch, environment: password)
        #expect(cosignSigned.status == 0, "\(cosignSigned.standardError)")

        let store = RegistrySignatureStore(client: try image.registry.client(), repository: "distill/signed")
        let before = try #require(try await store.artifact(tag: CosignArtifactKind.signatures.tag(for: index)))
        #expect(before.manifest.value.layers.count == 1)

        let first = try await SigningOperations.sign(.registry(ImageReference(parsing: image.tagged)), key: image.key.privateKey,
                                                     access: image.registry.access)
        #expect(first.entries.map(\.outcome) == [.added(layerCount: 2), .added(layerCount: 1), .added(layerCount: 1)])
        let after = try #require(try await store.artifact(tag: CosignArtifactKind.signatures.tag(for: index)))
        #expect(after.manifest.value.layers.first == before.manifest.value.layers.first)
        #expect(after.manifest.value.mediaType == MediaType.imageManifest)
        for key in [image.scratch.path("cosign.pub"), image.key.publicPath] {
            let verified = try image.cosignVerify(key, image.tagged)
            #expect(verified.status == 0, "\(key): \(verified.standardError)")
        }

        let signatureTag = try #require(try await image.signatureManifest(of: index))
        let again = try await SigningOperations.sign(.registry(ImageReference(parsing: image.tagged)), key: image.key.privateKey,
                                                     access: image.registry.access)
        #expect(again.entries.allSatisfy { $0.outcome == .alreadyPresent })
        #expect(try await image.signatureManifest(of: index) == signatureTag)

        // distill verify accepts the image with either key; cosign's layer does not fail ours.
        let report = try await SigningOperations.verify(.registry(ImageReference(parsing: image.tagged)), publicKey: image.key.publicKey,
                                                        requireAttestations: false, access: image.registry.access)
        #expect(report.passed)
        let cosignKey = try SigningKeyFile.readPublicKey(at: image.scratch.path("cosign.pub"))
        let cosignReport = try await SigningOperations.verify(.registry(ImageReference(parsing: image.tagged)), publicKey: cosignKey,
                                                              requireAttestations: false, access: image.registry.access)
        // cosign signs the repository without tag as identity: containers/image's default policy
        // (and so distill verify of a tagged reference) refuses that.
        #expect(cosignReport.items.map(\.passed) == [false, false, false])
        #expect(cosignReport.items[0].line
                    == "FAIL sig \(index) (index): docker-reference \"\(image.repository)\" has no tag, which containers/image's default policy refuses; signature does not verify with the key")
        #expect(cosignReport.items[1].line
                    == "FAIL sig \(image.fixture.image.images[0].manifest.descriptor.digest) (linux/amd64): signature does not verify with the key")
    }

    @Test("an image that is not there, or a reference without tag and no --identity, is a clear error")
    func badReferences() async throws {
        let image = try await PublishedImage()
        let missing = try DistillBinary.run(["sign", "--key", image.key.privatePath, "\(image.repository):nope"], in: image.scratch,
                                            expectSuccess: false)
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("manifest nope not found"), "\(missing.standardError)")
        let index = image.fixture.image.index.descriptor.digest
        let untagged = try DistillBinary.run(["sign", "--key", image.key.privatePath, "\(image.repository)@\(index)"], in: image.scratch,
                                             expectSuccess: false)
        #expect(untagged.status != 0)
        #expect(untagged.standardError.contains("names no tag to sign as the identity; pass --identity"), "\(untagged.standardError)")
        let pinned = try DistillBinary.run(["sign", "--key", image.key.privatePath, "--identity", image.tagged, "\(image.repository)@\(index)"],
                                           in: image.scratch, expectSuccess: false)
        #expect(pinned.status == 0, "\(pinned.standardError)")
        #expect(try image.cosignVerify(image.key.publicPath, image.tagged).status == 0)
    }
}
