import DistillCrypto
import Foundation
import OCI
import Signing
import TestSupport
import Testing

/// A decoder written here, independently of the library, with containers/image's strictness:
/// every object must have exactly the expected keys (unknown keys and missing `optional` fail).
private struct StrictPayload: Decodable {
    struct Critical: Decodable {
        struct Identity: Decodable {
            let dockerReference: String
            enum Keys: String, CodingKey { case dockerReference = "docker-reference" }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                try requireExactKeys(decoder, ["docker-reference"])
                dockerReference = try container.decode(String.self, forKey: .dockerReference)
            }
        }
        struct ImageDigest: Decodable {
            let digest: String
            enum Keys: String, CodingKey { case digest = "docker-manifest-digest" }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                try requireExactKeys(decoder, ["docker-manifest-digest"])
                digest = try container.decode(String.self, forKey: .digest)
            }
        }
        let identity: Identity
        let image: ImageDigest
        let type: String
        enum Keys: String, CodingKey { case identity, image, type }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            try requireExactKeys(decoder, ["identity", "image", "type"])
            identity = try container.decode(Identity.self, forKey: .identity)
            image = try container.decode(ImageDigest.self, forKey: .image)
            type = try container.decode(String.self, forKey: .type)
        }
    }
    let critical: Critical
    let optionalIsNull: Bool
    enum Keys: String, CodingKey { case critical, optional }
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        try requireExactKeys(decoder, ["critical", "optional"])
        critical = try container.decode(Critical.self, forKey: .critical)
        optionalIsNull = try container.decodeNil(forKey: .optional)
    }
}

private struct UnexpectedKeys: Error, CustomStringConvertible {
    let description: String
}

/// A container keyed by an enum lists only the keys the enum knows, so the keys are read
/// through a key type that accepts every string.
private func requireExactKeys(_ decoder: any Decoder, _ expected: Set<String>) throws {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    let present = Set(try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue))
    guard present == expected else {
        throw UnexpectedKeys(description: "keys \(present.sorted()) != \(expected.sorted())")
    }
}

/// A payload text for the table of rejected payloads.
struct RejectedPayload: Sendable, CustomTestStringConvertible {
    let name: String
    let json: String
    let complaint: String
    var testDescription: String { name }
}

@Suite("Simple-signing payload")
struct PayloadTests {
    static let digest = "sha256:c2679f183ff6b80e63d365f3713647185493db8feec55514a3fc1ef673dd5b8d"

    @Test("written byte for byte as cosign writes it")
    func exactBytes() throws {
        let payload = SimpleSigningPayload(dockerReference: "registry.example.com/team/app:1.0",
                                           manifestDigest: try OCIDigest.parse(Self.digest))
        let expected = #"{"critical":{"identity":{"docker-reference":"registry.example.com/team/app:1.0"},"image":{"docker-manifest-digest":"sha256:c2679f183ff6b80e63d365f3713647185493db8feec55514a3fc1ef673dd5b8d"},"type":"cosign container image signature"},"optional":null}"#
        #expect(String(decoding: payload.bytes, as: UTF8.self) == expected)
    }

