internal import COpenSSL

/// The hash functions Distill needs: SHA-1 (apk's `C:` identities and `.SIGN.RSA` signatures),
/// SHA-256 (OCI digests, `datahash`, `.SIGN.RSA256`, cosign) and SHA-512 (`.SIGN.RSA512`).
public enum DigestAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// SHA-1 (20 bytes): broken for collisions, still what apk's identities and `.SIGN.RSA` use.
    case sha1
    /// SHA-256 (32 bytes).
    case sha256
    /// SHA-512 (64 bytes).
    case sha512

    /// The digest length in bytes.
    public var byteCount: Int {
        switch self {
        case .sha1: 20
        case .sha256: 32
        case .sha512: 64
        }
    }

    /// The lowercase name used in OCI digests (`sha256:…`) and by `openssl dgst -sha256`.
    public var description: String { rawValue }

    /// Hashes a buffer in one call.
    public func hash(_ buffer: UnsafeRawBufferPointer) -> Digest {
        // EVP_Digest keeps its context on OpenSSL's side, which saves the hasher's object
        // allocation: small one-shot hashes (tar headers, short files) are dominated by set-up.
        var output = [UInt8](repeating: 0, count: byteCount)
        var written: UInt32 = 0
        let status = output.withUnsafeMutableBufferPointer {
            EVP_Digest(buffer.baseAddress, buffer.count, $0.baseAddress, &written, method, nil)
        }
        precondition(status == 1 && Int(written) == byteCount, "EVP_Digest(\(self)) failed")
        return Digest(trusted: self, bytes: output)
    }

    /// Hashes a byte sequence in one call (arrays, slices, `Data`, a string's `utf8` view).
    public func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return digest }
        var hasher = DigestHasher(self)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// OpenSSL's implementation, fetched once per process: an implicit fetch (`EVP_sha256()`)
    /// would look the provider up again on every `EVP_DigestInit`.
    var method: OpaquePointer {
        switch self {
        case .sha1: FetchedDigests.sha1.pointer
        case .sha256: FetchedDigests.sha256.pointer
        case .sha512: FetchedDigests.sha512.pointer
        }
    }
}

/// An `EVP_MD` fetched from the default provider.
///
/// `@unchecked Sendable`: a fetched `EVP_MD` is immutable and reference-counted by OpenSSL, and
/// OpenSSL documents method objects as safe to share between threads (openssl-threads(7)). The
/// object is never freed: it lives for the process, like the static tables it replaces.
private final class FetchedDigest: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ name: String) {
        guard let pointer = EVP_MD_fetch(nil, name, nil) else {
            // Without SHA-1/SHA-2 in the default provider nothing in Distill can work, and the
            // process cannot recover from a broken OpenSSL installation.
            fatalError("OpenSSL has no \(name) digest: \(OpenSSLErrorQueue.drain().joined(separator: "; "))")
        }
        self.pointer = pointer
    }
}

private enum FetchedDigests {
    static let sha1 = FetchedDigest("SHA1")
    static let sha256 = FetchedDigest("SHA256")
    static let sha512 = FetchedDigest("SHA512")
}

/// A finished hash value: the algorithm and its bytes.
public struct Digest: Sendable, Hashable, CustomStringConvertible {
    /// The algorithm that produced the bytes.
    public let algorithm: DigestAlgorithm
    /// The raw digest, `algorithm.byteCount` bytes long.
    public let bytes: [UInt8]

