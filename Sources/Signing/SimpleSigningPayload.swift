import DistillCrypto
import OCI
import SBOM

/// The "simple signing" payload cosign signs for a manifest: which image (by digest) the signer
/// vouches for, under which name.
///
/// Written exactly as cosign writes it (compact, cosign's key order, `"optional":null`) and read
/// with containers/image's rules, the stricter of the two verifiers: exactly the keys
/// `critical` and `optional` at the top, exactly `identity`, `image` and `type` in `critical`,
/// the lowercase key `docker-manifest-digest`, no duplicates, nothing after the document.
public struct SimpleSigningPayload: Sendable, Hashable {
    /// The value of `critical.type` both verifiers require.
    public static let signatureType = "cosign container image signature"
    /// The largest payload read: containers/image reads each `.sig` layer with a 4 MiB limit.
    public static let maximumSize = 4 << 20

    /// `critical.identity.docker-reference`: the tagged reference the image is published as
    /// (`registry/ns/repo:tag`), which containers/image matches against what is pulled.
    public var dockerReference: String
    /// `critical.image.docker-manifest-digest`: the digest of the signed manifest's bytes.
    public var manifestDigest: Digest
    /// `optional.creator`, when the payload has one (podman writes it; Distill does not).
    public var creator: String?
    /// `optional.timestamp` in seconds since the epoch, when present (Distill writes none, so
    /// payloads stay reproducible).
    public var timestamp: Int64?

    /// A payload for `manifestDigest` under `dockerReference`, with `optional` null.
    public init(dockerReference: String, manifestDigest: Digest) {
        self.dockerReference = dockerReference
        self.manifestDigest = manifestDigest
    }

    /// The bytes that are stored as the `.sig` layer and signed:
    /// `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":null}`.
    /// Only a payload without creator and timestamp is ever written.
    public var bytes: [UInt8] {
        var output = Array(#"{"critical":{"identity":{"docker-reference":"#.utf8)
        output += JSONText.string(dockerReference)
        output += Array(#"},"image":{"docker-manifest-digest":"#.utf8)
        output += JSONText.string(manifestDigest.description)
        output += Array(#"},"type":"#.utf8)
        output += JSONText.string(Self.signatureType)
        output += Array(#"},"optional":null}"#.utf8)
        return output
    }

    /// Parses `bytes` with containers/image's rules (`signature/internal/sigstore_payload.go`):
    /// exact key sets, the signature type, a valid digest, `optional` null or an object whose
    /// `creator` is a string and whose `timestamp` is an integer. Throws `invalidPayload`
    /// naming the first rule broken.
    public static func parse(_ bytes: [UInt8]) throws(SigningError) -> SimpleSigningPayload {
        guard bytes.count <= maximumSize else {
            throw SigningError(.tooLarge, "payload is \(bytes.count) bytes, more than the \(maximumSize)-byte limit")
        }
        let document = try JSONObject(JSONText.parse(bytes, as: "payload", kind: .invalidPayload),
                                      path: "", kind: .invalidPayload)
        try document.requireExactly(["critical", "optional"])

        let critical = try document.object("critical")
        try critical.requireExactly(["type", "image", "identity"])
        let type = try critical.string("type")
        guard type == signatureType else {
            throw SigningError(.invalidPayload, "critical.type is \"\(type)\", expected \"\(signatureType)\"")
        }
        let image = try critical.object("image")
        try image.requireExactly(["docker-manifest-digest"])
        let digestText = try image.string("docker-manifest-digest")
        let digest: Digest
        do {
            digest = try OCIDigest.parse(digestText)
        } catch {
            throw SigningError(.invalidPayload, "critical.image.docker-manifest-digest: \(error.message)")
        }
        let identity = try critical.object("identity")
        try identity.requireExactly(["docker-reference"])
        var payload = SimpleSigningPayload(dockerReference: try identity.string("docker-reference"), manifestDigest: digest)

        let optional = try document.value("optional")
        if optional != .null {
            let members = try JSONObject(optional, path: "optional", kind: .invalidPayload)
            if let creator = members.members["creator"] {
                guard let text = creator.stringValue else {
                    throw SigningError(.invalidPayload, "optional.creator is not a string")
                }
                payload.creator = text
            }
            if let timestamp = members.members["timestamp"] {
                payload.timestamp = try integer(timestamp, field: "optional.timestamp")
            }
        }
        return payload
    }

    /// A JSON number that is an integer: containers/image decodes it as a float and refuses a
    /// fraction, so `1e3` passes and `1.5` does not.
    private static func integer(_ value: JSONValue, field: String) throws(SigningError) -> Int64 {
        guard case .number(let text) = value else {
            throw SigningError(.invalidPayload, "\(field) is not a number")
        }
        if let exact = Int64(text) { return exact }
        guard let number = Double(text), number.isFinite, number == number.rounded(),
              abs(number) < 9.2e18 else {
            throw SigningError(.invalidPayload, "\(field) is \(text), not an integer")
        }
        return Int64(number)
    }
}
