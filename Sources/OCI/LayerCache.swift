import Archive
import DistillCrypto
import Foundation

/// A ``LayerBlobCache`` in a directory, shared by every build and safe for several processes at
/// once (files appear under their final names only by `rename(2)` of finished temporary files).
///
/// ```
/// <root>/layers/<format>/<level>/<diff_id hex>.tar.gz   the compressed layer
/// <root>/layers/<format>/<level>/<diff_id hex>.json     {"digest", "size", "diffID", "uncompressedSize", …}
/// ```
///
/// `<format>` is ``ParallelGzipWriter/outputFormat(blockSize:)`` (framing version, block size,
/// zlib version) and `<level>` the deflate level: everything besides the tar that decides the
/// compressed bytes, so a key names exactly one blob. `<root>` is the build's `--cache-dir`, the
/// same directory as the repository cache.
///
/// Trust: a hit is re-verified before it is returned — the blob's size and SHA-256 must be the
/// ones its descriptor file records, so a blob cut short, edited, or replaced through a hard link
/// into an output directory is a miss (and is replaced by the next store), never a wrong layer.
/// Hashing the blob costs about a tenth of a second per 100 MB of compressed layer, which is cheap
/// next to the deflate it saves; trusting size alone would be faster but would let any edit of a
/// linked output blob slip into the next image. The descriptor file itself is not trusted beyond
/// naming the digest to check: the diff_id it records must be the key's, and the digest is what
/// the manifest then carries, so a forged descriptor can only produce a miss or an image whose
/// blob matches its own manifest.
///
/// Blobs are stored by hard link when the layer file is on the same file system (the layer keeps
/// its inode, no copy), otherwise copied; a hit is handed out the same way into the build's
/// working directory.
public struct LayerCache: LayerBlobCache {
    /// The cache directory (the `layers/` tree lives under it).
    public let root: String

    /// The largest descriptor file read (they are about 300 bytes).
    static let maximumRecordSize = 64 * 1024

    /// A cache under `root` (created on first store).
    public init(root: String) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    /// The directory holding the layers of `key`'s format and level.
    public func directory(for key: LayerCacheKey) -> String {
        "\(root)/layers/\(key.format)/\(key.compressionLevel)"
    }

    /// Where the compressed bytes of `key` are kept.
    public func blobPath(for key: LayerCacheKey) -> String {
        "\(directory(for: key))/\(key.diffID.hex).tar.gz"
    }

    /// Where the descriptor of `key`'s blob is kept.
    public func recordPath(for key: LayerCacheKey) -> String {
        "\(directory(for: key))/\(key.diffID.hex).json"
    }

    /// The cached layer for `key`, its size and digest checked against the descriptor file; nil
    /// when nothing is cached, the format is unknown, or the blob is not intact.
    public func blob(for key: LayerCacheKey) throws(OCIError) -> LayerBlob? {
        guard key.diffID.algorithm == .sha256 else { return nil }
        let path = blobPath(for: key)
        guard FileSystem.kind(of: path) == .file, FileSystem.kind(of: recordPath(for: key)) == .file,
              let record = try? readRecord(for: key) else { return nil }
        guard FileSystem.fileSize(path) == record.size else { return nil }
        let (size, digest) = try BlobCheck.hashFile(path, algorithm: .sha256)
        guard size == record.size, digest == record.digest else { return nil }
        return LayerBlob(descriptor: Descriptor(mediaType: record.mediaType, digest: digest, size: size), diffID: key.diffID,
                         uncompressedSize: record.uncompressedSize, compressionLevel: key.compressionLevel, path: path,
                         isContentVerified: true)
    }

    /// A hit for `key` as a file in `directory` (a hard link, or a copy across file systems), so
    /// the layer stays whole for this build even if another process replaces the cached file.
    public func blob(for key: LayerCacheKey, placedIn directory: String) throws(OCIError) -> LayerBlob? {
        guard let cached = try blob(for: key) else { return nil }
        let placed = "\(directory)/layer-\(UUID().uuidString.lowercased()).tar.gz"
        try Self.linkOrCopy(cached.path, to: placed)
        // The link is the inode just hashed (the cache only ever replaces files by rename); a copy
        // across file systems is checked by size.
        guard FileSystem.fileSize(placed) == cached.descriptor.size else {
            unlink(placed)
            return nil
        }
        return LayerBlob(descriptor: cached.descriptor, diffID: cached.diffID, uncompressedSize: cached.uncompressedSize,
                         compressionLevel: cached.compressionLevel, path: placed, isContentVerified: true)
    }