    /// Wraps raw digest bytes, for example a digest read from a file or an index; throws
    /// `unsupportedParameter` if the length does not match the algorithm.
    public init(algorithm: DigestAlgorithm, bytes: [UInt8]) throws(CryptoError) {
        guard bytes.count == algorithm.byteCount else {
            throw CryptoError(
                .unsupportedParameter,
                "a \(algorithm) digest is \(algorithm.byteCount) bytes, got \(bytes.count)"
            )
        }
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Parses lowercase or uppercase hex of the right length for the algorithm.
    public init(algorithm: DigestAlgorithm, hex: some StringProtocol) throws(CryptoError) {
        try self.init(algorithm: algorithm, bytes: Hex.decode(hex))
    }

    /// Bytes that come straight from OpenSSL and so have the right length already.
    init(trusted algorithm: DigestAlgorithm, bytes: [UInt8]) {
        self.algorithm = algorithm
        self.bytes = bytes
    }

    /// Lowercase hex, as `sha256sum` prints it.
    public var hex: String { Hex.encode(bytes) }

    /// Standard base64 with padding (apk writes SHA-1 identities as `"Q1" + base64`).
    public var base64: String { Base64.encode(bytes) }

    /// `algorithm:hex`, the OCI digest form, e.g. `sha256:e3b0c442…`.
    public var description: String { "\(algorithm):\(hex)" }
}

/// An incremental hash: feed bytes with `update` as they stream past, then `finalize`.
///
/// Made to be a cheap byte sink for readers and writers that hash while they work (gzip, tar,
/// layer writers): `update(_: UnsafeRawBufferPointer)` is one `EVP_DigestUpdate` call with no
/// allocation and no copy, for updates of any size. The OpenSSL context is allocated once, in
/// `init`.
///
/// A value type: copying a hasher forks the hash state (copy-on-write, so a copy only costs an
/// `EVP_MD_CTX` duplication when one of the copies is updated again), and `finalize()` does not
/// disturb the hasher it is called on. Copies may be sent to other tasks.
public struct DigestHasher: Sendable {
    /// The algorithm being computed.
    public let algorithm: DigestAlgorithm
    private var context: DigestContext

    /// Starts an empty hash.
    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        self.context = DigestContext(algorithm)
    }

    /// Adds raw bytes; the hot path for streaming.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        // EVP_DigestUpdate only fails for a context that was never initialised, which the
        // initialiser rules out, so a failure here is a broken invariant, not bad input.
        let status = EVP_DigestUpdate(context.pointer, base, buffer.count)
        precondition(status == 1, "EVP_DigestUpdate failed on an initialised context")
    }

    /// Adds a byte sequence: contiguous storage (arrays, slices, `Data`, native strings' `utf8`)
    /// is hashed in place; anything else is copied through a small buffer.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled != nil { return }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(4096)
        for byte in bytes {
            chunk.append(byte)
            if chunk.count == 4096 {
                chunk.withUnsafeBytes { update($0) }
                chunk.removeAll(keepingCapacity: true)
            }
        }
        chunk.withUnsafeBytes { update($0) }
    }

    /// The digest of everything added so far. The hasher itself is unchanged and can keep
    /// going; when this is its last use, the context is finalized in place without a copy.
    public consuming func finalize() -> Digest {
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        var output = [UInt8](repeating: 0, count: algorithm.byteCount)
        var written: UInt32 = 0
        let status = output.withUnsafeMutableBufferPointer {
            EVP_DigestFinal_ex(context.pointer, $0.baseAddress, &written)
        }
        precondition(status == 1 && Int(written) == algorithm.byteCount, "EVP_DigestFinal_ex failed")
        return Digest(trusted: algorithm, bytes: output)
    }
}

/// Owns one `EVP_MD_CTX`.
///
/// `@unchecked Sendable`: ``DigestHasher`` only mutates a context it references uniquely
/// (copy-on-write, the same discipline as `Array`), so no context is ever touched by two
/// threads at once.
private final class DigestContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ algorithm: DigestAlgorithm) {
        guard let pointer = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        guard EVP_DigestInit_ex2(pointer, algorithm.method, nil) == 1 else {
            fatalError("EVP_DigestInit_ex2(\(algorithm)) failed: \(OpenSSLErrorQueue.drain().joined(separator: "; "))")
        }
        self.pointer = pointer
    }

    private init(pointer: OpaquePointer) {
        self.pointer = pointer
    }

    /// A context with the same state, for a hasher that was copied and is being changed.
    func copy() -> DigestContext {
        guard let duplicate = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        guard EVP_MD_CTX_copy_ex(duplicate, pointer) == 1 else { fatalError("EVP_MD_CTX_copy_ex failed") }
        return DigestContext(pointer: duplicate)
    }

    deinit {
        EVP_MD_CTX_free(pointer)
    }
}
