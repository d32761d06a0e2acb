import DistillCrypto
import Foundation

/// Image-signing key files: reading them with errors that say what is wrong with the file, and
/// generating pairs as `NAME.key` (PKCS#8 PEM, mode 0600) and `NAME.pub` (PEM `PUBLIC KEY`,
/// SubjectPublicKeyInfo, which `cosign verify --key` and containers/image's `keyPath` read).
public enum SigningKeyFile {
    /// The largest key file read (an RSA-4096 PEM is about 3 KiB).
    public static let maximumSize = 64 << 10

    /// The files one generated pair was written to.
    public struct Pair: Sendable, Hashable {
        /// `NAME.key`, mode 0600.
        public var privateKeyPath: String
        /// `NAME.pub`, mode 0644.
        public var publicKeyPath: String
    }

    /// The private key in the PEM file at `path`: PKCS#8 `PRIVATE KEY` (RSA, ECDSA P-256 or
    /// Ed25519), `EC PRIVATE KEY` or `RSA PRIVATE KEY`. A public key, a cosign-encrypted key, a
    /// key of another type or a file that is not PEM is refused with a message saying which.
    public static func readPrivateKey(at path: String) throws(SigningError) -> PrivateKey {
        let text = try read(path)
        let document = try pem(text, path: path)
        switch document.label {
        case "PUBLIC KEY", "RSA PUBLIC KEY":
            throw SigningError(.invalidKey, "this is a public key; signing needs the private key (NAME.key)", source: path)
        case "ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY":
            throw SigningError(.invalidKey, "cosign's encrypted key format is not supported; use a PKCS#8 PEM key (distill keygen --type ecdsa-p256)",
                               source: path)
        default:
            break
        }
        do {
            return try PrivateKey(pemRepresentation: text)
        } catch {
            throw SigningError(.invalidKey, error.message, source: path)
        }
    }

    /// The public key in the PEM file at `path`: `PUBLIC KEY` (RSA, ECDSA P-256, Ed25519) or
    /// `RSA PUBLIC KEY`, the forms cosign and containers/image read.
    public static func readPublicKey(at path: String) throws(SigningError) -> PublicKey {
        let text = try read(path)
        let document = try pem(text, path: path)
        if document.label.hasSuffix("PRIVATE KEY") {
            throw SigningError(.invalidKey, "this is a private key; verification takes the public key (NAME.pub)", source: path)
        }
        do {
            return try PublicKey(pemRepresentation: text)
        } catch {
            throw SigningError(.invalidKey, error.message, source: path)
        }
    }

    /// Generates a key of `algorithm` (RSA with `rsaBitCount` bits) and writes `NAME.pub`, then
    /// `NAME.key`, where NAME is `pathPrefix`. Refuses to overwrite either file; each appears
    /// complete or not at all.
    public static func generate(_ algorithm: KeyAlgorithm, pathPrefix: String, rsaBitCount: Int = 4096) throws(SigningError) -> Pair {
        let pair = Pair(privateKeyPath: pathPrefix + ".key", publicKeyPath: pathPrefix + ".pub")
        for path in [pair.privateKeyPath, pair.publicKeyPath] where FileManager.default.fileExists(atPath: path) {
            throw SigningError(.io, "refusing to overwrite an existing key file", source: path)
        }
        let key: PrivateKey
        let privatePEM: String
        do {
            key = algorithm == .rsa ? PrivateKey(try RSAPrivateKey.generate(bitCount: rsaBitCount)) : try PrivateKey.generate(algorithm)
            privatePEM = try key.pemRepresentation
        } catch {
            throw SigningError(.invalidKey, "cannot generate an \(algorithm) key: \(error.message)")
        }
        // The public half first: a private key whose public half is missing would be useless.
        try writeNew(Array(key.publicKey.pemRepresentation.utf8), to: pair.publicKeyPath, mode: 0o644)
        try writeNew(Array(privatePEM.utf8), to: pair.privateKeyPath, mode: 0o600)
        return pair
    }

    private static func read(_ path: String) throws(SigningError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SigningError(.invalidKey, "cannot read the key file (\(String(cString: strerror(errno)))); make a key pair with `distill keygen --type ecdsa-p256 NAME`",
                               source: path)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumSize + 1) ?? Data()
        } catch {
            throw SigningError(.invalidKey, "cannot read the key file: \(error.localizedDescription)", source: path)
        }
        guard data.count <= maximumSize else {
            throw SigningError(.invalidKey, "larger than \(maximumSize) bytes, so not a key file", source: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SigningError(.invalidKey, "not a PEM key file (not text)", source: path)
        }
        return text
    }

    private static func pem(_ text: String, path: String) throws(SigningError) -> PEMDocument {
        do {
            return try PEMDocument(pemRepresentation: text)
        } catch {
            throw SigningError(.invalidKey, "not a PEM key file: \(error.message)", source: path)
        }
    }

    /// Writes `bytes` to a temporary sibling with exactly `mode`, flushes it, and hard-links it
    /// to `path`, which fails rather than replacing a file that appeared meanwhile.
    private static func writeNew(_ bytes: [UInt8], to path: String, mode: mode_t) throws(SigningError) {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            throw SigningError(.io, "cannot create the key file: \(String(cString: strerror(errno)))", source: path)
        }
        defer { unlink(temporary) }
        // The umask may have narrowed the mode; a private key must get exactly 0600.
        var failed = fchmod(descriptor, mode) != 0
        var offset = 0
        while !failed && offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { failed = true } else { offset += written }
        }
        failed = failed || fsync(descriptor) != 0
        let error = errno
        close(descriptor)
        guard !failed else {
            throw SigningError(.io, "cannot write the key file: \(String(cString: strerror(error)))", source: path)
        }
        guard link(temporary, path) == 0 else {
            throw SigningError(.io, "cannot create the key file: \(String(cString: strerror(errno)))", source: path)
        }
    }
}
