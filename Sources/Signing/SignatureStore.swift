import DistillCrypto
import OCI

/// Where `.sig` and `.att` artifacts are read from and written to: an OCI layout
/// (``LayoutSignatureStore``) or a registry repository (``RegistrySignatureStore``). Both write
/// through the OCI module's ``ImageDestination``.
public protocol SignatureStore: Sendable {
    /// The artifact stored under `tag` (`sha256-<hex>.sig`), with its blobs, or nil when there
    /// is none.
    func artifact(tag: String) async throws -> Image?
    /// Stores `artifact` (blobs, then the manifest) and points `tag` at it. `ofTopLevelImage`
    /// says whether it belongs to the top-level image (cosign's local layout marks only that
    /// one with its `kind`).
    func store(_ artifact: Image, tag: String, kind: CosignArtifactKind, ofTopLevelImage: Bool) async throws
}

/// The signatures of an image in an OCI layout, in cosign's local-layout conventions.
///
/// Every artifact gets an index.json entry named by its tag (`org.opencontainers.image.ref.name`
/// = `sha256-<hex>.sig|.att`), which is how Distill finds it again. The artifacts of the
/// top-level image also carry cosign's `kind` (`dev.cosignproject.cosign/sigs` or `/atts`):
/// `cosign verify --local-image` takes the *first* entry of each kind and checks it against the
/// digest of the entry marked as the image (index), so per-platform artifacts must not carry it.
/// Entries are updated in place, so the order cosign relies on stays stable when re-signing.
public actor LayoutSignatureStore: SignatureStore {
    /// The layout directory.
    public nonisolated let directory: String
    private let writer: OCILayoutWriter
    private let reader: OCILayout
    /// Whether the top-level artifacts get cosign's `kind`: not when another entry is cosign's
    /// image, whose signatures cosign would then look for instead.
    private var marksTopLevelArtifacts = true

    /// Opens the layout at `directory` for adding signatures (its index.json is kept).
    public init(directory: String) throws(SigningError) {
        do {
            self.reader = try OCILayout(directory: directory)
            self.writer = try OCILayoutWriter(directory: directory, indexMode: .update)
        } catch {
            throw SigningError.wrapping(error, source: directory)
        }
        self.directory = directory
    }

    /// The layout as an image source (for loading the image to sign).
    public nonisolated var source: OCILayout { reader }

    /// Makes the index.json entry of the image being signed the one cosign verifies: it gets
    /// cosign's `kind` (`dev.cosignproject.cosign/imageIndex` or `/image`) when it lacks it, as
    /// in layouts other tools wrote, unless another entry already carries that role.
    public func adoptImageEntry(_ entry: Descriptor) async throws {
        let imageKinds: Set<String> = [CosignLayoutKind.image, CosignLayoutKind.imageIndex]
        let entries = await writer.indexEntries
        let isCosignImage = { (descriptor: Descriptor) in descriptor.annotation(AnnotationKey.cosignKind).map(imageKinds.contains) ?? false }
        if isCosignImage(entry) {
            marksTopLevelArtifacts = true
            return
        }
        if entries.contains(where: isCosignImage) {
            marksTopLevelArtifacts = false
            return
        }
        var marked = entry
        var annotations = entry.annotations ?? [:]
        annotations[AnnotationKey.cosignKind] = MediaType.isIndex(entry.mediaType) ? CosignLayoutKind.imageIndex : CosignLayoutKind.image
        marked.annotations = annotations
        if entry.annotation(AnnotationKey.refName) == nil {
            try await writer.removeIndexEntries { $0 == entry }
        }
        try await writer.addIndexEntry(marked)
        marksTopLevelArtifacts = true
    }

    /// The artifact the entry named `tag` points at.
    public func artifact(tag: String) async throws -> Image? {
        guard let descriptor = await writer.resolveTag(tag) else { return nil }
        return try await ImageLoader.loadImage(descriptor, from: reader)
    }

    /// Writes the artifact's blobs and manifest, and adds (or replaces) its index.json entry.
    public func store(_ artifact: Image, tag: String, kind: CosignArtifactKind, ofTopLevelImage: Bool) async throws {
        _ = try await ImagePublisher.publish(artifact, to: writer, tags: [])
        var entry = artifact.manifest.descriptor
        var annotations = [AnnotationKey.refName: tag]
        if ofTopLevelImage && marksTopLevelArtifacts { annotations[AnnotationKey.cosignKind] = kind.layoutKind }
        entry.annotations = annotations
        try await writer.addIndexEntry(entry)
    }

    /// Writes index.json (after the blobs are on disk), making the new artifacts visible.
    public func commit() async throws {
        try await writer.commit()
    }
}

/// The signatures of an image in a registry: tags `sha256-<hex>.sig|.att` in the image's own
/// repository, where both cosign and containers/image look for them.
public struct RegistrySignatureStore: SignatureStore {
    /// The repository, as a destination for writes.
    public let destination: RegistryDestination
    /// The repository, as a source for reads.
    public let source: RegistrySource

    /// The store in `repository` through `client`.
    public init(client: RegistryClient, repository: String) {
        self.destination = RegistryDestination(client: client, repository: repository)
        self.source = RegistrySource(client: client, repository: repository, maximumBlobSize: DSSEEnvelope.maximumSize)
    }

    /// The manifest tagged `tag` with its blobs, or nil when the tag does not exist.
    public func artifact(tag: String) async throws -> Image? {
        guard let descriptor = try await destination.resolveTag(tag) else { return nil }
        return try await ImageLoader.loadImage(descriptor, from: source)
    }

    /// Pushes the blobs the registry lacks, the manifest by digest, then the tag.
    public func store(_ artifact: Image, tag: String, kind: CosignArtifactKind, ofTopLevelImage: Bool) async throws {
        _ = try await ImagePublisher.publish(artifact, to: destination, tags: [tag])
    }
}
