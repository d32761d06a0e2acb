internal import COpenSSL

/// The signature schemes Distill signs and verifies with.
public enum KeyAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// RSA with PKCS#1 v1.5 padding.
    case rsa
    /// ECDSA on NIST P-256 with SHA-256.
    case ecdsaP256 = "ecdsa-p256"
    /// Pure Ed25519.
    case ed25519

    /// The raw value: `rsa`, `ecdsa-p256` or `ed25519`.
    public var description: String { rawValue }
}

/// A private key of any supported type, detected when it is loaded, for code that signs
/// whatever key the user hands it (cosign-style image signing).
public struct PrivateKey: Sendable {
    private enum Storage: Sendable {
        case rsa(RSAPrivateKey)
        case ecdsaP256(P256PrivateKey)
        case ed25519(Ed25519PrivateKey)
    }

    private let storage: Storage

    /// Wraps an RSA key.
    public init(_ key: RSAPrivateKey) { storage = .rsa(key) }
    /// Wraps an ECDSA P-256 key.
    public init(_ key: P256PrivateKey) { storage = .ecdsaP256(key) }
    /// Wraps an Ed25519 key.
    public init(_ key: Ed25519PrivateKey) { storage = .ed25519(key) }

    /// Reads PEM `PRIVATE KEY` (PKCS#8, any supported type), `RSA PRIVATE KEY` (PKCS#1) or
    /// `EC PRIVATE KEY` (SEC 1) and detects the type. Throws `wrongKeyType` for keys of other
    /// types (DSA, EC curves other than P-256, Ed448, …).
    public init(pemRepresentation: String) throws(CryptoError) {
        let key = try KeyLoader.privateKey(pem: PEMDocument(pemRepresentation: pemRepresentation))
        switch try KeyLoader.algorithm(of: key) {
        case .rsa: storage = .rsa(try RSAPrivateKey(checking: key))
        case .ecdsaP256: storage = .ecdsaP256(try P256PrivateKey(checking: key))
        case .ed25519: storage = .ed25519(try Ed25519PrivateKey(checking: key))
        }
    }

    /// Generates a key: RSA-2048, ECDSA P-256 or Ed25519.
    public static func generate(_ algorithm: KeyAlgorithm) throws(CryptoError) -> PrivateKey {
        switch algorithm {
        case .rsa: PrivateKey(try RSAPrivateKey.generate())
        case .ecdsaP256: PrivateKey(try P256PrivateKey.generate())
        case .ed25519: PrivateKey(try Ed25519PrivateKey.generate())
        }
    }

    /// The key's type.
    public var algorithm: KeyAlgorithm {
        switch storage {
        case .rsa: .rsa
        case .ecdsaP256: .ecdsaP256
        case .ed25519: .ed25519
        }
    }

    /// The RSA key, when this is one (apk signing needs it to choose SHA-1 or SHA-256).
    public var rsa: RSAPrivateKey? {
        if case .rsa(let key) = storage { return key }
        return nil
    }

    /// The matching public key.
    public var publicKey: PublicKey {
        switch storage {
        case .rsa(let key): PublicKey(key.publicKey)
        case .ecdsaP256(let key): PublicKey(key.publicKey)
        case .ed25519(let key): PublicKey(key.publicKey)
        }
    }

    /// PEM `PRIVATE KEY` (unencrypted PKCS#8).
    public var pemRepresentation: String {
        get throws(CryptoError) {
            switch storage {
            case .rsa(let key): try key.pemRepresentation
            case .ecdsaP256(let key): try key.pemRepresentation
            case .ed25519(let key): try key.pemRepresentation
            }
        }
    }

    /// Signs `message` the way cosign verifies a key of this type: RSA PKCS#1 v1.5 over
    /// SHA-256, ECDSA P-256 over SHA-256 (DER), or pure Ed25519.
    public func signature(for message: some Sequence<UInt8>) throws(CryptoError) -> [UInt8] {
        switch storage {
        case .rsa(let key): try key.signature(for: message, digest: .sha256)
        case .ecdsaP256(let key): try key.signature(for: message)
        case .ed25519(let key): try key.signature(for: message)
        }
    }
}

/// A public key of any supported type, detected when it is loaded.
///
/// Equal keys have equal `SubjectPublicKeyInfo` DER.
public struct PublicKey: Sendable, Hashable {
    private enum Storage: Sendable, Hashable {
        case rsa(RSAPublicKey)
        case ecdsaP256(P256PublicKey)
        case ed25519(Ed25519PublicKey)
    }

    private let storage: Storage

    /// Wraps an RSA key.
    public init(_ key: RSAPublicKey) { storage = .rsa(key) }
    /// Wraps an ECDSA P-256 key.
    public init(_ key: P256PublicKey) { storage = .ecdsaP256(key) }
    /// Wraps an Ed25519 key.
    public init(_ key: Ed25519PublicKey) { storage = .ed25519(key) }

    /// Reads PEM `PUBLIC KEY` (PKIX, any supported type) or `RSA PUBLIC KEY` (PKCS#1) and
    /// detects the type — the two forms sigstore's `UnmarshalPEMToPublicKey` accepts.
    public init(pemRepresentation: String) throws(CryptoError) {
        try self.init(checking: KeyLoader.publicKey(pem: PEMDocument(pemRepresentation: pemRepresentation)))
    }

