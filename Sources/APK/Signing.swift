import DistillCrypto

/// The signature types a `.SIGN.<TYPE>.<key name>` entry can name (apk-tools' `signature_type[]`).
public enum SignatureAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `.SIGN.RSA.`: RSA PKCS#1 v1.5 over SHA-1 (abuild's default).
    case rsaSHA1 = "RSA"
    /// `.SIGN.RSA256.`: RSA PKCS#1 v1.5 over SHA-256 (melange's default).
    case rsaSHA256 = "RSA256"
    /// `.SIGN.RSA512.`: RSA PKCS#1 v1.5 over SHA-512.
    case rsaSHA512 = "RSA512"
    /// `.SIGN.DSA.`: legacy; apk-tools 2.14 cannot verify it and ignores it, and so do we.
    case dsa = "DSA"

    /// The digest the signature is made over, nil for the ignored DSA type.
    public var digest: DigestAlgorithm? {
        switch self {
        case .rsaSHA1: .sha1
        case .rsaSHA256: .sha256
        case .rsaSHA512: .sha512
        case .dsa: nil
        }
    }

    /// The `<TYPE>` word, e.g. `RSA256`.
    public var description: String { rawValue }

    /// The entry name for a signature by the key called `keyName`.
    public func entryName(keyName: String) -> String {
        ".SIGN.\(rawValue).\(keyName)"
    }
}

/// One `.SIGN.*` entry of a signature section: which key, which algorithm, and the raw signature.
public struct SignatureEntry: Sendable, Hashable {
    /// The tar entry name, e.g. `.SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`.
    public var entryName: String
    /// The algorithm, nil for a `.SIGN.<TYPE>.` apk does not know (ignored, as apk does).
    public var algorithm: SignatureAlgorithm?
    /// The key file name the signature names.
    public var keyName: String
    /// The signature bytes.
    public var signature: [UInt8]

    /// Splits an entry name into algorithm and key name; nil when the name is not `.SIGN.*`.
    public init?(entryName: String, signature: [UInt8]) {
        guard entryName.hasPrefix(".SIGN.") else { return nil }
        self.entryName = entryName
        self.signature = signature
        let rest = entryName.dropFirst(".SIGN.".count)
        // Longest type first: "RSA256." must not be read as "RSA" + "256.…".
        for algorithm in [SignatureAlgorithm.rsaSHA512, .rsaSHA256, .rsaSHA1, .dsa] where rest.hasPrefix(algorithm.rawValue + ".") {
            self.algorithm = algorithm
            self.keyName = String(rest.dropFirst(algorithm.rawValue.count + 1))
            return
        }
        self.algorithm = nil
        self.keyName = String(rest.drop(while: { $0 != "." }).dropFirst())
    }
}

/// Who made a signature: the key's name and the algorithm.
public struct Signer: Sendable, Hashable, CustomStringConvertible {
    /// The key file name, e.g. `melange.rsa.pub`.
    public var keyName: String
    /// The signature type.
    public var algorithm: SignatureAlgorithm

    /// A signer.
    public init(keyName: String, algorithm: SignatureAlgorithm) {
        self.keyName = keyName
        self.algorithm = algorithm
    }

    /// `KEY (RSA256)`.
    public var description: String { "\(keyName) (\(algorithm))" }
}

/// A private RSA key that signs packages and indexes, with the name its public half is known by.
///
/// apk finds the public key by the name in the signature entry, so that name must be the public
/// key file's name: `NAME.rsa.pub` for the private key `NAME.rsa` (abuild-sign and go-apk both
/// append `.pub` to the private key's file name).
public struct SigningKey: Sendable {
    /// The private key.
    public let privateKey: RSAPrivateKey
    /// The public key's file name, written into `.SIGN.<TYPE>.<keyName>`.
    public let keyName: String

    /// A key with an explicit public key name.
    public init(privateKey: RSAPrivateKey, keyName: String) {
        self.privateKey = privateKey
        self.keyName = keyName
    }

    /// Loads a PEM private key file; the key name is the file's name plus `.pub`.
    public init(file path: String) throws {
        let bytes = try FileSystem.read(path, limit: Keyring.maximumKeyFileSize)
        do {
            privateKey = try RSAPrivateKey(pemRepresentation: String(decoding: bytes, as: UTF8.self))
        } catch {
            switch error.kind {
            case .wrongKeyType:
                throw APKError(.keyring, "not an RSA private key (apk signing keys are RSA): \(error.message)", source: path)
            default:
                throw APKError(.keyring, "not a PEM private key: \(error.message)", source: path)
            }
        }
        keyName = FileSystem.baseName(path) + ".pub"
    }

    /// The public half.
    public var publicKey: RSAPublicKey { privateKey.publicKey }

    /// Signs `message` for a `.SIGN.<algorithm>.` entry.
    public func signature(for message: some Sequence<UInt8>, algorithm: SignatureAlgorithm) throws -> [UInt8] {
        guard let digest = algorithm.digest else {
            throw APKError(.keyring, "cannot sign with the \(algorithm) signature type")
        }
        do {
            return try privateKey.signature(for: message, digest: digest)
        } catch {
            throw APKError(.keyring, "signing with \(keyName) failed: \(error.message)")
        }
    }

    /// Signs a digest computed while streaming.
    public func signature(for digest: Digest) throws -> [UInt8] {
        do {
            return try privateKey.signature(for: digest)
        } catch {
            throw APKError(.keyring, "signing with \(keyName) failed: \(error.message)")
        }
    }

    /// The `.SIGN.<algorithm>.<keyName>` entry name.
    public func entryName(_ algorithm: SignatureAlgorithm) -> String {
        algorithm.entryName(keyName: keyName)
    }
}

/// Creates apk signing key pairs the way `abuild-keygen` does.
public enum KeyGeneration {
    /// The files one key pair was written to.
    public struct KeyPairFiles: Sendable, Equatable {
        /// The private key, mode 0600.
        public var privateKeyPath: String
        /// The public key, mode 0644; its file name is the key's name in signatures.
        public var publicKeyPath: String
    }

    /// Generates an RSA key and writes `NAME.rsa` (PKCS#8 PEM, mode 0600) and `NAME.rsa.pub`
    /// (PEM `PUBLIC KEY`, mode 0644), where `NAME` is `pathPrefix` (a name or a path without the
    /// extension). Refuses to overwrite either file.
    public static func writeRSAKeyPair(pathPrefix: String, bitCount: Int = 4096) throws -> KeyPairFiles {
        let files = KeyPairFiles(privateKeyPath: pathPrefix + ".rsa", publicKeyPath: pathPrefix + ".rsa.pub")
        for path in [files.privateKeyPath, files.publicKeyPath] where FileSystem.exists(path) {
            throw APKError(.io, "refusing to overwrite an existing key file", source: path)
        }
        let key: RSAPrivateKey
        let privatePEM: String
        do {
            key = try RSAPrivateKey.generate(bitCount: bitCount)
            privatePEM = try key.pemRepresentation
        } catch {
            throw APKError(.keyring, "cannot generate an RSA key: \(error.message)")
        }
        // The public half first, so a failure never leaves a private key whose public half (the
        // name signatures will carry) was not written.
        try AtomicFile.write(Array(key.publicKey.pemRepresentation.utf8), to: files.publicKeyPath, mode: 0o644)
        try AtomicFile.write(Array(privatePEM.utf8), to: files.privateKeyPath, mode: 0o600)
        return files
    }
}
