import DistillCrypto

/// One image manifest with every blob it references: an image for one platform, or an artifact
/// such as a cosign signature manifest (which is an image manifest too).
public struct Image: Sendable {
    /// The manifest, as the exact bytes that are published.
    public let manifest: JSONDocument<ImageManifest>
    /// The config blob (first) and the layer blobs, in manifest order.
    public let blobs: [Blob]
    /// The platform, from the image configuration, when the config is one.
    public let platform: Platform?

    /// Assembles a platform image: checks that the configuration's diff_ids are the layers'
    /// (same count, same order), serializes the configuration and the manifest canonically.
    /// `annotations` go on the manifest (apko: the same map as on the index).
    public init(configuration: ImageConfiguration, layers: [LayerBlob], annotations: [String: String]? = nil) throws(OCIError) {
        let layerDiffIDs = layers.map(\.diffID)
        guard configuration.rootfs.diffIDs == layerDiffIDs else {
            throw OCIError(.invalidImage,
                           "config rootfs.diff_ids [\(configuration.rootfs.diffIDs.map(\.description).joined(separator: ", "))] do not match the layers' diff_ids [\(layerDiffIDs.map(\.description).joined(separator: ", "))]")
        }
        let config = try JSONDocument(encoding: configuration, mediaType: MediaType.imageConfig)
        let manifest = try JSONDocument(
            encoding: ImageManifest(config: config.descriptor, layers: layers.map(\.descriptor), annotations: annotations),
            mediaType: MediaType.imageManifest)
        self.manifest = manifest
        self.blobs = [config.blob] + layers.map(\.blob)
        self.platform = configuration.platform
    }

    /// An image from a manifest and its blobs as they are (read back from a layout or built by
    /// another module, e.g. a signature manifest). Every descriptor the manifest references must
    /// have a blob, and no other blob may be given; the blobs' contents are not re-hashed here.
    public init(manifest: JSONDocument<ImageManifest>, blobs: [Blob], platform: Platform? = nil) throws(OCIError) {
        let referenced = [manifest.value.config] + manifest.value.layers
        let given = Dictionary(blobs.map { ($0.descriptor.digest, $0) }, uniquingKeysWith: { first, _ in first })
        for descriptor in referenced {
            guard let blob = given[descriptor.digest] else {
                throw OCIError(.invalidImage, "manifest \(manifest.descriptor.digest) references \(descriptor.digest), which was not given")
            }
            guard blob.descriptor.size == descriptor.size else {
                throw OCIError(.sizeMismatch, "blob \(descriptor.digest) is \(blob.descriptor.size) bytes, the manifest says \(descriptor.size)")
            }
        }
        let referencedDigests = Set(referenced.map(\.digest))
        if let extra = blobs.first(where: { !referencedDigests.contains($0.descriptor.digest) }) {
            throw OCIError(.invalidImage, "blob \(extra.descriptor.digest) is not referenced by manifest \(manifest.descriptor.digest)")
        }
        self.manifest = manifest
        self.blobs = referenced.map { given[$0.digest]! }
        self.platform = platform
    }

    /// The manifest's descriptor, with the platform when known (as it goes into an index).
    public var indexDescriptor: Descriptor {
        var descriptor = manifest.descriptor
        descriptor.platform = platform
        return descriptor
    }
}

/// A multi-platform image: an index and one image per platform. Distill always publishes an
/// index, even for a single platform (as apko does).
public struct MultiPlatformImage: Sendable {
    /// The index, as the exact bytes that are published.
    public let index: JSONDocument<ImageIndex>
    /// The platform images, in index order.
    public let images: [Image]

    /// Builds the index over `images`, sorted by platform (architecture, then variant, then OS,
    /// bytewise) so the order never depends on the order archs were built in. Two images for the
    /// same platform are refused.
    public init(images: [Image], annotations: [String: String]? = nil) throws(OCIError) {
        guard !images.isEmpty else { throw OCIError(.invalidImage, "an image index needs at least one image") }
        var seen: Set<Platform> = []
        for image in images {
            guard let platform = image.platform else {
                throw OCIError(.invalidImage, "image \(image.manifest.descriptor.digest) has no platform, so it cannot go into an index")
            }
            guard seen.insert(platform).inserted else {
                throw OCIError(.invalidImage, "two images for platform \(platform)")
            }
        }
        let sorted = images.sorted { $0.platform!.sortKey.lexicographicallyPrecedes($1.platform!.sortKey) }
        self.index = try JSONDocument(encoding: ImageIndex(manifests: sorted.map(\.indexDescriptor), annotations: annotations),
                                      mediaType: MediaType.imageIndex)
        self.images = sorted
    }

    /// An index read back with its images as they are. Each manifest the index lists must have
    /// exactly one image, and no other image may be given.
    public init(index: JSONDocument<ImageIndex>, images: [Image]) throws(OCIError) {
        let given = Dictionary(images.map { ($0.manifest.descriptor.digest, $0) }, uniquingKeysWith: { first, _ in first })
        var ordered: [Image] = []
        for descriptor in index.value.manifests {
            guard let image = given[descriptor.digest] else {
                throw OCIError(.invalidImage, "index \(index.descriptor.digest) lists \(descriptor.digest), which was not given")
            }
            ordered.append(image)
        }
        guard Set(ordered.map(\.manifest.descriptor.digest)).count == given.count else {
            throw OCIError(.invalidImage, "an image given is not listed in index \(index.descriptor.digest)")
        }
        self.index = index
        self.images = ordered
    }
}
