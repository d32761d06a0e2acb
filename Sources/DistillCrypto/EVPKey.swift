internal import COpenSSL

/// Owns one `EVP_PKEY`; the single place where key pointers are created and freed.
///
/// `@unchecked Sendable`: the key is never modified after it is created or loaded, and every
/// operation below creates, uses and frees its own `EVP_MD_CTX` / `EVP_PKEY_CTX` inside the call
/// (EVP_PKEY_CTX_new(3): contexts must not be shared between threads; a read-only `EVP_PKEY` may
/// be used by several threads at once).
final class EVPKey: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Takes ownership of a key OpenSSL just produced.
    private init(taking pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    // MARK: - What the key is

    /// OpenSSL's NID for the key type (`EVP_PKEY_RSA`, `EVP_PKEY_EC`, `EVP_PKEY_ED25519`, …).
    var typeID: Int32 { EVP_PKEY_get_base_id(pointer) }

    /// The key size in bits (the modulus for RSA, the field for EC).
    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// The largest signature this key produces, in bytes (exactly the modulus size for RSA).
    var maximumSignatureSize: Int { Int(EVP_PKEY_get_size(pointer)) }

    /// The curve name of an EC key as OpenSSL reports it (`prime256v1` for P-256), or nil.
    var curveName: String? {
        var buffer = [CChar](repeating: 0, count: 64)
        var length = 0
        let status = buffer.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_utf8_string_param(pointer, "group", $0.baseAddress, $0.count, &length)
        }
        guard status == 1 else {
            OpenSSLErrorQueue.clear()
            return nil
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// A readable name for messages: "RSA-2048", "EC prime256v1", "ED25519".
    var typeDescription: String {
        switch typeID {
        case EVP_PKEY_RSA: return "RSA-\(bits)"
        case EVP_PKEY_EC: return "EC \(curveName ?? "(unknown curve)")"
        case EVP_PKEY_ED25519: return "Ed25519"
        default:
            guard let name = OBJ_nid2sn(typeID) else { return "key type \(typeID)" }
            return String(cString: name)
        }
    }

    // MARK: - Reading DER

    /// A public key from a DER `SubjectPublicKeyInfo` (PEM `PUBLIC KEY`, any algorithm).
    static func publicKey(subjectPublicKeyInfo der: [UInt8]) throws(CryptoError) -> EVPKey {
        try decode(der, what: "SubjectPublicKeyInfo public key") { cursor, length in
            d2i_PUBKEY(nil, cursor, length)
        }
    }

    /// An RSA public key from a DER PKCS#1 `RSAPublicKey` (PEM `RSA PUBLIC KEY`).
    static func rsaPublicKey(pkcs1 der: [UInt8]) throws(CryptoError) -> EVPKey {
        try decode(der, what: "PKCS#1 RSA public key") { cursor, length in
            d2i_PublicKey(EVP_PKEY_RSA, nil, cursor, length)
        }
    }

    /// A private key from a DER PKCS#8 `PrivateKeyInfo` (PEM `PRIVATE KEY`, any algorithm).
    static func privateKey(pkcs8 der: [UInt8]) throws(CryptoError) -> EVPKey {
        OpenSSLErrorQueue.clear()
        let info: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            let info = d2i_PKCS8_PRIV_KEY_INFO(nil, &cursor, buffer.count)
            if let info, cursor != buffer.baseAddress.map({ $0 + buffer.count }) {
                PKCS8_PRIV_KEY_INFO_free(info)
                return nil
            }
            return info
        }
        guard let info else {
            throw CryptoError.openSSL(.invalidKey, "cannot read the PKCS#8 private key (\(der.count) DER bytes)")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        guard let key = EVP_PKCS82PKEY(info) else {
            throw CryptoError.openSSL(.invalidKey, "cannot read the key inside the PKCS#8 structure")
        }
        return EVPKey(taking: key)
    }

    /// A private key in its algorithm's own DER form: PKCS#1 `RSAPrivateKey` (PEM
    /// `RSA PRIVATE KEY`) or SEC 1 `ECPrivateKey` (PEM `EC PRIVATE KEY`).
    static func privateKey(typeSpecific der: [UInt8], type: Int32, what: String) throws(CryptoError) -> EVPKey {
        try decode(der, what: what) { cursor, length in
            d2i_PrivateKey(type, nil, cursor, length)
        }
    }

    /// Runs a `d2i_…` reader and insists that it used every byte: trailing garbage after a key
    /// means the input is not what it claims to be.
    private static func decode(
        _ der: [UInt8],
        what: String,
        _ reader: (UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?
    ) throws(CryptoError) -> EVPKey {
        OpenSSLErrorQueue.clear()
        var trailing = 0
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            guard let key = reader(&cursor, buffer.count) else { return nil }
            if let cursor, let base = buffer.baseAddress { trailing = buffer.count - (cursor - base) }
            return key
        }
        guard let key else {
            throw CryptoError.openSSL(.invalidKey, "cannot read the \(what) (\(der.count) DER bytes)")
        }
        guard trailing == 0 else {
            EVP_PKEY_free(key)
            throw CryptoError(.invalidKey, "the \(what) is followed by \(trailing) unexpected bytes")
        }
        return EVPKey(taking: key)
    }

    // MARK: - Writing DER

    /// The public half as DER `SubjectPublicKeyInfo`.
    func subjectPublicKeyInfo() throws(CryptoError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        let length = i2d_PUBKEY(pointer, nil)
        guard length > 0 else { throw CryptoError.openSSL(.openSSLFailure, "cannot encode the public key") }
        var output = [UInt8](repeating: 0, count: Int(length))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(pointer, &cursor)
        }
        guard written == length else { throw CryptoError.openSSL(.openSSLFailure, "cannot encode the public key") }
        return output
    }

    /// The private key as DER PKCS#8 `PrivateKeyInfo` (unencrypted).
    func pkcs8PrivateKeyInfo() throws(CryptoError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let info = EVP_PKEY2PKCS8(pointer) else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot convert the private key to PKCS#8")
        }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        let length = i2d_PKCS8_PRIV_KEY_INFO(info, nil)
        guard length > 0 else { throw CryptoError.openSSL(.openSSLFailure, "cannot encode the PKCS#8 private key") }
        var output = [UInt8](repeating: 0, count: Int(length))
        let written = output.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PKCS8_PRIV_KEY_INFO(info, &cursor)
        }
        guard written == length else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot encode the PKCS#8 private key")
        }
        return output
    }

    /// The public half as its own key, so a public key value never carries private material.
    func publicOnly() throws(CryptoError) -> EVPKey {
        try EVPKey.publicKey(subjectPublicKeyInfo: subjectPublicKeyInfo())
    }

    // MARK: - Generating

    /// Generates a key of the OpenSSL algorithm `name` ("RSA", "EC", "ED25519"); `configure`
    /// sets parameters on the keygen context and returns false if one is refused.
    static func generate(_ name: String, configure: (OpaquePointer) -> Bool) throws(CryptoError) -> EVPKey {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw CryptoError.openSSL(.openSSLFailure, "OpenSSL cannot generate \(name) keys")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1, configure(context) else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot set up \(name) key generation")
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw CryptoError.openSSL(.openSSLFailure, "\(name) key generation failed")
        }
        return EVPKey(taking: key)
    }

    // MARK: - Signing and verifying

    /// `EVP_DigestSign` over a whole message: hash with `digest` (nil for Ed25519, which hashes
    /// internally) and sign. `configure` adjusts the signing context (RSA padding).
    func sign(
        message: UnsafeRawBufferPointer,
        digest: DigestAlgorithm?,
        configure: (OpaquePointer) -> Bool = { _ in true }
    ) throws(CryptoError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.openSSL(.openSSLFailure, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestSignInit(context, &keyContext, digest?.method, nil, pointer) == 1,
            let keyContext, configure(keyContext)
        else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot start signing with the \(typeDescription) key")
        }
        let base = message.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, base, message.count) == 1 else {
            throw CryptoError.openSSL(.openSSLFailure, "signing with the \(typeDescription) key failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        let status = signature.withUnsafeMutableBufferPointer {
            EVP_DigestSign(context, $0.baseAddress, &length, base, message.count)
        }
        guard status == 1 else {
            throw CryptoError.openSSL(.openSSLFailure, "signing with the \(typeDescription) key failed")
        }
        signature.removeSubrange(length...)
        return signature
    }

    /// `EVP_DigestVerify` over a whole message. The caller has already checked that the
    /// signature is well-formed, so any non-success is a signature that does not match.
    func verify(
        signature: UnsafeRawBufferPointer,
        message: UnsafeRawBufferPointer,
        digest: DigestAlgorithm?,
        configure: (OpaquePointer) -> Bool = { _ in true }
    ) throws(CryptoError) -> Bool {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.openSSL(.openSSLFailure, "EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        guard EVP_DigestVerifyInit(context, &keyContext, digest?.method, nil, pointer) == 1,
            let keyContext, configure(keyContext)
        else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot start verifying with the \(typeDescription) key")
        }
        let status = EVP_DigestVerify(
            context,
            signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
            message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count
        )
        // A mismatch leaves reasons on the queue; they are not news to anyone.
        OpenSSLErrorQueue.clear()
        return status == 1
    }

    /// `EVP_PKEY_sign` over a digest the caller computed, with PKCS#1 v1.5 padding and the
    /// DigestInfo prefix of `digest.algorithm` (RSA only).
    func signRSA(digest: Digest) throws(CryptoError) -> [UInt8] {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new(pointer, nil) else {
            throw CryptoError.openSSL(.openSSLFailure, "EVP_PKEY_CTX_new failed")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_sign_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(context, digest.algorithm.method) == 1
        else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot start signing with the \(typeDescription) key")
        }
        var length = 0
        guard EVP_PKEY_sign(context, nil, &length, digest.bytes, digest.bytes.count) == 1 else {
            throw CryptoError.openSSL(.openSSLFailure, "signing with the \(typeDescription) key failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        let status = signature.withUnsafeMutableBufferPointer {
            EVP_PKEY_sign(context, $0.baseAddress, &length, digest.bytes, digest.bytes.count)
        }
        guard status == 1 else {
            throw CryptoError.openSSL(.openSSLFailure, "signing with the \(typeDescription) key failed")
        }
        signature.removeSubrange(length...)
        return signature
    }

    /// `EVP_PKEY_verify` of a PKCS#1 v1.5 signature over a digest the caller computed.
    func verifyRSA(signature: UnsafeRawBufferPointer, digest: Digest) throws(CryptoError) -> Bool {
        OpenSSLErrorQueue.clear()
        guard let context = EVP_PKEY_CTX_new(pointer, nil) else {
            throw CryptoError.openSSL(.openSSLFailure, "EVP_PKEY_CTX_new failed")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_verify_init(context) == 1,
            EVP_PKEY_CTX_set_rsa_padding(context, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(context, digest.algorithm.method) == 1
        else {
            throw CryptoError.openSSL(.openSSLFailure, "cannot start verifying with the \(typeDescription) key")
        }
        let status = EVP_PKEY_verify(
            context,
            signature.baseAddress?.assumingMemoryBound(to: UInt8.self), signature.count,
            digest.bytes, digest.bytes.count
        )
        OpenSSLErrorQueue.clear()
        return status == 1
    }
}
