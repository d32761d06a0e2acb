internal import COpenSSL

/// An RSA public key for PKCS#1 v1.5 signatures: apk's `.SIGN.RSA` (SHA-1), `.SIGN.RSA256`
/// (SHA-256), `.SIGN.RSA512` (SHA-512), and cosign's RSA keys (SHA-256).
///
/// Equal keys have equal `SubjectPublicKeyInfo` DER.
public struct RSAPublicKey: Sendable, Hashable {
    let key: EVPKey
    /// DER `SubjectPublicKeyInfo`, kept because it is the key's identity and its export form.
    public let derRepresentation: [UInt8]

    /// Reads PEM `PUBLIC KEY` (PKIX `SubjectPublicKeyInfo`, what apk keyrings and
    /// `openssl rsa -pubout` hold) or `RSA PUBLIC KEY` (PKCS#1, `openssl rsa -RSAPublicKey_out`).
    /// Throws `invalidPEM`, `invalidKey`, or `wrongKeyType` for a non-RSA key.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.publicKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    /// Reads DER `SubjectPublicKeyInfo`.
    public init(derRepresentation: [UInt8]) throws(CryptoError) {
        try self.init(checking: EVPKey.publicKey(subjectPublicKeyInfo: derRepresentation))
    }

    init(checking key: EVPKey) throws(CryptoError) {
        try KeyLoader.require(key, type: EVP_PKEY_RSA, "an RSA public key")
        self.key = key
        self.derRepresentation = try key.subjectPublicKeyInfo()
    }

    /// PEM `PUBLIC KEY` (PKIX), the form apk keyrings and cosign use.
    public var pemRepresentation: String {
        PEMDocument(label: "PUBLIC KEY", der: derRepresentation).pemRepresentation
    }

    /// The modulus size in bits.
    public var bitCount: Int { key.bits }

    /// The length every signature by this key has: the modulus size in bytes.
    public var signatureByteCount: Int { key.maximumSignatureSize }

    /// Verifies a PKCS#1 v1.5 signature over `message` hashed with `digest`.
    ///
    /// Returns false for a signature that does not match; throws `malformedSignature` when the
    /// signature's length is not ``signatureByteCount`` (including an empty signature), because
    /// such bytes cannot be a signature by this key at all.
    public func isValidSignature(
        _ signature: some Sequence<UInt8>,
        for message: some Sequence<UInt8>,
        digest: DigestAlgorithm
    ) throws(CryptoError) -> Bool {
        try withBytes(signature) { (signatureBuffer) throws(CryptoError) -> Bool in
            try checkLength(signatureBuffer)
            return try withBytes(message) { (messageBuffer) throws(CryptoError) -> Bool in
                try key.verify(signature: signatureBuffer, message: messageBuffer, digest: digest, configure: pkcs1Padding)
            }
        }
    }

    /// Verifies a PKCS#1 v1.5 signature over a digest the caller computed while streaming (an
    /// APKINDEX's signature covers the rest of the file). Same verdicts as the message form.
    public func isValidSignature(_ signature: some Sequence<UInt8>, for digest: Digest) throws(CryptoError) -> Bool {
        try withBytes(signature) { (signatureBuffer) throws(CryptoError) -> Bool in
            try checkLength(signatureBuffer)
            return try key.verifyRSA(signature: signatureBuffer, digest: digest)
        }
    }

    private func checkLength(_ signature: UnsafeRawBufferPointer) throws(CryptoError) {
        guard signature.count == signatureByteCount else {
            throw CryptoError(
                .malformedSignature,
                "RSA signature is \(signature.count) bytes, the \(bitCount)-bit key needs \(signatureByteCount)"
            )
        }
    }

    /// Keys are equal when their SubjectPublicKeyInfo DER is.
    public static func == (lhs: RSAPublicKey, rhs: RSAPublicKey) -> Bool {
        lhs.derRepresentation == rhs.derRepresentation
    }

    /// Hashes the SubjectPublicKeyInfo DER, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(derRepresentation)
    }
}

/// An RSA private key that makes PKCS#1 v1.5 signatures.
public struct RSAPrivateKey: Sendable {
    let key: EVPKey
    /// The matching public key.
    public let publicKey: RSAPublicKey

    /// The key sizes ``generate(bitCount:)`` accepts (cosign's menu; apk keys are 2048 or 4096).
    public static let generatableBitCounts: [Int] = [2048, 3072, 4096]

    /// Reads PEM `RSA PRIVATE KEY` (PKCS#1, `openssl genrsa -traditional`) or `PRIVATE KEY`
    /// (PKCS#8, what `openssl genrsa` writes today). Encrypted keys are refused (`invalidPEM`);
    /// a non-RSA key throws `wrongKeyType`.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.privateKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    init(checking key: EVPKey) throws(CryptoError) {
        try KeyLoader.require(key, type: EVP_PKEY_RSA, "an RSA private key")
        self.key = key
        self.publicKey = try RSAPublicKey(checking: key.publicOnly())
    }

    /// Generates a new key with public exponent 65537; `bitCount` must be one of
    /// ``generatableBitCounts``.
    public static func generate(bitCount: Int = 2048) throws(CryptoError) -> RSAPrivateKey {
        guard generatableBitCounts.contains(bitCount) else {
            throw CryptoError(
                .unsupportedParameter,
                "RSA keys are generated with \(generatableBitCounts.map(String.init).joined(separator: ", ")) bits, not \(bitCount)"
            )
        }
        let key = try EVPKey.generate("RSA") { EVP_PKEY_CTX_set_rsa_keygen_bits($0, Int32(bitCount)) == 1 }
        return try RSAPrivateKey(checking: key)
    }

    /// PEM `PRIVATE KEY` (unencrypted PKCS#8).
    public var pemRepresentation: String {
        get throws(CryptoError) {
            try PEMDocument(label: "PRIVATE KEY", der: key.pkcs8PrivateKeyInfo()).pemRepresentation
        }
    }

    /// The modulus size in bits.
    public var bitCount: Int { key.bits }

    /// Signs `message` hashed with `digest`, PKCS#1 v1.5; the result is ``RSAPublicKey/signatureByteCount`` bytes.
    public func signature(for message: some Sequence<UInt8>, digest: DigestAlgorithm) throws(CryptoError) -> [UInt8] {
        try withBytes(message) { (buffer) throws(CryptoError) -> [UInt8] in
            try key.sign(message: buffer, digest: digest, configure: pkcs1Padding)
        }
    }

    /// Signs a digest the caller computed (for data hashed while streaming), PKCS#1 v1.5.
    public func signature(for digest: Digest) throws(CryptoError) -> [UInt8] {
        try key.signRSA(digest: digest)
    }
}

/// Pins PKCS#1 v1.5 rather than relying on OpenSSL's default padding for RSA keys.
private func pkcs1Padding(_ context: OpaquePointer) -> Bool {
    EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1
}
