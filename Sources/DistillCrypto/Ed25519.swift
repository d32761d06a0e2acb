internal import COpenSSL

/// An Ed25519 public key (pure Ed25519, RFC 8032: the message is signed as is, no prehash),
/// which is what cosign and containers/image verify for `--key` Ed25519 keys.
///
/// Equal keys have equal `SubjectPublicKeyInfo` DER.
public struct Ed25519PublicKey: Sendable, Hashable {
    let key: EVPKey
    /// DER `SubjectPublicKeyInfo`, the key's identity and export form.
    public let derRepresentation: [UInt8]

    /// The length of every Ed25519 signature.
    public static let signatureByteCount = 64

    /// Reads PEM `PUBLIC KEY` (PKIX). Throws `wrongKeyType` for a key that is not Ed25519.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.publicKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    /// Reads DER `SubjectPublicKeyInfo`.
    public init(derRepresentation: [UInt8]) throws(CryptoError) {
        try self.init(checking: EVPKey.publicKey(subjectPublicKeyInfo: derRepresentation))
    }

    init(checking key: EVPKey) throws(CryptoError) {
        try KeyLoader.require(key, type: EVP_PKEY_ED25519, "an Ed25519 public key")
        self.key = key
        self.derRepresentation = try key.subjectPublicKeyInfo()
    }

    /// PEM `PUBLIC KEY` (PKIX).
    public var pemRepresentation: String {
        PEMDocument(label: "PUBLIC KEY", der: derRepresentation).pemRepresentation
    }

    /// Verifies a pure Ed25519 signature over `message`. Returns false for a 64-byte signature
    /// that does not match; throws `malformedSignature` for any other length.
    public func isValidSignature(
        _ signature: some Sequence<UInt8>,
        for message: some Sequence<UInt8>
    ) throws(CryptoError) -> Bool {
        try withBytes(signature) { (signatureBuffer) throws(CryptoError) -> Bool in
            guard signatureBuffer.count == Self.signatureByteCount else {
                throw CryptoError(
                    .malformedSignature,
                    "Ed25519 signature is \(signatureBuffer.count) bytes, not \(Self.signatureByteCount)"
                )
            }
            return try withBytes(message) { (messageBuffer) throws(CryptoError) -> Bool in
                try key.verify(signature: signatureBuffer, message: messageBuffer, digest: nil)
            }
        }
    }

    /// Keys are equal when their SubjectPublicKeyInfo DER is.
    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.derRepresentation == rhs.derRepresentation
    }

    /// Hashes the SubjectPublicKeyInfo DER, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(derRepresentation)
    }
}

/// An Ed25519 private key.
public struct Ed25519PrivateKey: Sendable {
    let key: EVPKey
    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    /// Reads PEM `PRIVATE KEY` (PKCS#8, the only standard form for Ed25519 private keys).
    /// Throws `wrongKeyType` for a key that is not Ed25519.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.privateKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    init(checking key: EVPKey) throws(CryptoError) {
        try KeyLoader.require(key, type: EVP_PKEY_ED25519, "an Ed25519 private key")
        self.key = key
        self.publicKey = try Ed25519PublicKey(checking: key.publicOnly())
    }

    /// Generates a new key.
    public static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(checking: EVPKey.generate("ED25519") { _ in true })
    }

    /// PEM `PRIVATE KEY` (unencrypted PKCS#8).
    public var pemRepresentation: String {
        get throws(CryptoError) {
            try PEMDocument(label: "PRIVATE KEY", der: key.pkcs8PrivateKeyInfo()).pemRepresentation
        }
    }

    /// Signs `message` with pure Ed25519 (deterministic: the same message gives the same
    /// 64 bytes).
    public func signature(for message: some Sequence<UInt8>) throws(CryptoError) -> [UInt8] {
        try withBytes(message) { (buffer) throws(CryptoError) -> [UInt8] in
            // Ed25519 hashes internally, so EVP_DigestSign gets no digest (NULL md).
            try key.sign(message: buffer, digest: nil)
        }
    }
}