    /// Reads DER `SubjectPublicKeyInfo` and detects the type.
    public init(derRepresentation: [UInt8]) throws(CryptoError) {
        try self.init(checking: EVPKey.publicKey(subjectPublicKeyInfo: derRepresentation))
    }

    private init(checking key: EVPKey) throws(CryptoError) {
        switch try KeyLoader.algorithm(of: key) {
        case .rsa: storage = .rsa(try RSAPublicKey(checking: key))
        case .ecdsaP256: storage = .ecdsaP256(try P256PublicKey(checking: key))
        case .ed25519: storage = .ed25519(try Ed25519PublicKey(checking: key))
        }
    }

    /// The key's type.
    public var algorithm: KeyAlgorithm {
        switch storage {
        case .rsa: .rsa
        case .ecdsaP256: .ecdsaP256
        case .ed25519: .ed25519
        }
    }

    /// The RSA key, when this is one (apk verification picks SHA-1, SHA-256 or SHA-512).
    public var rsa: RSAPublicKey? {
        if case .rsa(let key) = storage { return key }
        return nil
    }

    /// DER `SubjectPublicKeyInfo`.
    public var derRepresentation: [UInt8] {
        switch storage {
        case .rsa(let key): key.derRepresentation
        case .ecdsaP256(let key): key.derRepresentation
        case .ed25519(let key): key.derRepresentation
        }
    }

    /// PEM `PUBLIC KEY` (PKIX), the only form cosign writes.
    public var pemRepresentation: String {
        PEMDocument(label: "PUBLIC KEY", der: derRepresentation).pemRepresentation
    }

    /// Verifies `signature` over `message` the way cosign does for a key of this type (see
    /// ``PrivateKey/signature(for:)``). False for a signature that does not match; throws
    /// `malformedSignature` for bytes that cannot be a signature by this key.
    public func isValidSignature(
        _ signature: some Sequence<UInt8>,
        for message: some Sequence<UInt8>
    ) throws(CryptoError) -> Bool {
        switch storage {
        case .rsa(let key): try key.isValidSignature(signature, for: message, digest: .sha256)
        case .ecdsaP256(let key): try key.isValidSignature(signature, for: message)
        case .ed25519(let key): try key.isValidSignature(signature, for: message)
        }
    }
}

/// Turns PEM blocks into `EVPKey`s by label, and checks key types.
enum KeyLoader {
    /// `PUBLIC KEY` or `RSA PUBLIC KEY`; anything else is not a public key we read.
    static func publicKey(pem: PEMDocument) throws(CryptoError) -> EVPKey {
        switch pem.label {
        case "PUBLIC KEY":
            return try EVPKey.publicKey(subjectPublicKeyInfo: pem.der)
        case "RSA PUBLIC KEY":
            return try EVPKey.rsaPublicKey(pkcs1: pem.der)
        default:
            throw CryptoError(
                .invalidPEM,
                "PEM block '\(pem.label)' is not a public key (expected 'PUBLIC KEY' or 'RSA PUBLIC KEY')"
            )
        }
    }

    /// `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`, unencrypted.
    static func privateKey(pem: PEMDocument) throws(CryptoError) -> EVPKey {
        switch pem.label {
        case "PRIVATE KEY":
            return try EVPKey.privateKey(pkcs8: pem.der)
        case "RSA PRIVATE KEY":
            return try EVPKey.privateKey(typeSpecific: pem.der, type: EVP_PKEY_RSA, what: "PKCS#1 RSA private key")
        case "EC PRIVATE KEY":
            return try EVPKey.privateKey(typeSpecific: pem.der, type: EVP_PKEY_EC, what: "SEC 1 EC private key")
        case "ENCRYPTED PRIVATE KEY":
            throw CryptoError(
                .invalidPEM,
                "encrypted private keys are not supported; decrypt with 'openssl pkey -in KEY -out PLAIN' first"
            )
        default:
            throw CryptoError(
                .invalidPEM,
                "PEM block '\(pem.label)' is not a private key (expected 'PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')"
            )
        }
    }

    /// The supported algorithm a key belongs to, or `wrongKeyType`.
    static func algorithm(of key: EVPKey) throws(CryptoError) -> KeyAlgorithm {
        switch key.typeID {
        case EVP_PKEY_RSA: return .rsa
        case EVP_PKEY_EC where isP256(key): return .ecdsaP256
        case EVP_PKEY_ED25519: return .ed25519
        default:
            throw CryptoError(
                .wrongKeyType,
                "\(key.typeDescription) keys are not supported (supported: RSA, ECDSA P-256, Ed25519)"
            )
        }
    }

    static func require(_ key: EVPKey, type: Int32, _ expected: String) throws(CryptoError) {
        guard key.typeID == type else {
            throw CryptoError(.wrongKeyType, "expected \(expected), got \(key.typeDescription)")
        }
    }

    static func requireP256(_ key: EVPKey, _ expected: String) throws(CryptoError) {
        guard key.typeID == EVP_PKEY_EC, isP256(key) else {
            throw CryptoError(.wrongKeyType, "expected \(expected), got \(key.typeDescription)")
        }
    }

    /// OpenSSL names P-256 `prime256v1` (its X9.62 name); accept the NIST name too.
    private static func isP256(_ key: EVPKey) -> Bool {
        guard let curve = key.curveName else { return false }
        return curve == "prime256v1" || curve == "P-256"
    }
}
