import Archive
import DistillCrypto

/// Where a blob's bytes are: in memory (configs, manifests, signatures) or in a file (layers,
/// which can be far larger than memory should hold).
public enum BlobContent: Sendable, Hashable {
    /// The bytes themselves.
    case bytes([UInt8])
    /// A file holding exactly the blob's bytes.
    case file(String)
}

/// A blob to publish or that was read back: its descriptor and its content.
public struct Blob: Sendable, Hashable {
    /// mediaType, digest and size of the content.
    public let descriptor: Descriptor
    /// The bytes, or the file that holds them.
    public let content: BlobContent
    /// Whether this process computed the descriptor from exactly this content moments ago (a
    /// layer just written, or a cache hit just re-hashed), so a writer linking the file into place
    /// checks its size instead of hashing it a second time.
    let isContentVerified: Bool

    /// Pairs a descriptor with its content; ``verify()`` checks that they match.
    public init(descriptor: Descriptor, content: BlobContent) {
        self.init(descriptor: descriptor, content: content, isContentVerified: false)
    }

    init(descriptor: Descriptor, content: BlobContent, isContentVerified: Bool) {
        self.descriptor = descriptor
        self.content = content
        self.isContentVerified = isContentVerified
    }

    /// A blob of `bytes` of type `mediaType` (digest and size computed here).
    public init(mediaType: String, bytes: [UInt8]) {
        self.init(descriptor: Descriptor(mediaType: mediaType, bytes: bytes), content: .bytes(bytes))
    }

    /// Checks the content's size and digest against the descriptor, streaming a file through the
    /// hash; throws `sizeMismatch` or `digestMismatch`.
    public func verify() throws(OCIError) {
        switch content {
        case .bytes(let bytes):
            try BlobCheck.verify(size: Int64(bytes.count), digest: descriptor.digest.algorithm.hash(bytes),
                                 against: descriptor, source: "blob \(descriptor.digest)")
        case .file(let path):
            let (size, digest) = try BlobCheck.hashFile(path, algorithm: descriptor.digest.algorithm)
            try BlobCheck.verify(size: size, digest: digest, against: descriptor, source: path)
        }
    }

    /// A source over the content (a fresh file descriptor for a file).
    func openSource() throws(OCIError) -> any ByteSource {
        switch content {
        case .bytes(let bytes):
            return MemorySource(bytes)
        case .file(let path):
            return try mapErrors(.io, "cannot open blob \(descriptor.digest)") { try FileDescriptorSource(path: path) }
        }
    }
}

/// Hashing and checking of blob content.
enum BlobCheck {
    /// The size and digest of the file at `path`, read in fixed-size chunks.
    static func hashFile(_ path: String, algorithm: DigestAlgorithm) throws(OCIError) -> (Int64, Digest) {
        try mapErrors(.io, "cannot read \(path)") {
            let source = try FileDescriptorSource(path: path)
            defer { try? source.close() }
            let hasher = HashingSink(algorithm)
            let size = try source.copy(to: hasher)
            return (size, hasher.finalize())
        }
    }

    /// Throws when `size` or `digest` differs from what `descriptor` announces.
    static func verify(size: Int64, digest: Digest, against descriptor: Descriptor, source: String) throws(OCIError) {
        guard size == descriptor.size else {
            throw OCIError(.sizeMismatch, "content is \(size) bytes, its descriptor says \(descriptor.size)", source: source)
        }
        guard digest == descriptor.digest else {
            throw OCIError(.digestMismatch, "content hashes to \(digest), expected \(descriptor.digest)", source: source)
        }
    }
}

/// A byte sink that feeds a running hash and counts what it saw.
final class HashingSink: ByteSink {
    private var hasher: DigestHasher
    /// Bytes seen so far.
    private(set) var count: Int64 = 0

    init(_ algorithm: DigestAlgorithm) {
        hasher = DigestHasher(algorithm)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        count += Int64(bytes.count)
    }

    /// The digest of everything written so far.
    func finalize() -> Digest {
        hasher.finalize()
    }
}
