/// An OCI image manifest: one image's config and layers (or, with `artifactType`, an artifact such
/// as a signature or an SBOM).
public struct ImageManifest: Codable, Sendable, Hashable {
    /// Always 2.
    public var schemaVersion: Int
    /// `application/vnd.oci.image.manifest.v1+json` (or Docker's type for a Docker manifest read back).
    public var mediaType: String?
    /// The artifact's type, when the manifest is an artifact rather than an image (OCI 1.1).
    public var artifactType: String?
    /// The configuration blob.
    public var config: Descriptor
    /// The layers, bottom first.
    public var layers: [Descriptor]
    /// The manifest this one refers to (OCI 1.1 referrers: signatures, SBOMs).
    public var subject: Descriptor?
    /// Metadata (apko: created, source, revision and the config's annotations).
    public var annotations: [String: String]?

    /// An OCI image manifest.
    public init(config: Descriptor, layers: [Descriptor], annotations: [String: String]? = nil,
                artifactType: String? = nil, subject: Descriptor? = nil,
                mediaType: String = MediaType.imageManifest) {
        self.schemaVersion = 2
        self.mediaType = mediaType
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = subject
        self.annotations = annotations
    }
}

/// An OCI image index: a list of manifests, one per platform for a multi-arch image.
public struct ImageIndex: Codable, Sendable, Hashable {
    /// Always 2.
    public var schemaVersion: Int
    /// `application/vnd.oci.image.index.v1+json` (absent in some older index.json files).
    public var mediaType: String?
    /// The artifact's type, when the index is an artifact (OCI 1.1).
    public var artifactType: String?
    /// The manifests, each with its platform.
    public var manifests: [Descriptor]
    /// The manifest this one refers to (OCI 1.1).
    public var subject: Descriptor?
    /// Metadata.
    public var annotations: [String: String]?

    /// An OCI image index over `manifests`, kept in the order given.
    public init(manifests: [Descriptor], annotations: [String: String]? = nil,
                artifactType: String? = nil, subject: Descriptor? = nil) {
        self.schemaVersion = 2
        self.mediaType = MediaType.imageIndex
        self.artifactType = artifactType
        self.manifests = manifests
        self.subject = subject
        self.annotations = annotations
    }
}
