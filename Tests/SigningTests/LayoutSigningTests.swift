import DistillCrypto
import Foundation
import HTTPTransport
import OCI
import Signing
import TestSupport
import Testing

/// A signed two-platform layout in a scratch directory: the fixture image written by the OCI
/// module under a full reference, its SBOM files, and a key pair.
struct SignedLayout {
    static let reference = "registry.example/distill/signed:1.0"

    let scratch: ScratchDirectory
    let fixture: SignedImageFixture
    let key: KeyPairFixture
    var directory: String { scratch.path("layout") }
    var sbomDirectory: String { scratch.path("sboms") }

    /// Writes the layout (unsigned) and the SBOM files.
    init() async throws {
        scratch = try ScratchDirectory()
        fixture = try SignedImageFixture(in: scratch, repository: "registry.example/distill/signed", tag: "1.0")
        try await OCILayoutWriter.write(fixture.image, to: scratch.path("layout"), refName: Self.reference)
        try fixture.writeSBOMFiles(to: scratch.path("sboms"))
        key = try KeyPairFixture(named: "image", in: scratch)
    }

    /// Signs and attests everything with the library, as `distill sign --sbom-path` does.
    func sign(with key: PrivateKey? = nil, sboms: Bool = true) async throws -> SigningReport {
        try await SigningOperations.sign(.layout(directory: directory, refName: nil), key: key ?? self.key.privateKey,
                                         sbomDirectory: sboms ? sbomDirectory : nil,
                                         access: RegistryAccess(http: URLSessionHTTPClient()))
    }

    /// `distill verify` through the library.
    func verify(_ publicKey: PublicKey? = nil, requireAttestations: Bool = true) async throws -> VerificationReport {
        try await SigningOperations.verify(.layout(directory: directory, refName: nil), publicKey: publicKey ?? key.publicKey,
                                           requireAttestations: requireAttestations,
                                           access: RegistryAccess(http: URLSessionHTTPClient()))
    }

    /// The index.json entries as JSON objects.
    func indexEntries() throws -> [[String: Any]] {
        let index = try JSONSerialization.jsonObject(with: Data(try scratch.read("layout/index.json"))) as? [String: Any]
        return index?["manifests"] as? [[String: Any]] ?? []
    }
}

@Suite("Signing an OCI layout")
struct LayoutSigningTests {
    @Test("cosign verify --local-image and verify-attestation pass with the key and fail with another; distill verify agrees")
    func cosignAcceptsTheSignedLayout() async throws {
        let layout = try await SignedLayout()
        let report = try await layout.sign()
        #expect(report.entries.count == 6)
        #expect(report.entries.allSatisfy { if case .added(1) = $0.outcome { true } else { false } })
        let other = try KeyPairFixture(named: "other", in: layout.scratch)

        let verified = try Cosign.run(["verify", "--key", layout.key.publicPath, "--insecure-ignore-tlog", "--local-image", layout.directory],
                                      in: layout.scratch)
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.text.contains(layout.fixture.image.index.descriptor.digest.description))
        #expect(verified.text.contains("\"docker-reference\":\"\(SignedLayout.reference)\""))
        let attested = try Cosign.run(["verify-attestation", "--key", layout.key.publicPath, "--insecure-ignore-tlog", "--type", "spdxjson",
                                       "--local-image", layout.directory], in: layout.scratch)
        #expect(attested.status == 0, "\(attested.standardError)")

        let wrongKey = try Cosign.run(["verify", "--key", other.publicPath, "--insecure-ignore-tlog", "--local-image", layout.directory],
                                      in: layout.scratch)
        #expect(wrongKey.status != 0)
        let wrongKeyAttestation = try Cosign.run(["verify-attestation", "--key", other.publicPath, "--insecure-ignore-tlog", "--type", "spdxjson",
                                                  "--local-image", layout.directory], in: layout.scratch)
        #expect(wrongKeyAttestation.status != 0)

