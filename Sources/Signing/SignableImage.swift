import DistillCrypto
import OCI

/// The manifests of one image that get signed and attested: the top-level manifest or index
/// (what `cosign verify` resolves a tag to) and, below an index, every platform manifest (what
/// podman and skopeo check when they copy one platform).
public struct SignableImage: Sendable, Hashable {
    /// One manifest to sign, with how reports name it.
    public struct Manifest: Sendable, Hashable {
        /// The manifest's descriptor (media type, digest, size; the platform below an index).
        public var descriptor: Descriptor
        /// Whether this is the top-level manifest or index.
        public var isTopLevel: Bool

        /// `index` for an index, the platform (`linux/arm64`) for a platform manifest, `image`
        /// for a top-level manifest whose platform is not known.
        public var label: String {
            if MediaType.isIndex(descriptor.mediaType) { return "index" }
            return descriptor.platform?.description ?? "image"
        }
    }

    /// The top-level manifest or index.
    public let top: Descriptor
    /// The platform manifests below an index, in index order (empty for a single manifest).
    public let platformManifests: [Descriptor]

    /// An image from its top-level descriptor and, for an index, its entries.
    public init(top: Descriptor, platformManifests: [Descriptor]) {
        self.top = top
        self.platformManifests = platformManifests
    }

    /// The image Distill built or loaded.
    public init(_ image: MultiPlatformImage) {
        self.init(top: image.index.descriptor, platformManifests: image.index.value.manifests)
    }

    /// An image read back from a layout or a registry.
    public init(_ image: LoadedImage) {
        switch image {
        case .index(let index): self.init(index)
        case .image(let single): self.init(top: single.indexDescriptor, platformManifests: [])
        }
    }

    /// Every manifest to sign: the top-level one first, then the platforms.
    public var manifests: [Manifest] {
        [Manifest(descriptor: top, isTopLevel: true)]
            + platformManifests.map { Manifest(descriptor: $0, isTopLevel: false) }
    }

    /// Reads the image `descriptor` names from `source`, manifests only (each verified against
    /// its digest; layers are not fetched, so signing an image in a registry stays cheap).
    /// Nested indexes are refused, as Distill never writes them.
    public static func load(_ descriptor: Descriptor, from source: some ImageSource) async throws -> SignableImage {
        guard MediaType.isIndex(descriptor.mediaType) else {
            guard MediaType.isImageManifest(descriptor.mediaType) else {
                throw SigningError(.invalidArgument, "media type \(descriptor.mediaType) is neither an index nor an image manifest",
                                   source: "manifest \(descriptor.digest)")
            }
            _ = try await source.manifest(descriptor)
            return SignableImage(top: descriptor, platformManifests: [])
        }
        let raw = try await source.manifest(descriptor)
        let index = try JSONDocument<ImageIndex>(decoding: raw.bytes, mediaType: descriptor.mediaType,
                                                 source: "index \(descriptor.digest)")
        for child in index.value.manifests {
            guard MediaType.isImageManifest(child.mediaType) else {
                throw SigningError(.invalidArgument, "index entry \(child.digest) has media type \(child.mediaType); only image manifests can be signed below an index",
                                   source: "index \(descriptor.digest)")
            }
            _ = try await source.manifest(child)
        }
        return SignableImage(top: descriptor, platformManifests: index.value.manifests)
    }
}
