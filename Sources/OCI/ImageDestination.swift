import DistillCrypto
public import ProgressReporting

/// Somewhere images are published: an OCI layout directory (``OCILayoutWriter``) or a registry
/// repository (``RegistryDestination``). ``ImagePublisher`` drives both the same way.
public protocol ImageDestination: Sendable {
    /// Whether a blob with this digest (and size) is already there.
    func blobExists(_ descriptor: Descriptor) async throws -> Bool
    /// Stores a blob under its digest.
    func putBlob(_ blob: Blob) async throws
    /// Whether a manifest with this digest is already there.
    func manifestExists(_ descriptor: Descriptor) async throws -> Bool
    /// Stores a manifest or index under its digest, without tagging it.
    func putManifest(_ manifest: RawManifest) async throws
    /// The descriptor `tag` currently points at, or nil when the tag does not exist.
    func resolveTag(_ tag: String) async throws -> Descriptor?
    /// Points `tag` at a manifest that is already stored.
    func setTag(_ tag: String, to manifest: RawManifest) async throws
}

/// Where a publish reports its progress, and as what.
public struct PublishProgress: Sendable {
    /// The receiver.
    public var reporter: ProgressReporter
    /// `write` for a local output, `push` for a registry.
    public var activity: ProgressEvent.Activity
    /// The item: the output path or the image reference.
    public var item: String

    /// Progress of `item` as `activity`, sent to `reporter`.
    public init(_ reporter: ProgressReporter, _ activity: ProgressEvent.Activity, item: String) {
        self.reporter = reporter
        self.activity = activity
        self.item = item
    }
}

/// What a publish did.
public struct PublishReport: Sendable, Equatable {
    /// The digest of the top-level manifest or index that the tags point at.
    public var digest: Digest
    /// Blobs that were uploaded or written.
    public var blobsWritten: [Digest] = []
    /// Blobs that were already there.
    public var blobsSkipped: [Digest] = []
    /// Manifests (and indexes) that were stored.
    public var manifestsWritten: [Digest] = []
    /// Manifests that were already there.
    public var manifestsSkipped: [Digest] = []
    /// Tags that were set (tags already pointing at `digest` are left alone and not listed).
    public var tagsSet: [String] = []

    /// An empty report for `digest`.
    public init(digest: Digest) {
        self.digest = digest
    }
}

/// Publishes images bottom-up so that nothing ever points at something missing: every blob first
/// (skipping those already there), then each manifest by digest, then the index by digest, and
/// only when all of that succeeded, the tags. A failure anywhere leaves no tag pointing at an
/// incomplete image.
///
/// Progress: with a ``PublishProgress`` the publisher reports a `start` for its item with the
/// total bytes of every blob and manifest, then a `run` after each one is stored or found already
/// there. The caller reports `done` (and, for an output renamed into place, `commit` first), as
/// only it knows when the destination is complete.
public enum ImagePublisher {
    /// Publishes a multi-platform image and points every tag in `tags` at its index.
    @discardableResult
    public static func publish(_ image: MultiPlatformImage, to destination: some ImageDestination,
                               tags: [String], progress: PublishProgress? = nil) async throws -> PublishReport {
        var report = PublishReport(digest: image.index.descriptor.digest)
        var done: Set<Digest> = []
        var counter = progress.map { ProgressCounter($0, total: totalBytes(image.images, plus: [image.index.descriptor])) }
        for platformImage in image.images {
            try await store(platformImage, in: destination, report: &report, done: &done, counter: &counter)
        }
        try await storeManifest(image.index.rawManifest, in: destination, report: &report, done: &done, counter: &counter)
        try await tag(image.index.rawManifest, as: tags, in: destination, report: &report)
        return report
    }

    /// Publishes one image (or artifact manifest) and points every tag in `tags` at it.
    @discardableResult
    public static func publish(_ image: Image, to destination: some ImageDestination,
                               tags: [String], progress: PublishProgress? = nil) async throws -> PublishReport {
        var report = PublishReport(digest: image.manifest.descriptor.digest)
        var done: Set<Digest> = []
        var counter = progress.map { ProgressCounter($0, total: totalBytes([image], plus: [])) }
        try await store(image, in: destination, report: &report, done: &done, counter: &counter)
        try await tag(image.manifest.rawManifest, as: tags, in: destination, report: &report)
        return report
    }

    /// The bytes of every distinct blob and manifest of `images` and `extra`.
    static func totalBytes(_ images: [Image], plus extra: [Descriptor]) -> Int64 {
        var seen: Set<Digest> = []
        var total: Int64 = 0
        for descriptor in images.flatMap({ $0.blobs.map(\.descriptor) + [$0.manifest.descriptor] }) + extra
        where seen.insert(descriptor.digest).inserted {
            total += descriptor.size
        }
        return total
    }

    private static func store(_ image: Image, in destination: some ImageDestination, report: inout PublishReport,
                              done: inout Set<Digest>, counter: inout ProgressCounter?) async throws {
        for blob in image.blobs where done.insert(blob.descriptor.digest).inserted {
            if try await destination.blobExists(blob.descriptor) {
                report.blobsSkipped.append(blob.descriptor.digest)
            } else {
                try await destination.putBlob(blob)
                report.blobsWritten.append(blob.descriptor.digest)
            }
            counter?.add(blob.descriptor.size)
        }
        try await storeManifest(image.manifest.rawManifest, in: destination, report: &report, done: &done, counter: &counter)
    }

    private static func storeManifest(_ manifest: RawManifest, in destination: some ImageDestination, report: inout PublishReport,
                                      done: inout Set<Digest>, counter: inout ProgressCounter?) async throws {
        guard done.insert(manifest.descriptor.digest).inserted else { return }
        if try await destination.manifestExists(manifest.descriptor) {
            report.manifestsSkipped.append(manifest.descriptor.digest)
        } else {
            try await destination.putManifest(manifest)
            report.manifestsWritten.append(manifest.descriptor.digest)
        }
        counter?.add(manifest.descriptor.size)
    }

    /// Bytes stored so far for one publish.
    struct ProgressCounter {
        let progress: PublishProgress
        let total: Int64
        var completed: Int64 = 0

        init(_ progress: PublishProgress, total: Int64) {
            self.progress = progress
            self.total = total
            progress.reporter.start(progress.activity, progress.item, total: total)
        }

        mutating func add(_ bytes: Int64) {
            completed += bytes
            progress.reporter.advance(progress.activity, progress.item, completed: completed, total: total)
        }
    }

    private static func tag(_ manifest: RawManifest, as tags: [String], in destination: some ImageDestination,
                            report: inout PublishReport) async throws {
        report.tagsSet += try await tag(manifest, as: tags, in: destination)
    }

    /// Points every tag in `tags` at `manifest`, which must already be stored with everything
    /// below it (for callers that do more, such as signing, between storing and tagging).
    /// Returns the tags that were set; those already pointing at it are left alone.
    @discardableResult
    public static func tag(_ manifest: RawManifest, as tags: [String], in destination: some ImageDestination) async throws -> [String] {
        var set: [String] = []
        for tag in tags {
            if let current = try await destination.resolveTag(tag), current.digest == manifest.descriptor.digest {
                continue
            }
            try await destination.setTag(tag, to: manifest)
            set.append(tag)
        }
        return set
    }
}