    @Test("a signer's payloads pass a strict decoder that rejects unknown and missing keys")
    func strictDecoderAcceptsOurPayload() throws {
        let scratch = try ScratchDirectory()
        let key = try KeyPairFixture(named: "k", in: scratch)
        let signer = try ImageSigner(key: key.privateKey, dockerReference: ImageReference(parsing: "127.0.0.1:5000/team/app:1.0"))
        let layer = try signer.signatureLayer(for: try OCIDigest.parse(Self.digest))
        let decoded = try JSONDecoder().decode(StrictPayload.self, from: Data(layer.payload))
        #expect(decoded.critical.type == "cosign container image signature")
        #expect(decoded.critical.image.digest == Self.digest)
        #expect(decoded.critical.identity.dockerReference == "127.0.0.1:5000/team/app:1.0")
        #expect(decoded.optionalIsNull)
        // The decoder is strict: the capitalised key of cosign's spec example and a missing
        // `optional` both fail it, as they fail containers/image.
        let capital = String(decoding: layer.payload, as: UTF8.self).replacingOccurrences(of: "docker-manifest-digest", with: "Docker-manifest-digest")
        #expect(throws: (any Error).self) { try JSONDecoder().decode(StrictPayload.self, from: Data(capital.utf8)) }
        let noOptional = String(decoding: layer.payload, as: UTF8.self).replacingOccurrences(of: #","optional":null"#, with: "")
        #expect(throws: (any Error).self) { try JSONDecoder().decode(StrictPayload.self, from: Data(noOptional.utf8)) }
        // The same payload passes the library's own strict reader.
        let parsed = try SimpleSigningPayload.parse(layer.payload)
        #expect(parsed.manifestDigest.description == Self.digest)
        #expect(parsed.dockerReference == "127.0.0.1:5000/team/app:1.0")
        #expect(parsed.creator == nil && parsed.timestamp == nil)
    }

    static let critical = #""critical":{"identity":{"docker-reference":"r.example/a:1"},"image":{"docker-manifest-digest":"\#(digest)"},"type":"cosign container image signature"}"#

    static let rejected: [RejectedPayload] = [
        RejectedPayload(name: "optional missing", json: "{\(critical)}", complaint: "key \"optional\" is missing"),
        RejectedPayload(name: "extra top-level key", json: "{\(critical),\"optional\":null,\"extra\":1}", complaint: "unknown key \"extra\""),
        RejectedPayload(name: "extra key in critical",
                        json: #"{"critical":{"identity":{"docker-reference":"r.example/a:1"},"image":{"docker-manifest-digest":"\#(digest)"},"type":"cosign container image signature","x":1},"optional":null}"#,
                        complaint: "unknown key \"x\" in critical"),
        RejectedPayload(name: "capital Docker-manifest-digest",
                        json: #"{"critical":{"identity":{"docker-reference":"r.example/a:1"},"image":{"Docker-manifest-digest":"\#(digest)"},"type":"cosign container image signature"},"optional":null}"#,
                        complaint: "unknown key \"Docker-manifest-digest\""),
        RejectedPayload(name: "GPG signature type",
                        json: #"{"critical":{"identity":{"docker-reference":"r.example/a:1"},"image":{"docker-manifest-digest":"\#(digest)"},"type":"atomic container signature"},"optional":null}"#,
                        complaint: "critical.type is \"atomic container signature\""),
        RejectedPayload(name: "fractional timestamp", json: "{\(critical),\"optional\":{\"timestamp\":1.5}}",
                        complaint: "optional.timestamp is 1.5, not an integer"),
        RejectedPayload(name: "creator not a string", json: "{\(critical),\"optional\":{\"creator\":7}}",
                        complaint: "optional.creator is not a string"),
        RejectedPayload(name: "optional not an object", json: "{\(critical),\"optional\":[]}", complaint: "optional is not a JSON object"),
        RejectedPayload(name: "duplicate key", json: "{\(critical),\"optional\":null,\"optional\":null}", complaint: "duplicate object key"),
        RejectedPayload(name: "trailing data", json: "{\(critical),\"optional\":null} {}", complaint: "unexpected data after the JSON value"),
        RejectedPayload(name: "uppercase hex digest",
                        json: #"{"critical":{"identity":{"docker-reference":"r.example/a:1"},"image":{"docker-manifest-digest":"\#(digest.uppercased())"},"type":"cosign container image signature"},"optional":null}"#,
                        complaint: "docker-manifest-digest"),
        RejectedPayload(name: "identity not an object",
                        json: #"{"critical":{"identity":"r.example/a:1","image":{"docker-manifest-digest":"\#(digest)"},"type":"cosign container image signature"},"optional":null}"#,
                        complaint: "critical.identity is not a JSON object"),
    ]

    @Test("payloads containers/image refuses are refused, saying which rule", arguments: rejected)
    func rejectsWhatContainersImageRejects(_ row: RejectedPayload) async {
        let error = await thrownSigningError { _ = try SimpleSigningPayload.parse(Array(row.json.utf8)) }
        #expect(error?.kind == .invalidPayload)
        #expect(error?.message.contains(row.complaint) == true, "\(error?.message ?? "no error")")
    }

    @Test("podman's optional fields, integral exponents and pretty printing are accepted")
    func acceptsWhatContainersImageAccepts() throws {
        let podman = try SimpleSigningPayload.parse(Array("{\(Self.critical),\"optional\":{\"creator\":\"containers/image 5.30\",\"timestamp\":1700000000,\"other\":true}}".utf8))
        #expect(podman.creator == "containers/image 5.30")
        #expect(podman.timestamp == 1_700_000_000)
        #expect(try SimpleSigningPayload.parse(Array("{\(Self.critical),\"optional\":{\"timestamp\":1e3}}".utf8)).timestamp == 1000)
        let pretty = "{\n  \(Self.critical.replacingOccurrences(of: ",", with: ",\n    ")),\n  \"optional\": null\n}\n"
        #expect(try SimpleSigningPayload.parse(Array(pretty.utf8)).dockerReference == "r.example/a:1")
    }

    /// One key type, with how openssl verifies its signatures.
    struct KeyCase: Sendable, CustomTestStringConvertible {
        let algorithm: KeyAlgorithm
        let opensslVerify: [String]
        var testDescription: String { algorithm.rawValue }
    }

    static let keyCases: [KeyCase] = [
        KeyCase(algorithm: .ecdsaP256, opensslVerify: ["dgst", "-sha256", "-verify", "k.pub", "-signature", "sig.bin", "payload.json"]),
        KeyCase(algorithm: .rsa, opensslVerify: ["dgst", "-sha256", "-verify", "k.pub", "-signature", "sig.bin", "payload.json"]),
        KeyCase(algorithm: .ed25519, opensslVerify: ["pkeyutl", "-verify", "-pubin", "-inkey", "k.pub", "-rawin", "-in", "payload.json",
                                                     "-sigfile", "sig.bin"]),
    ]

    @Test("the signature annotation is standard base64 of a signature openssl verifies over the payload bytes", arguments: keyCases)
    func signatureVerifiesWithOpenSSL(_ keyCase: KeyCase) throws {
        let scratch = try ScratchDirectory()
        let key = try KeyPairFixture(keyCase.algorithm, named: "k", in: scratch)
        let signer = try ImageSigner(key: key.privateKey, dockerReference: ImageReference(parsing: "registry.example/team/app:2"))
        let layer = try signer.signatureLayer(for: try OCIDigest.parse(Self.digest))
        #expect(layer.mediaType == "application/vnd.dev.cosign.simplesigning.v1+json")
        let annotation = try #require(layer.annotations["dev.cosignproject.cosign/signature"])
        #expect(annotation.count % 4 == 0)
        let signature = try #require(Data(base64Encoded: annotation))
        try scratch.write("payload.json", layer.payload)
        try scratch.write("sig.bin", signature)
        let good = try ExternalTool.run("openssl", keyCase.opensslVerify, in: scratch, expectSuccess: false)
        #expect(good.status == 0, "\(good.text) \(good.standardError)")
        var tampered = layer.payload
        tampered[tampered.count - 3] ^= 0x01
        try scratch.write("payload.json", tampered)
        let bad = try ExternalTool.run("openssl", keyCase.opensslVerify, in: scratch, expectSuccess: false)
        #expect(bad.status != 0)
    }

    @Test("an identity without a tag is refused: containers/image's default policy would reject it")
    func identityNeedsTag() async throws {
        let scratch = try ScratchDirectory()
        let key = try KeyPairFixture(named: "k", in: scratch)
        let error = await thrownSigningError {
            _ = try ImageSigner(key: key.privateKey, dockerReference: ImageReference(parsing: "registry.example/app@\(Self.digest)"))
        }
        #expect(error?.kind == .invalidArgument)
        let signer = try ImageSigner(key: key.privateKey, dockerReference: ImageReference(parsing: "registry.example/app:1@\(Self.digest)"))
        #expect(signer.identity == "registry.example/app:1")
        #expect(signer.subjectName == "registry.example/app")
    }
}