    /// Keeps `layer` under its key: the blob is linked (or copied) to a temporary name beside its
    /// final one and renamed, then the descriptor file is written the same way. A concurrent store
    /// of the same key writes the same bytes, so whichever rename lands last is as good.
    @discardableResult
    public func store(_ layer: LayerBlob) throws(OCIError) -> LayerBlob {
        let key = layer.cacheKey
        guard key.diffID.algorithm == .sha256, layer.descriptor.digest.algorithm == .sha256 else {
            throw OCIError(.invalidArgument, "only sha256 layers are cached", source: layer.path)
        }
        let directory = directory(for: key)
        try Self.makeDirectories(directory)
        let path = blobPath(for: key)
        let temporary = FileSystem.temporarySibling(of: path)
        try Self.linkOrCopy(layer.path, to: temporary)
        do {
            try FileSystem.rename(temporary, to: path)
        } catch {
            unlink(temporary)
            throw error
        }
        // rename(2) does nothing when both names are links of one inode (storing a layer the
        // cache handed out): the temporary name is then still there.
        unlink(temporary)
        let record = LayerRecord(format: key.format, compressionLevel: key.compressionLevel, diffID: key.diffID.description,
                                 uncompressedSize: layer.uncompressedSize, digest: layer.descriptor.digest.description,
                                 size: layer.descriptor.size, mediaType: layer.descriptor.mediaType)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = try mapErrors(.invalidJSON, "cannot encode the layer cache record") { Array(try encoder.encode(record)) }
        try FileSystem.writeAtomically(bytes, to: recordPath(for: key))
        return LayerBlob(descriptor: layer.descriptor, diffID: layer.diffID, uncompressedSize: layer.uncompressedSize,
                         compressionLevel: layer.compressionLevel, path: path, isContentVerified: layer.isContentVerified)
    }

    /// Removes the temporary files killed processes left under `layers/` (a blob, descriptor or
    /// recipe record cut short by `kill -9`): files named by Archive's `TemporaryName` whose
    /// writer no longer runs. Nothing reads them, since nothing is visible before its rename;
    /// this only frees the space. Returns how many were removed.
    @discardableResult
    public func removeAbandonedTemporaryFiles() -> Int {
        let layers = "\(root)/layers"
        var removed = 0
        // layers/<format>/<level>/ and layers/recipes/.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: layers)) ?? [] {
            let directory = "\(layers)/\(entry)"
            removed += TemporaryName.removeAbandoned(in: directory).count
            for level in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                removed += TemporaryName.removeAbandoned(in: "\(directory)/\(level)").count
            }
        }
        return removed
    }

    /// The descriptor file of `key`, which must describe `key` itself.
    func readRecord(for key: LayerCacheKey) throws(OCIError) -> CachedLayer {
        let path = recordPath(for: key)
        let bytes = try FileSystem.read(path, limit: Self.maximumRecordSize)
        let record = try mapErrors(.invalidJSON, "not a layer cache record", source: path) {
            try JSONDecoder().decode(LayerRecord.self, from: Data(bytes))
        }
        guard record.format == key.format, record.compressionLevel == key.compressionLevel,
              record.diffID == key.diffID.description, record.size >= 0, record.uncompressedSize >= 0 else {
            throw OCIError(.invalidJSON, "the record describes another layer", source: path)
        }
        let digest = try OCIDigest.parse(record.digest)
        return CachedLayer(digest: digest, size: record.size, uncompressedSize: record.uncompressedSize, mediaType: record.mediaType)
    }

    /// The parts of a descriptor file a hit is built from.
    struct CachedLayer {
        var digest: Digest
        var size: Int64
        var uncompressedSize: Int64
        var mediaType: String
    }

    /// The descriptor file's JSON.
    struct LayerRecord: Codable {
        var format: String
        var compressionLevel: Int
        var diffID: String
        var uncompressedSize: Int64
        var digest: String
        var size: Int64
        var mediaType: String
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws(OCIError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw OCIError(.io, "cannot create the layer cache directory: \(error.localizedDescription)", source: path)
        }
    }

    /// A hard link of `source` at `destination` (which must not exist), or a copy written through
    /// a temporary name when they are on different file systems.
    static func linkOrCopy(_ source: String, to destination: String) throws(OCIError) {
        if link(source, destination) == 0 { return }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else {
            throw FileSystem.posixError("cannot link \(source) to", destination)
        }
        try FileSystem.writeAtomically(to: destination) { sink throws(OCIError) in
            try mapErrors(.io, "cannot copy \(source)") {
                let input = try FileDescriptorSource(path: source)
                defer { try? input.close() }
                _ = try input.copy(to: sink)
            }
        }
    }
}