        let good = try DistillBinary.run(["verify", "--key", layout.key.publicPath, layout.directory], in: layout.scratch, expectSuccess: false)
        #expect(good.status == 0, "\(good.text)\(good.standardError)")
        let lines = good.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.allSatisfy { $0.hasPrefix("OK ") })
        #expect(lines.first == "OK sig \(layout.fixture.image.index.descriptor.digest) (index)")
        #expect(lines.contains("OK att \(layout.fixture.image.images[1].manifest.descriptor.digest) (linux/arm64)"))

        let bad = try DistillBinary.run(["verify", "--key", other.publicPath, layout.directory], in: layout.scratch, expectSuccess: false)
        #expect(bad.status == 3)   // verification failed
        let badLines = bad.text.split(separator: "\n").map(String.init)
        #expect(badLines.count == 6)
        #expect(badLines.allSatisfy { $0.hasPrefix("FAIL ") })
        #expect(badLines.contains("FAIL sig \(layout.fixture.image.index.descriptor.digest) (index): signature does not verify with the key"))
        #expect(badLines.contains("FAIL att \(layout.fixture.image.images[0].manifest.descriptor.digest) (linux/amd64): envelope signature does not verify with the key"))
    }

    @Test("signatures of every key type pass cosign verify --local-image",
          arguments: [KeyAlgorithm.ecdsaP256, .rsa, .ed25519])
    func everyKeyType(_ algorithm: KeyAlgorithm) async throws {
        let layout = try await SignedLayout()
        let key = try KeyPairFixture(algorithm, named: "typed", in: layout.scratch)
        _ = try await layout.sign(with: key.privateKey, sboms: false)
        let verified = try Cosign.run(["verify", "--key", key.publicPath, "--insecure-ignore-tlog", "--local-image", layout.directory],
                                      in: layout.scratch)
        #expect(verified.status == 0, "\(verified.standardError)")
        let report = try await layout.verify(key.publicKey, requireAttestations: false)
        #expect(report.passed)
        #expect(report.items.map(\.kind) == [.signatures, .signatures, .signatures])
    }

    @Test("distill sign writes cosign's layout conventions, keeps the image readable, and signing again adds nothing")
    func commandLineAndLayoutShape() async throws {
        let layout = try await SignedLayout()
        let first = try DistillBinary.run(["sign", "--key", layout.key.privatePath, "--sbom-path", layout.sbomDirectory, layout.directory],
                                          in: layout.scratch)
        let firstLines = first.text.split(separator: "\n")
        #expect(firstLines.count == 6)
        #expect(firstLines.allSatisfy { $0.hasPrefix("signed ") && $0.hasSuffix("(1 layer)") })
        let indexBefore = try layout.scratch.read("layout/index.json")

        let entries = try layout.indexEntries()
        let index = layout.fixture.image.index.descriptor.digest
        let annotations = entries.map { $0["annotations"] as? [String: String] ?? [:] }
        // The image first (cosign takes the first entry of each kind), then the index's
        // artifacts with cosign's kind, then the platforms' artifacts with their names only.
        #expect(annotations[0] == ["org.opencontainers.image.ref.name": SignedLayout.reference, "kind": "dev.cosignproject.cosign/imageIndex"])
        #expect(annotations[1] == ["org.opencontainers.image.ref.name": "sha256-\(index.hex).sig", "kind": "dev.cosignproject.cosign/sigs"])
        #expect(annotations[2] == ["org.opencontainers.image.ref.name": "sha256-\(index.hex).att", "kind": "dev.cosignproject.cosign/atts"])
        let platformNames = layout.fixture.image.images.flatMap {
            ["sha256-\($0.manifest.descriptor.digest.hex).sig", "sha256-\($0.manifest.descriptor.digest.hex).att"]
        }
        #expect(annotations.dropFirst(3).map { $0["org.opencontainers.image.ref.name"] } == platformNames)
        #expect(annotations.dropFirst(3).allSatisfy { $0["kind"] == nil })

        // The image is still what skopeo reads under its name, and copies with every digest checked.
        // (oci-image-tool 1.0.0-rc1 cannot judge this layout: with three or more index.json
        // entries its --ref lookup reports "not unique" even for a unique name.)
        let raw = try ExternalTool.run("skopeo", ["inspect", "--raw", "oci:\(layout.directory):\(SignedLayout.reference)"], in: layout.scratch)
        #expect(OCIDigest.sha256([UInt8](raw.standardOutput)) == index)
        try ExternalTool.run("skopeo", ["copy", "-q", "--all", "--preserve-digests", "oci:\(layout.directory):\(SignedLayout.reference)",
                                        "oci:\(layout.scratch.path("copy")):t"], in: layout.scratch)

        let second = try DistillBinary.run(["sign", "--key", layout.key.privatePath, "--sbom-path", layout.sbomDirectory, layout.directory],
                                           in: layout.scratch)
        #expect(second.text.split(separator: "\n").allSatisfy { $0.hasPrefix("kept ") })
        #expect(try layout.scratch.read("layout/index.json") == indexBefore)

        // A second key appends its layer after the first key's, which stays.
        let other = try KeyPairFixture(.rsa, named: "other", in: layout.scratch)
        let third = try DistillBinary.run(["sign", "--key", other.privatePath, layout.directory], in: layout.scratch)
        #expect(third.text.split(separator: "\n").allSatisfy { $0.hasSuffix("(2 layers)") })
        for key in [layout.key.publicPath, other.publicPath] {
            let verified = try Cosign.run(["verify", "--key", key, "--insecure-ignore-tlog", "--local-image", layout.directory], in: layout.scratch)
            #expect(verified.status == 0, "\(verified.standardError)")
        }
        #expect(try await layout.verify().passed)
    }

    @Test("distill verify names the manifest and the part that failed")
    func tamperedArtifacts() async throws {
        let layout = try await SignedLayout()
        _ = try await layout.sign()
        let amd = layout.fixture.image.images[0].manifest.descriptor.digest
        let arm = layout.fixture.image.images[1].manifest.descriptor.digest
        let index = layout.fixture.image.index.descriptor.digest
        let signer = try ImageSigner(key: layout.key.privateKey, dockerReference: ImageReference(parsing: SignedLayout.reference))

        let store = try LayoutSignatureStore(directory: layout.directory)
        // arm64's attestation replaced by a (validly signed) attestation of amd64.
        try await store.store(CosignArtifact.image(layers: [signer.attestationLayer(for: amd, sbom: layout.fixture.sboms[amd]!)]),
                              tag: CosignArtifactKind.attestations.tag(for: arm), kind: .attestations, ofTopLevelImage: false)
        // amd64's signature replaced by arm64's.
        try await store.store(CosignArtifact.image(layers: [signer.signatureLayer(for: arm)]),
                              tag: CosignArtifactKind.signatures.tag(for: amd), kind: .signatures, ofTopLevelImage: false)
        // arm64's signature replaced by a signed payload with a key containers/image does not know.
        let extended = String(decoding: SimpleSigningPayload(dockerReference: SignedLayout.reference, manifestDigest: arm).bytes, as: UTF8.self)
            .replacingOccurrences(of: #""optional":null"#, with: #""optional":null,"note":"x""#)
        let payload = Array(extended.utf8)
        let layer = CosignLayer(mediaType: CosignMediaType.simpleSigning, payload: payload,
                                annotations: [CosignMediaType.signatureAnnotation: Base64.encode(try layout.key.privateKey.signature(for: payload))])
        try await store.store(CosignArtifact.image(layers: [layer]), tag: CosignArtifactKind.signatures.tag(for: arm),
                              kind: .signatures, ofTopLevelImage: false)
        try await store.commit()
        // The index's attestation removed.
        let writer = try OCILayoutWriter(directory: layout.directory, indexMode: .update)
        try await writer.removeIndexEntries { $0.annotation(AnnotationKey.refName) == CosignArtifactKind.attestations.tag(for: index) }
        try await writer.commit()

        let report = try await layout.verify()
        #expect(!report.passed)
        #expect(report.items.map(\.line) == [
            "OK sig \(index) (index)",
            "FAIL att \(index) (index): no attestation (sha256-\(index.hex).att not found)",
            "FAIL sig \(amd) (linux/amd64): payload is for \(arm)",
            "OK att \(amd) (linux/amd64)",
            "FAIL sig \(arm) (linux/arm64): unknown key \"note\" in the document",
            "FAIL att \(arm) (linux/arm64): subject digest differs (sha256:\(amd.hex))",
        ])
        let cli = try DistillBinary.run(["verify", "--key", layout.key.publicPath, layout.directory], in: layout.scratch, expectSuccess: false)
        #expect(cli.status == 3)
        #expect(cli.text == report.items.map { $0.line + "\n" }.joined())
        let signaturesOnly = try await layout.verify(requireAttestations: false)
        #expect(signaturesOnly.items.filter { !$0.passed }.map(\.kind) == [.signatures, .signatures, .attestations])
    }

    @Test("a corrupted payload blob fails its item; a corrupted image blob stops verification")
    func corruptedBlobs() async throws {
        let layout = try await SignedLayout()
        _ = try await layout.sign()
        let index = layout.fixture.image.index.descriptor.digest
        let store = try LayoutSignatureStore(directory: layout.directory)
        let artifact = try #require(try await store.artifact(tag: CosignArtifactKind.signatures.tag(for: index)))
        let payload = artifact.manifest.value.layers[0].digest
        let path = layout.scratch.path("layout/blobs/sha256/\(payload.hex)")
        var bytes = try layout.scratch.read("layout/blobs/sha256/\(payload.hex)")
        bytes[bytes.count / 2] ^= 0x20
        try FileManager.default.removeItem(atPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let report = try await layout.verify()
        let item = try #require(report.items.first)
        #expect(!item.passed)
        #expect(item.line.hasPrefix("FAIL sig \(index) (index): "))
        #expect(item.line.contains("content hashes to"))
        #expect(report.items.dropFirst().allSatisfy { $0.passed })

        let layer = layout.fixture.image.images[0].manifest.value.layers[0].digest
        let layerPath = layout.scratch.path("layout/blobs/sha256/\(layer.hex)")
        var layerBytes = try layout.scratch.read("layout/blobs/sha256/\(layer.hex)")
        layerBytes[layerBytes.count - 1] ^= 0x01
        try FileManager.default.removeItem(atPath: layerPath)
        try Data(layerBytes).write(to: URL(fileURLWithPath: layerPath))
        let error = await thrownSigningError { _ = try await layout.verify() }
        #expect(error?.kind == .image)
        #expect(error?.description.contains(layer.hex) == true)
    }
}
