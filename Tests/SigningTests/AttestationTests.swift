import DistillCrypto
import Foundation
import OCI
import Signing
import TestSupport
import Testing

@Suite("DSSE envelopes and in-toto SPDX statements")
struct AttestationTests {
    @Test("PAE is the DSSE v1 encoding (the spec's example)")
    func preAuthenticationEncoding() {
        let pae = DSSEEnvelope.preAuthenticationEncoding(payloadType: "http://example.com/HelloWorld", payload: Array("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
        let empty = DSSEEnvelope.preAuthenticationEncoding(payloadType: "", payload: [])
        #expect(String(decoding: empty, as: UTF8.self) == "DSSEv1 0  0 ")
    }

    @Test("an attestation layer: envelope signed over PAE (checked by openssl), statement as cosign writes it")
    func attestationLayer() throws {
        let scratch = try ScratchDirectory()
        let fixture = try SignedImageFixture(in: scratch, repository: "registry.example/team/app", tag: "1.0")
        let key = try KeyPairFixture(named: "k", in: scratch)
        let signer = try ImageSigner(key: key.privateKey, dockerReference: ImageReference(parsing: "registry.example/team/app:1.0"))
        let platform = fixture.image.images[0].manifest.descriptor.digest
        let layer = try signer.attestationLayer(for: platform, sbom: fixture.sboms[platform]!)

        #expect(layer.mediaType == "application/vnd.dsse.envelope.v1+json")
        #expect(layer.annotations == ["dev.cosignproject.cosign/signature": "", "predicateType": "https://spdx.dev/Document"])

        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(layer.payload)) as? [String: Any])
        #expect(Set(envelope.keys) == ["payloadType", "payload", "signatures"])
        #expect(envelope["payloadType"] as? String == "application/vnd.in-toto+json")
        let signatures = try #require(envelope["signatures"] as? [[String: String]])
        #expect(signatures.count == 1)
        #expect(signatures[0]["keyid"] == "")
        let payloadText = try #require(envelope["payload"] as? String)
        let signatureText = try #require(signatures[0]["sig"])
        let statementBytes = try #require(Data(base64Encoded: payloadText))
        let signature = try #require(Data(base64Encoded: signatureText))

        // openssl checks the signature over PAE(type, statement), not over the statement.
        try scratch.write("pae.bin", DSSEEnvelope.preAuthenticationEncoding(payloadType: "application/vnd.in-toto+json",
                                                                             payload: [UInt8](statementBytes)))
        try scratch.write("statement.json", statementBytes)
        try scratch.write("sig.bin", signature)
        #expect(try ExternalTool.openssl("dgst", "-sha256", "-verify", key.publicPath, "-signature", "sig.bin", "pae.bin",
                                         in: scratch, expectSuccess: false).status == 0)
        #expect(try ExternalTool.openssl("dgst", "-sha256", "-verify", key.publicPath, "-signature", "sig.bin", "statement.json",
                                         in: scratch, expectSuccess: false).status != 0)

        let statement = try #require(try JSONSerialization.jsonObject(with: statementBytes) as? [String: Any])
        #expect(statement["_type"] as? String == "https://in-toto.io/Statement/v0.1")
        #expect(statement["predicateType"] as? String == "https://spdx.dev/Document")
        let subjects = try #require(statement["subject"] as? [[String: Any]])
        #expect(subjects.count == 1)
        #expect(subjects[0]["name"] as? String == "registry.example/team/app")
        #expect(subjects[0]["digest"] as? [String: String] == ["sha256": platform.hex])
        // The predicate is the SBOM itself, value for value.
        let predicate = try #require(statement["predicate"] as? NSDictionary)
        let sbom = try #require(try JSONSerialization.jsonObject(with: Data(fixture.sboms[platform]!)) as? NSDictionary)
        #expect(predicate == sbom)
        // Compact: the pretty-printed SBOM lost its layout whitespace, nothing else.
        #expect(!statementBytes.contains(UInt8(ascii: "\n")))

        let parsed = try DSSEEnvelope.parse(layer.payload)
        #expect(parsed.isSigned(by: key.publicKey))
        #expect(!parsed.isSigned(by: try PrivateKey.generate(.ecdsaP256).publicKey))
        var tampered = parsed
        tampered.payload[10] ^= 0x01
        #expect(!tampered.isSigned(by: key.publicKey))
    }

    /// An SBOM the statement builder must refuse.
    struct BadSBOM: Sendable, CustomTestStringConvertible {
        let name: String
        let edit: @Sendable (String) -> String
        let complaint: String
        var testDescription: String { name }
    }

    static let badSBOMs: [BadSBOM] = [
        BadSBOM(name: "not JSON", edit: { _ in "SPDXVersion: SPDX-2.3\n" }, complaint: "SBOM is not valid JSON"),
        BadSBOM(name: "SPDX 2.2", edit: { $0.replacingOccurrences(of: "\"SPDX-2.3\"", with: "\"SPDX-2.2\"") },
                complaint: "spdxVersion is \"SPDX-2.2\""),
        BadSBOM(name: "fractional created", edit: { $0.replacingOccurrences(of: "T22:13:20Z", with: "T22:13:20.5Z") },
                complaint: "creationInfo.created"),
        BadSBOM(name: "package without name", edit: { $0.replacingOccurrences(of: "\"name\": \"package-x\"", with: "\"nom\": \"package-x\"") },
                complaint: "key \"packages."),
    ]

    @Test("SBOMs that are not SPDX 2.3 JSON are refused before anything is signed", arguments: badSBOMs)
    func refusesNonSPDX(_ row: BadSBOM) async throws {
        let scratch = try ScratchDirectory()
        let fixture = try SignedImageFixture(in: scratch, repository: "registry.example/team/app", tag: "1.0")
        let platform = fixture.image.images[0].manifest.descriptor.digest
        let edited = Array(row.edit(String(decoding: fixture.sboms[platform]!, as: UTF8.self)).utf8)
        let error = await thrownSigningError {
            _ = try InTotoStatement.spdx(repository: "registry.example/team/app", manifestDigest: platform, spdxDocument: edited)
        }
        #expect(error?.kind == .invalidSBOM)
        #expect(error?.message.contains(row.complaint) == true, "\(error?.description ?? "no error")")
    }

    @Test("an SBOM that describes another image (a stale one) is refused")
    func refusesStaleSBOM() async throws {
        let scratch = try ScratchDirectory()
        let fixture = try SignedImageFixture(in: scratch, repository: "registry.example/team/app", tag: "1.0")
        let amd = fixture.image.images[0].manifest.descriptor.digest
        let arm = fixture.image.images[1].manifest.descriptor.digest
        let error = await thrownSigningError {
            _ = try InTotoStatement.spdx(repository: "registry.example/team/app", manifestDigest: arm, spdxDocument: fixture.sboms[amd]!)
        }
        #expect(error?.kind == .invalidSBOM)
        #expect(error?.message == "the SBOM describes \(amd), not \(arm)")
        // The index SBOM names the index.
        let index = fixture.image.index.descriptor.digest
        #expect(throws: Never.self) {
            _ = try InTotoStatement.spdx(repository: "registry.example/team/app", manifestDigest: index, spdxDocument: fixture.sboms[index]!)
        }
    }

    @Test("envelopes with bad base64 or no signatures are refused")
    func malformedEnvelopes() async {
        for text in [#"{"payloadType":"application/vnd.in-toto+json","payload":"e30","signatures":[{"sig":"AAAA"}]}"#,
                     #"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA-_"}]}"#,
                     #"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#] {
            let error = await thrownSigningError { _ = try DSSEEnvelope.parse(Array(text.utf8)) }
            #expect(error?.kind == .invalidEnvelope, "\(text)")
        }
    }
}

