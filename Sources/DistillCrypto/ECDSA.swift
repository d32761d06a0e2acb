internal import COpenSSL

/// An ECDSA public key on NIST P-256, the scheme every cosign verifier must support; signatures
/// are over SHA-256 of the message.
///
/// Equal keys have equal `SubjectPublicKeyInfo` DER.
public struct P256PublicKey: Sendable, Hashable {
    let key: EVPKey
    /// DER `SubjectPublicKeyInfo`, the key's identity and export form.
    public let derRepresentation: [UInt8]

    /// Reads PEM `PUBLIC KEY` (PKIX), the form `cosign generate-key-pair` writes. Throws
    /// `wrongKeyType` for a key that is not ECDSA on P-256.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.publicKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    /// Reads DER `SubjectPublicKeyInfo`.
    public init(derRepresentation: [UInt8]) throws(CryptoError) {
        try self.init(checking: EVPKey.publicKey(subjectPublicKeyInfo: derRepresentation))
    }

    init(checking key: EVPKey) throws(CryptoError) {
        try KeyLoader.requireP256(key, "an ECDSA P-256 public key")
        self.key = key
        self.derRepresentation = try key.subjectPublicKeyInfo()
    }

    /// PEM `PUBLIC KEY` (PKIX).
    public var pemRepresentation: String {
        PEMDocument(label: "PUBLIC KEY", der: derRepresentation).pemRepresentation
    }

    /// Verifies an ECDSA signature over SHA-256 of `message`, accepting the signature as ASN.1
    /// DER `SEQUENCE { r, s }` or, as cosign and containers/image do, as raw 64-byte `r‖s`.
    ///
    /// Returns false for a well-formed signature that does not match; throws
    /// `malformedSignature` for bytes that are neither strict DER nor 64 bytes long.
    public func isValidSignature(
        _ signature: some Sequence<UInt8>,
        for message: some Sequence<UInt8>
    ) throws(CryptoError) -> Bool {
        let der = try ECDSASignature.derEncoded(Array(signature))
        return try withBytes(message) { (messageBuffer) throws(CryptoError) -> Bool in
            try withBytes(der) { (signatureBuffer) throws(CryptoError) -> Bool in
                try key.verify(signature: signatureBuffer, message: messageBuffer, digest: .sha256)
            }
        }
    }

    /// Keys are equal when their SubjectPublicKeyInfo DER is.
    public static func == (lhs: P256PublicKey, rhs: P256PublicKey) -> Bool {
        lhs.derRepresentation == rhs.derRepresentation
    }

    /// Hashes the SubjectPublicKeyInfo DER, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(derRepresentation)
    }
}

/// An ECDSA private key on NIST P-256 (cosign's default key type).
public struct P256PrivateKey: Sendable {
    let key: EVPKey
    /// The matching public key.
    public let publicKey: P256PublicKey

    /// Reads PEM `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC 1, `openssl ecparam -genkey`).
    /// Throws `wrongKeyType` for a key that is not ECDSA on P-256.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.privateKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    init(checking key: EVPKey) throws(CryptoError) {
        try KeyLoader.requireP256(key, "an ECDSA P-256 private key")
        self.key = key
        self.publicKey = try P256PublicKey(checking: key.publicOnly())
    }

    /// Generates a new key.
    public static func generate() throws(CryptoError) -> P256PrivateKey {
        let key = try EVPKey.generate("EC") { EVP_PKEY_CTX_set_group_name($0, "P-256") == 1 }
        return try P256PrivateKey(checking: key)
    }

    /// PEM `PRIVATE KEY` (unencrypted PKCS#8).
    public var pemRepresentation: String {
        get throws(CryptoError) {
            try PEMDocument(label: "PRIVATE KEY", der: key.pkcs8PrivateKeyInfo()).pemRepresentation
        }
    }

    /// Signs SHA-256 of `message`; the result is ASN.1 DER (ECDSA is randomized, so two
    /// signatures of the same message differ).
    public func signature(for message: some Sequence<UInt8>) throws(CryptoError) -> [UInt8] {
        try withBytes(message) { (buffer) throws(CryptoError) -> [UInt8] in
            try key.sign(message: buffer, digest: .sha256)
        }
    }
}

/// Converts between the two ECDSA signature encodings verifiers meet.
enum ECDSASignature {
    /// The byte length of one P-256 coordinate, so raw `r‖s` is twice this.
    static let coordinateByteCount = 32

    /// The signature as strict DER: DER input is returned as is, raw `r‖s` is converted. Strict
    /// means OpenSSL re-encodes it to the same bytes (Go's verifier parses DER strictly too).
    static func derEncoded(_ signature: [UInt8]) throws(CryptoError) -> [UInt8] {
        if isStrictDER(signature) { return signature }
        guard signature.count == 2 * coordinateByteCount else {
            throw CryptoError(
                .malformedSignature,
                "ECDSA signature (\(signature.count) bytes) is neither DER nor raw 64-byte r‖s"
            )
        }
        return try derFromRaw(signature)
    }

    private static func isStrictDER(_ signature: [UInt8]) -> Bool {
        guard !signature.isEmpty else { return false }
        let parsed: OpaquePointer? = signature.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            guard let parsed = d2i_ECDSA_SIG(nil, &cursor, buffer.count) else { return nil }
            if cursor != buffer.baseAddress.map({ $0 + buffer.count }) {
                ECDSA_SIG_free(parsed)
                return nil
            }
            return parsed
        }
        // A failed parse is expected for raw signatures; do not leave it for the next caller.
        OpenSSLErrorQueue.clear()
        guard let parsed else { return false }
        defer { ECDSA_SIG_free(parsed) }
        return encode(parsed) == signature
    }

    private static func derFromRaw(_ raw: [UInt8]) throws(CryptoError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let signature = ECDSA_SIG_new() else { throw CryptoError.openSSL(.openSSLFailure, "ECDSA_SIG_new failed") }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32(coordinateByteCount), nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress! + coordinateByteCount, Int32(coordinateByteCount), nil) }
        guard let r, let s else {
            BN_free(r)
            BN_free(s)
            throw CryptoError.openSSL(.openSSLFailure, "BN_bin2bn failed")
        }
        // ECDSA_SIG_set0 takes ownership of r and s on success only.
        guard ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            throw CryptoError.openSSL(.openSSLFailure, "ECDSA_SIG_set0 failed")
        }
        guard let der = encode(signature) else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot DER-encode the ECDSA signature")
        }
        return der
    }

    private static func encode(_ signature: OpaquePointer) -> [UInt8]? {
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var output = [UInt8](repeating: 0, count: Int(length))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? output : nil
    }
}
