import DistillCrypto
import SBOM

/// A DSSE envelope (secure-systems-lab/dsse): a typed payload and signatures over its
/// pre-authentication encoding, as cosign stores attestations in `.att` layers.
public struct DSSEEnvelope: Sendable, Hashable {
    /// One signature of the envelope.
    public struct Signature: Sendable, Hashable {
        /// The key hint (`""` for cosign key-based signatures; verifiers ignore it).
        public var keyID: String
        /// The signature bytes over ``DSSEEnvelope/preAuthenticationEncoding(payloadType:payload:)``.
        public var signature: [UInt8]

        /// A signature with a key hint.
        public init(keyID: String, signature: [UInt8]) {
            self.keyID = keyID
            self.signature = signature
        }
    }

    /// The payload type cosign requires of attestations.
    public static let inTotoPayloadType = "application/vnd.in-toto+json"
    /// The largest envelope read (cosign caps attachments at 128 MiB; SBOMs are far smaller).
    public static let maximumSize = 64 << 20

    /// What the payload is (`application/vnd.in-toto+json`).
    public var payloadType: String
    /// The payload bytes (stored base64-encoded).
    public var payload: [UInt8]
    /// The signatures.
    public var signatures: [Signature]

    /// An envelope as given.
    public init(payloadType: String, payload: [UInt8], signatures: [Signature]) {
        self.payloadType = payloadType
        self.payload = payload
        self.signatures = signatures
    }

    /// Signs `payload` of `payloadType` with `key` over the PAE, with an empty key id as cosign
    /// writes for key-based attestations.
    public static func sign(payloadType: String, payload: [UInt8], with key: PrivateKey) throws(SigningError) -> DSSEEnvelope {
        let signature: [UInt8]
        do {
            signature = try key.signature(for: preAuthenticationEncoding(payloadType: payloadType, payload: payload))
        } catch {
            throw SigningError(.signingFailed, "cannot sign the DSSE envelope: \(error.message)")
        }
        return DSSEEnvelope(payloadType: payloadType, payload: payload, signatures: [Signature(keyID: "", signature: signature)])
    }

    /// DSSE v1's PAE: `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII
    /// decimal byte counts. This, not the payload, is what gets signed.
    public static func preAuthenticationEncoding(payloadType: String, payload: [UInt8]) -> [UInt8] {
        var output = Array("DSSEv1 \(payloadType.utf8.count) \(payloadType) \(payload.count) ".utf8)
        output += payload
        return output
    }

    /// Whether any signature verifies with `key` over the PAE. Signatures that are not even
    /// well-formed for the key's type count as not verifying.
    public func isSigned(by key: PublicKey) -> Bool {
        let message = Self.preAuthenticationEncoding(payloadType: payloadType, payload: payload)
        return signatures.contains { (try? key.isValidSignature($0.signature, for: message)) == true }
    }

    /// The envelope as stored in the layer: compact, in the Go struct order
    /// (`payloadType`, `payload`, `signatures` of `keyid`, `sig`), standard base64 with padding.
    public var bytes: [UInt8] {
        var output = Array(#"{"payloadType":"#.utf8) + JSONText.string(payloadType)
        output += Array(#","payload":"#.utf8) + JSONText.string(Base64.encode(payload))
        output += Array(#","signatures":["#.utf8)
        for (index, signature) in signatures.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output += Array(#"{"keyid":"#.utf8) + JSONText.string(signature.keyID)
            output += Array(#","sig":"#.utf8) + JSONText.string(Base64.encode(signature.signature)) + [UInt8(ascii: "}")]
        }
        output += Array("]}".utf8)
        return output
    }

    /// Parses an envelope: `payloadType` and `payload` strings, `signatures` an array of objects
    /// with a `sig` string (and optionally `keyid`), base64 decoded as cosign does (standard
    /// alphabet, padded). Unknown members are ignored, as Go's decoder ignores them.
    public static func parse(_ bytes: [UInt8]) throws(SigningError) -> DSSEEnvelope {
        guard bytes.count <= maximumSize else {
            throw SigningError(.tooLarge, "DSSE envelope is \(bytes.count) bytes, more than the \(maximumSize)-byte limit")
        }
        let document = try JSONObject(JSONText.parse(bytes, as: "DSSE envelope", kind: .invalidEnvelope),
                                      path: "", kind: .invalidEnvelope)
        let payloadType = try document.string("payloadType")
        let payload = try decodeBase64(try document.string("payload"), field: "payload")
        var signatures: [Signature] = []
        for (index, element) in try document.array("signatures").enumerated() {
            let entry = try JSONObject(element, path: "signatures.\(index)", kind: .invalidEnvelope)
            let keyID = entry.members["keyid"] == nil ? "" : try entry.string("keyid")
            signatures.append(Signature(keyID: keyID, signature: try decodeBase64(try entry.string("sig"), field: entry.pathOf("sig"))))
        }
        guard !signatures.isEmpty else {
            throw SigningError(.invalidEnvelope, "DSSE envelope has no signatures")
        }
        return DSSEEnvelope(payloadType: payloadType, payload: payload, signatures: signatures)
    }

    private static func decodeBase64(_ text: String, field: String) throws(SigningError) -> [UInt8] {
        do {
            return try Base64.decode(text)
        } catch {
            throw SigningError(.invalidEnvelope, "\(field) is not standard base64: \(error.message)")
        }
    }
}
