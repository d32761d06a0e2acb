import Archive
import DistillCrypto
import Foundation

/// A compressed layer written to a file: the descriptor to put in a manifest, the diff_id to put in
/// the config, and where the bytes are.
public struct LayerBlob: Sendable, Hashable {
    /// mediaType, digest (SHA-256 of the gzip bytes) and size of the file.
    public let descriptor: Descriptor
    /// SHA-256 of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    public let diffID: Digest
    /// The uncompressed tar's length.
    public let uncompressedSize: Int64
    /// The deflate level the layer was compressed at.
    public let compressionLevel: Int
    /// The file holding the compressed bytes.
    public let path: String

    /// Whether the descriptor was computed from the file by this process (see ``Blob``).
    let isContentVerified: Bool

    /// A layer blob that already exists (for example one a ``LayerBlobCache`` kept).
    public init(descriptor: Descriptor, diffID: Digest, uncompressedSize: Int64, compressionLevel: Int, path: String) {
        self.init(descriptor: descriptor, diffID: diffID, uncompressedSize: uncompressedSize, compressionLevel: compressionLevel,
                  path: path, isContentVerified: false)
    }

    init(descriptor: Descriptor, diffID: Digest, uncompressedSize: Int64, compressionLevel: Int, path: String,
         isContentVerified: Bool) {
        self.descriptor = descriptor
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.compressionLevel = compressionLevel
        self.path = path
        self.isContentVerified = isContentVerified
    }

    /// The layer as a blob to publish.
    public var blob: Blob {
        Blob(descriptor: descriptor, content: .file(path), isContentVerified: isContentVerified)
    }

    /// What a cache of compressed layers keys this layer by (``LayerBlobWriter`` always writes
    /// ``ParallelGzipWriter``'s default format).
    public var cacheKey: LayerCacheKey {
        LayerCacheKey(diffID: diffID, compressionLevel: compressionLevel)
    }
}

/// The identity of a compressed layer for reuse: the same tar compressed at the same level in the
/// same format gives the same bytes (``ParallelGzipWriter`` is deterministic), so (diff_id,
/// level, format) names them.
public struct LayerCacheKey: Sendable, Hashable {
    /// SHA-256 of the uncompressed tar.
    public let diffID: Digest
    /// The deflate level.
    public let compressionLevel: Int
    /// The encoder's framing, block size and zlib version (``ParallelGzipWriter/outputFormat(blockSize:)``).
    public let format: String

    /// A key for the tar with `diffID` compressed at `compressionLevel` in `format`.
    public init(diffID: Digest, compressionLevel: Int, format: String = ParallelGzipWriter.outputFormat()) {
        self.diffID = diffID
        self.compressionLevel = compressionLevel
        self.format = format
    }
}

/// Where already-compressed layers are looked up before compressing again: the orchestration
/// hashes a layer's tar first (cheap next to deflate), asks for ``blob(for:)``, and only on a miss
/// writes through a ``LayerBlobWriter`` and hands the result to ``store(_:)``.
public protocol LayerBlobCache: Sendable {
    /// A compressed layer for `key`, or nil when there is none (or what is there is not intact).
    func blob(for key: LayerCacheKey) throws(OCIError) -> LayerBlob?
    /// Keeps `layer` for later builds; returns the layer as the cache holds it.
    @discardableResult
    func store(_ layer: LayerBlob) throws(OCIError) -> LayerBlob
}

