import DistillCrypto

/// Somewhere built images can be read back from: an OCI layout directory (``OCILayout``) or a
/// registry repository (``RegistrySource``). Everything returned is verified against its digest.
public protocol ImageSource: Sendable {
    /// The descriptor a tag (or a digest string, `sha256:…`) names.
    func resolve(_ reference: String) async throws -> Descriptor
    /// The manifest or index `descriptor` points at, checked against its digest and size.
    func manifest(_ descriptor: Descriptor) async throws -> RawManifest
    /// The blob `descriptor` points at, checked against its digest and size.
    func blob(_ descriptor: Descriptor) async throws -> Blob
}

/// An image read back from a source: a multi-platform index or a single manifest.
public enum LoadedImage: Sendable {
    /// An index with its platform images.
    case index(MultiPlatformImage)
    /// A single image (or artifact) manifest.
    case image(Image)

    /// The digest of the top-level manifest or index.
    public var digest: Digest {
        switch self {
        case .index(let image): image.index.descriptor.digest
        case .image(let image): image.manifest.descriptor.digest
        }
    }

    /// Publishes the image to `destination`, pointing `tags` at it (see
    /// ``ImagePublisher`` for `progress`).
    public func publish(to destination: some ImageDestination, tags: [String],
                        progress: PublishProgress? = nil) async throws -> PublishReport {
        switch self {
        case .index(let image): try await ImagePublisher.publish(image, to: destination, tags: tags, progress: progress)
        case .image(let image): try await ImagePublisher.publish(image, to: destination, tags: tags, progress: progress)
        }
    }

    /// The bytes of every distinct blob and manifest of the image.
    public var totalBytes: Int64 {
        switch self {
        case .index(let image): ImagePublisher.totalBytes(image.images, plus: [image.index.descriptor])
        case .image(let image): ImagePublisher.totalBytes([image], plus: [])
        }
    }
}

/// Reads a whole image graph (index → manifests → config and layers) from an ``ImageSource``.
public enum ImageLoader {
    /// Loads what `descriptor` points at. Nested indexes are not followed (Distill never writes
    /// them below the top level): an index entry that is itself an index is refused.
    public static func load(_ descriptor: Descriptor, from source: some ImageSource) async throws -> LoadedImage {
        let raw = try await source.manifest(descriptor)
        let origin = "manifest \(descriptor.digest)"
        if MediaType.isIndex(descriptor.mediaType) {
            let index = try JSONDocument<ImageIndex>(decoding: raw.bytes, mediaType: descriptor.mediaType, source: origin)
            try checkSchema(index.value.schemaVersion, mediaType: index.value.mediaType, expected: descriptor.mediaType, source: origin)
            var images: [Image] = []
            for child in index.value.manifests {
                guard MediaType.isImageManifest(child.mediaType) else {
                    throw OCIError(.invalidImage, "index entry \(child.digest) has media type \(child.mediaType); only image manifests are supported below an index",
                                   source: origin)
                }
                images.append(try await loadImage(child, from: source))
            }
            return .index(try MultiPlatformImage(index: index, images: images))
        }
        guard MediaType.isImageManifest(descriptor.mediaType) else {
            throw OCIError(.invalidDescriptor, "media type \(descriptor.mediaType) is neither an index nor an image manifest",
                           source: origin)
        }
        return .image(try await loadImage(descriptor, from: source, raw: raw))
    }

    /// Loads one image manifest and its blobs; the platform comes from the index entry.
    public static func loadImage(_ descriptor: Descriptor, from source: some ImageSource) async throws -> Image {
        try await loadImage(descriptor, from: source, raw: try await source.manifest(descriptor))
    }

    private static func loadImage(_ descriptor: Descriptor, from source: some ImageSource, raw: RawManifest) async throws -> Image {
        let origin = "manifest \(descriptor.digest)"
        let manifest = try JSONDocument<ImageManifest>(decoding: raw.bytes, mediaType: descriptor.mediaType, source: origin)
        try checkSchema(manifest.value.schemaVersion, mediaType: manifest.value.mediaType, expected: descriptor.mediaType, source: origin)
        var blobs: [Blob] = []
        for blobDescriptor in [manifest.value.config] + manifest.value.layers {
            blobs.append(try await source.blob(blobDescriptor))
        }
        return try Image(manifest: manifest, blobs: blobs, platform: descriptor.platform)
    }

    private static func checkSchema(_ version: Int, mediaType: String?, expected: String, source: String) throws(OCIError) {
        guard version == 2 else {
            throw OCIError(.invalidJSON, "schemaVersion is \(version), expected 2", source: source)
        }
        if let mediaType, mediaType != expected {
            throw OCIError(.invalidDescriptor, "document says mediaType \(mediaType) but its descriptor says \(expected)", source: source)
        }
    }
}
