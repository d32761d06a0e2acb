import DistillCrypto

/// The trusted public keys, keyed by file name exactly as apk looks them up: a `.SIGN.RSA.<name>`
/// entry is trusted when the keyring holds a key called `<name>` (apk opens `keys_dir/<name>`).
public struct Keyring: Sendable, Equatable {
    /// The keys by name (the key file's name, e.g. `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`).
    public private(set) var keys: [String: RSAPublicKey] = [:]

    /// The largest key file read; an RSA public key in PEM is under 2 KiB even at 16384 bits.
    public static let maximumKeyFileSize = 64 * 1024

    /// An empty keyring: every signature is untrusted.
    public init() {}

    /// Loads every `*.rsa.pub` file in `directory` (not its subdirectories).
    public init(directory: String) throws {
        try addKeys(inDirectory: directory)
    }

    /// Loads each path: a directory contributes its `*.rsa.pub` files, a file is added under its name.
    public init(paths: [String]) throws {
        for path in paths {
            if FileSystem.isDirectory(path) {
                try addKeys(inDirectory: path)
            } else {
                try addKey(file: path)
            }
        }
    }

    /// The key names in byte order.
    public var names: [String] { keys.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }

    /// Whether the keyring holds no key.
    public var isEmpty: Bool { keys.isEmpty }

    /// The key called `name`, if trusted.
    public func key(named name: String) -> RSAPublicKey? {
        keys[name]
    }

    /// Adds `key` under `name`, replacing a key of the same name.
    public mutating func add(_ key: RSAPublicKey, named name: String) {
        keys[name] = key
    }

    /// Adds the key file at `path` under its file name. Throws `.keyring` for a file that is not a
    /// PEM public key or holds a key that is not RSA.
    public mutating func addKey(file path: String) throws {
        let name = FileSystem.baseName(path)
        let bytes = try FileSystem.read(path, limit: Self.maximumKeyFileSize)
        add(try Self.publicKey(pem: bytes, source: path), named: name)
    }

    /// Adds every `*.rsa.pub` file directly inside `directory`. Names already in the keyring are
    /// kept unless `replacing` is true, so several directories can be layered nearest first.
    public mutating func addKeys(inDirectory directory: String, replacing: Bool = true) throws {
        guard FileSystem.isDirectory(directory) else {
            throw APKError(.keyring, "keyring directory does not exist or is not a directory", source: directory)
        }
        for name in try FileSystem.directoryNames(directory) where name.hasSuffix(".rsa.pub") {
            if !replacing && keys[name] != nil { continue }
            try addKey(file: directory + "/" + name)
        }
    }

    /// Parses a PEM public key for the keyring; the error names `source` and what is wrong.
    public static func publicKey(pem bytes: [UInt8], source: String) throws -> RSAPublicKey {
        do {
            return try RSAPublicKey(pemRepresentation: String(decoding: bytes, as: UTF8.self))
        } catch {
            switch error.kind {
            case .wrongKeyType:
                throw APKError(.keyring, "not an RSA public key (apk keys are RSA): \(error.message)", source: source)
            default:
                throw APKError(.keyring, "not a PEM public key: \(error.message)", source: source)
            }
        }
    }
}