/// Compresses one layer in a single pass with bounded memory: the caller writes the uncompressed
/// tar (through Archive's `TarWriter`) into ``tarSink``; the bytes are hashed for the diff_id,
/// compressed by a ``ParallelGzipWriter``, and the compressed bytes are hashed for the digest,
/// counted and written to a temporary file.
///
/// ```swift
/// let writer = try LayerBlobWriter(directory: work, compressionLevel: 6)
/// let tar = TarWriter(sink: writer.tarSink)
/// try tar.append(TarEntry(name: "etc", kind: .directory, mode: 0o755))
/// try tar.finish()
/// let layer = try writer.finish()     // layer.descriptor, layer.diffID, layer.path
/// ```
///
/// The file is named `layer-<random>.tar.gz` inside `directory` and belongs to the caller once
/// `finish()` returned; a writer released without `finish()` removes its file.
public final class LayerBlobWriter {
    /// Where to write the uncompressed layer tar.
    public var tarSink: any ByteSink { uncompressedTee }
    /// The deflate level.
    public let compressionLevel: Int
    /// The media type the descriptor will carry.
    public let mediaType: String
    /// The file being written.
    public let path: String

    private let file: FileDescriptorSink
    private let gzip: ParallelGzipWriter
    private let diffIDHasher: HashingSink
    private let digestHasher: HashingSink
    private let uncompressedTee: TeeSink
    private var finished = false

    /// Starts a layer file in `directory` (which must exist). `threads` compress in parallel;
    /// the output does not depend on their number.
    public init(directory: String, compressionLevel: Int = 6, threads: Int = ParallelGzipWriter.defaultThreadCount,
                mediaType: String = MediaType.layerGzip) throws(OCIError) {
        let path = (directory as NSString).appendingPathComponent("layer-\(UUID().uuidString.lowercased()).tar.gz")
        self.path = path
        self.compressionLevel = compressionLevel
        self.mediaType = mediaType
        let file = try mapErrors(.io, "cannot create layer file") { try FileDescriptorSink(creatingFileAt: path) }
        self.file = file
        let digestHasher = HashingSink(.sha256)
        self.digestHasher = digestHasher
        do {
            gzip = try ParallelGzipWriter(sink: TeeSink(file, observer: digestHasher), level: compressionLevel, threads: threads)
        } catch {
            try? file.close()
            unlink(path)
            throw OCIError.wrapping(error, .invalidArgument, "cannot start layer compression", source: path)
        }
        let diffIDHasher = HashingSink(.sha256)
        self.diffIDHasher = diffIDHasher
        uncompressedTee = TeeSink(gzip, observer: diffIDHasher)
    }

    deinit {
        if !finished {
            try? file.close()
            unlink(path)
        }
    }

    /// Ends the gzip stream, flushes and closes the file, and describes the layer.
    public func finish() throws(OCIError) -> LayerBlob {
        guard !finished else { throw OCIError(.invalidArgument, "LayerBlobWriter.finish() called twice", source: path) }
        try mapErrors(.io, "cannot finish layer", source: path) {
            try gzip.finish()
            try file.synchronize()
            try file.close()
        }
        finished = true
        let descriptor = Descriptor(mediaType: mediaType, digest: digestHasher.finalize(), size: digestHasher.count)
        return LayerBlob(descriptor: descriptor, diffID: diffIDHasher.finalize(), uncompressedSize: diffIDHasher.count,
                         compressionLevel: compressionLevel, path: path, isContentVerified: true)
    }
}

/// The first pass over a layer when a ``LayerBlobCache`` is in use: the uncompressed tar is only
/// hashed (SHA-256 runs at well over a GB/s, deflate at tens of MB/s per core), so a cached layer
/// is found without compressing anything.
///
/// ```swift
/// let hasher = LayerDiffIDHasher()
/// try rootfs.writeLayer(0, to: hasher)
/// if let hit = try cache.blob(for: LayerCacheKey(diffID: hasher.diffID, compressionLevel: 6)) { … }
/// ```
public final class LayerDiffIDHasher: ByteSink {
    private let hasher = HashingSink(.sha256)

    /// A hasher that has seen nothing yet.
    public init() {}

    /// Hashes `bytes` as the next part of the tar.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try hasher.write(bytes)
    }

    /// Bytes of tar seen so far.
    public var count: Int64 { hasher.count }

    /// SHA-256 of everything written (the diff_id); call once, after the last write.
    public func finalize() -> Digest { hasher.finalize() }
}
