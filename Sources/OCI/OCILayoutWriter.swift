import Archive
import DistillCrypto
import Foundation
public import ProgressReporting

/// Writes an OCI image layout directory: `oci-layout`, `blobs/sha256/<hex>` and `index.json`,
/// in the nested shape (index.json → image index blob → per-platform manifests) that
/// `skopeo copy oci:DIR:TAG`, umoci and cosign's local layout all read.
///
/// How it stays consistent when interrupted:
/// - **New directory** (`directory` does not exist): everything is written into a hidden staging
///   directory next to it (`.<name>.tmp-<uuid>`), and ``commit()`` renames the staging directory
///   to `directory` in one step. Until then nothing exists under the final name; a writer
///   released without committing deletes its staging directory.
/// - **Existing directory**: blobs are written inside it, each through a temporary name, fsync and
///   rename, so a blob is either complete under its digest or absent. Blobs already present with
///   the right size are kept. ``commit()`` writes `index.json` last, the same way, after fsyncing
///   the blob directory: an interrupted build leaves the previous `index.json` (pointing at the
///   previous, still present blobs) or the new one, never an index pointing at missing blobs.
///   Nothing is deleted: blobs of earlier builds stay, as with apko.
///
/// index.json describes this build only (``IndexMode/replace``) or keeps the entries already
/// there (``IndexMode/update``, for adding signatures to a built layout). Tagging adds an entry
/// annotated with `org.opencontainers.image.ref.name` = the tag and cosign's `kind`
/// (`dev.cosignproject.cosign/imageIndex` or `/image`), so `cosign verify --local-image` finds it;
/// ``addIndexEntry(_:)`` adds signature and attestation entries with their own `kind`.
public actor OCILayoutWriter: ImageDestination {
    /// What happens to the entries of an existing index.json.
    public enum IndexMode: Sendable {
        /// index.json lists only what this writer adds.
        case replace
        /// index.json keeps its entries; tags added here replace entries with the same ref.name.
        case update
    }

    /// The layout directory.
    public nonisolated let directory: String
    /// Where files are written before commit: a staging directory or `directory` itself. Files a
    /// caller puts here (SBOMs) become visible with the layout, in the same rename.
    public nonisolated let root: String
    private let isStaging: Bool
    private var entries: [Descriptor]
    private var committed = false

    /// The content of `oci-layout`, byte for byte what go-containerregistry (and so apko) writes.
    static let layoutFileContent = Array("{\n    \"imageLayoutVersion\": \"1.0.0\"\n}".utf8)
    /// The largest index.json read back (it grows with signatures, never with layers).
    static let maximumIndexSize = 16 << 20

    /// Opens `directory` for writing. A missing directory is staged next to it (its parent must
    /// exist); an existing one must be a directory, and an `oci-layout` file in it must say
    /// version 1.x. With ``IndexMode/update`` the existing index.json is read and kept.
    public init(directory: String, indexMode: IndexMode = .replace) throws(OCIError) {
        let directory = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.directory = directory
        switch FileSystem.kind(of: directory) {
        case .missing:
            guard indexMode == .replace else {
                throw OCIError(.notFound, "no OCI layout to update", source: directory)
            }
            let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
            guard FileSystem.kind(of: parent) == .directory else {
                throw OCIError(.io, "parent directory does not exist", source: directory,
                               hint: "create \(parent) first")
            }
            root = FileSystem.temporarySibling(of: directory)
            isStaging = true
            try FileSystem.makeDirectory(root)
            entries = []
        case .directory:
            root = directory
            isStaging = false
            let layoutFile = (directory as NSString).appendingPathComponent("oci-layout")
            if FileSystem.kind(of: layoutFile) != .missing {
                try Self.checkLayoutFile(layoutFile)
            }
            if indexMode == .update {
                let index = try OCILayout.readIndex(in: directory)
                entries = index.manifests
            } else {
                entries = []
            }
        case .file, .other:
            throw OCIError(.invalidLayout, "exists and is not a directory", source: directory,
                           hint: "a file output is written as a docker-archive tarball instead")
        }
        do {
            try FileSystem.makeDirectory((root as NSString).appendingPathComponent("blobs"))
            try FileSystem.makeDirectory((root as NSString).appendingPathComponent("blobs/sha256"))
        } catch {
            if isStaging { FileSystem.removeTree(root) }
            throw error
        }
    }

    deinit {
        if isStaging {
            if !committed { FileSystem.removeTree(root) }
        }
    }

    /// Writes `image` into `directory` as a complete layout tagged `refName`, and commits it.
    ///
    /// `beforeCommit` gets the directory being written (the staging directory of a new layout)
    /// after every blob and before index.json and the rename.
    /// `progress` gets `write` events named `directory`: `start` with the bytes of every blob and
    /// manifest, a `run` per blob, `commit` right before index.json is written (and the staging
    /// directory renamed into place), and `done` after.
    @discardableResult
    public static func write(_ image: MultiPlatformImage, to directory: String, refName: String,
                             progress: ProgressReporter = .none,
                             beforeCommit: (_ root: String) async throws -> Void = { _ in }) async throws -> PublishReport {
        let writer = try OCILayoutWriter(directory: directory)
        let report = try await ImagePublisher.publish(image, to: writer, tags: [refName],
                                                      progress: PublishProgress(progress, .write, item: directory))
        // Files the caller adds (SBOMs) appear with the layout, in the same rename.
        try await beforeCommit(writer.root)
        let total = ImagePublisher.totalBytes(image.images, plus: [image.index.descriptor])
        progress.commit(.write, directory, bytes: total)
        try await writer.commit()
        progress.finish(.write, directory, bytes: total)
        return report
    }

    // MARK: ImageDestination

    /// Whether `blobs/sha256/<hex>` exists with the descriptor's size. The content is not
    /// re-hashed: this writer only ever renames complete, verified blobs into place.
    public func blobExists(_ descriptor: Descriptor) throws(OCIError) -> Bool {
        FileSystem.fileSize(try blobPath(descriptor.digest)) == descriptor.size
    }

    /// Stores a blob under `blobs/sha256/<hex>` through a temporary name. The content is checked
    /// against the descriptor before it is renamed into place: a file on the same file system is
    /// hard-linked and then hashed (reading is cheaper than a second copy of a layer; the caller
    /// must not change the file afterwards) — or only its size checked when the blob was hashed by
    /// this process just before (a layer from ``LayerBlobWriter`` or ``LayerCache``) — any other
    /// file is copied and hashed while copying.
    public func putBlob(_ blob: Blob) throws(OCIError) {
        try checkWritable()
        let path = try blobPath(blob.descriptor.digest)
        switch blob.content {
        case .bytes(let bytes):
            try blob.verify()
            try FileSystem.writeAtomically(bytes, to: path)
        case .file(let source):
            let temporary = FileSystem.temporarySibling(of: path)
            guard link(source, temporary) == 0 else {
                try copy(blob, from: source, to: path)
                return
            }
            do throws(OCIError) {
                if blob.isContentVerified {
                    let size = FileSystem.fileSize(temporary) ?? -1
                    guard size == blob.descriptor.size else {
                        throw OCIError(.sizeMismatch, "content is \(size) bytes, its descriptor says \(blob.descriptor.size)", source: source)
                    }
                } else {
                    let (size, digest) = try BlobCheck.hashFile(temporary, algorithm: blob.descriptor.digest.algorithm)
                    try BlobCheck.verify(size: size, digest: digest, against: blob.descriptor, source: source)
                }
                try FileSystem.rename(temporary, to: path)
            } catch {
                unlink(temporary)
                throw error
            }
        }
    }

    /// Whether the manifest's blob is stored.
    public func manifestExists(_ descriptor: Descriptor) throws(OCIError) -> Bool {
        try blobExists(descriptor)
    }

    /// Stores a manifest as a blob.
    public func putManifest(_ manifest: RawManifest) throws(OCIError) {
        try putBlob(Blob(descriptor: manifest.descriptor, content: .bytes(manifest.bytes)))
    }

    /// The entry whose `org.opencontainers.image.ref.name` is `tag`.
    public func resolveTag(_ tag: String) -> Descriptor? {
        entries.first { $0.annotation(AnnotationKey.refName) == tag }
    }

    /// Adds an index.json entry for `manifest` named `tag`, replacing any entry with that name.
    /// The entry carries cosign's `kind` for an index or an image manifest.
    public func setTag(_ tag: String, to manifest: RawManifest) throws(OCIError) {
        try checkWritable()
        guard OCILayout.isValidRefName(tag) else {
            throw OCIError(.invalidReference, "\"\(tag)\" is not a valid org.opencontainers.image.ref.name",
                           hint: "use letters, digits and - . _ : @ / + in components that start and end with a letter or digit")
        }
        var descriptor = manifest.descriptor
        var annotations = [AnnotationKey.refName: tag]
        if MediaType.isIndex(descriptor.mediaType) {
            annotations[AnnotationKey.cosignKind] = CosignLayoutKind.imageIndex
        } else if MediaType.isImageManifest(descriptor.mediaType) {
            annotations[AnnotationKey.cosignKind] = CosignLayoutKind.image
        }
        descriptor.annotations = annotations
        try addIndexEntry(descriptor)
    }

    // MARK: index.json

    /// The entries index.json will list, in order.
    public var indexEntries: [Descriptor] { entries }

    /// Adds an entry to index.json (signatures and attestations: a descriptor of a manifest
    /// already stored here, annotated `kind: dev.cosignproject.cosign/sigs` or `/atts`). An entry
    /// with the same ref.name, or the same digest and `kind`, is replaced in place.
    public func addIndexEntry(_ descriptor: Descriptor) throws(OCIError) {
        try checkWritable()
        guard try manifestExists(descriptor) else {
            throw OCIError(.notFound, "index.json entry \(descriptor.digest) points at a manifest that is not stored",
                           source: directory, hint: "put the manifest (and its blobs) first")
        }
        let refName = descriptor.annotation(AnnotationKey.refName)
        let kind = descriptor.annotation(AnnotationKey.cosignKind)
        let replaces: (Descriptor) -> Bool = { existing in
            if let refName { return existing.annotation(AnnotationKey.refName) == refName }
            return existing.digest == descriptor.digest && existing.annotation(AnnotationKey.cosignKind) == kind
                && existing.annotation(AnnotationKey.refName) == nil
        }
        var updated: [Descriptor] = []
        var placed = false
        for existing in entries {
            if !replaces(existing) {
                updated.append(existing)
            } else if !placed {
                updated.append(descriptor)
                placed = true
            }
        }
        if !placed { updated.append(descriptor) }
        entries = updated
    }

    /// Removes the index.json entries `shouldRemove` selects.
    public func removeIndexEntries(where shouldRemove: @Sendable (Descriptor) -> Bool) throws(OCIError) {
        try checkWritable()
        entries.removeAll(where: shouldRemove)
    }

    /// Makes the layout visible: writes `oci-layout` and index.json (last, after fsyncing the
    /// blobs), or renames the staging directory into place. Returns the bytes of index.json.
    @discardableResult
    public func commit() throws(OCIError) -> [UInt8] {
        try checkWritable()
        for entry in entries where !(try blobExists(entry)) {
            throw OCIError(.notFound, "index.json entry \(entry.digest) has no blob", source: directory)
        }
        let index = try CanonicalJSON.encode(ImageIndex(manifests: entries))
        let layoutFile = (root as NSString).appendingPathComponent("oci-layout")
        if (try? FileSystem.read(layoutFile, limit: 4096)) != Self.layoutFileContent {
            try FileSystem.writeAtomically(Self.layoutFileContent, to: layoutFile)
        }
        try FileSystem.synchronizeDirectory((root as NSString).appendingPathComponent("blobs/sha256"))
        try FileSystem.synchronizeDirectory((root as NSString).appendingPathComponent("blobs"))
        try FileSystem.writeAtomically(index, to: (root as NSString).appendingPathComponent("index.json"))
        try FileSystem.synchronizeDirectory(root)
        if isStaging {
            // rename(2) would replace an empty directory created meanwhile; refuse instead of
            // silently taking over a directory someone else made.
            guard FileSystem.kind(of: directory) == .missing else {
                throw OCIError(.invalidLayout, "appeared while the layout was being written", source: directory,
                               hint: "run again; it will be written inside the existing directory")
            }
            try FileSystem.rename(root, to: directory)
        }
        try FileSystem.synchronizeDirectory(URL(fileURLWithPath: directory).deletingLastPathComponent().path)
        committed = true
        return index
    }

    // MARK: Helpers

    private func checkWritable() throws(OCIError) {
        guard !committed else {
            throw OCIError(.invalidArgument, "layout was already committed", source: directory,
                           hint: "open it again with indexMode .update to add entries")
        }
    }

    private func blobPath(_ digest: Digest) throws(OCIError) -> String {
        guard digest.algorithm == .sha256 else {
            throw OCIError(.invalidDescriptor, "only sha256 blobs are written, not \(digest)")
        }
        return (root as NSString).appendingPathComponent("blobs/sha256/\(digest.hex)")
    }

    /// Copies a file blob through a temporary name, hashing as it goes, and renames it into place
    /// only when size and digest match.
    private func copy(_ blob: Blob, from source: String, to path: String) throws(OCIError) {
        try FileSystem.writeAtomically(to: path) { sink throws(OCIError) in
            let hasher = HashingSink(blob.descriptor.digest.algorithm)
            try mapErrors(.io, "cannot copy blob", source: source) {
                let input = try FileDescriptorSource(path: source)
                defer { try? input.close() }
                _ = try input.copy(to: TeeSink(sink, observer: hasher))
            }
            try BlobCheck.verify(size: hasher.count, digest: hasher.finalize(), against: blob.descriptor, source: source)
        }
    }

    private static func checkLayoutFile(_ path: String) throws(OCIError) {
        struct LayoutFile: Decodable { let imageLayoutVersion: String }
        let file = try CanonicalJSON.decode(LayoutFile.self, from: try FileSystem.read(path, limit: 4096), source: path)
        guard file.imageLayoutVersion.hasPrefix("1.") else {
            throw OCIError(.invalidLayout, "unsupported imageLayoutVersion \(file.imageLayoutVersion)", source: path)
        }
    }
}