@Suite("Signature and attestation manifests")
struct ArtifactTests {
    /// A payload digest and the config cosign wrote for it (reference/signing-sbom.md §1.4 and
    /// reference/tools.md §6.2, both captured from real cosign-shaped artifacts).
    struct KnownConfig: Sendable, CustomTestStringConvertible {
        let diffID: String
        let configDigest: String
        var testDescription: String { diffID }
    }

    @Test("the config blob is byte for byte cosign's", arguments: [
        KnownConfig(diffID: "sha256:31895d921dfbad3bb43c77fd5d2214cf0f8040ccd275d4930d55a6be2e1f680a",
                    configDigest: "sha256:08cb6a909db0ed6e1e580f12a84a924653953e44543a0623da682b81cf107388"),
        KnownConfig(diffID: "sha256:2413198334ebdbcf0cffa8023c6fe3e43c66dc10e52bc25ddf0059a396c1180f",
                    configDigest: "sha256:af02e170976aa3fb8cfdd42dd05c560e1e77dce5cdeae890701c8ce90ce8a9eb"),
    ])
    func configMatchesCosign(_ known: KnownConfig) throws {
        let bytes = CosignArtifact.configBytes(diffIDs: [try OCIDigest.parse(known.diffID)])
        #expect(bytes.count == 233)
        #expect(OCIDigest.sha256(bytes).description == known.configDigest)
    }

    @Test("the .sig manifest: OCI media types, one layer per signature, tag sha256-<hex>.sig")
    func signatureManifest() throws {
        let scratch = try ScratchDirectory()
        let first = try KeyPairFixture(named: "a", in: scratch)
        let second = try KeyPairFixture(.rsa, named: "b", in: scratch)
        let digest = try OCIDigest.parse(PayloadTests.digest)
        let reference = try ImageReference(parsing: "registry.example/team/app:1.0")
        let layers = [try ImageSigner(key: first.privateKey, dockerReference: reference).signatureLayer(for: digest),
                      try ImageSigner(key: second.privateKey, dockerReference: reference).signatureLayer(for: digest)]
        let artifact = try CosignArtifact.image(layers: layers)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(artifact.manifest.bytes)) as? [String: Any])
        #expect(manifest["schemaVersion"] as? Int == 2)
        #expect(manifest["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
        let config = try #require(manifest["config"] as? [String: Any])
        #expect(config["mediaType"] as? String == "application/vnd.oci.image.config.v1+json")
        let manifestLayers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(manifestLayers.map { $0["mediaType"] as? String } == Array(repeating: "application/vnd.dev.cosign.simplesigning.v1+json", count: 2))
        #expect(manifestLayers.map { $0["digest"] as? String } == layers.map(\.descriptor.digest.description))
        // Two signers of the same payload share its blob.
        #expect(Set(artifact.blobs.map(\.descriptor.digest)).count == 2)
        let configBlob = artifact.blobs[0]
        guard case .bytes(let configBytes) = configBlob.content else {
            Issue.record("the config is not in memory")
            return
        }
        #expect(String(decoding: configBytes, as: UTF8.self).contains("\"diff_ids\":[\"\(layers[0].descriptor.digest)\",\"\(layers[1].descriptor.digest)\"]"))
        #expect(CosignArtifactKind.signatures.tag(for: digest) == "sha256-\(digest.hex).sig")
        #expect(CosignArtifactKind.attestations.tag(for: digest) == "sha256-\(digest.hex).att")
        #expect(try CosignArtifact.layers(of: artifact) == layers)
    }
}
