/// The media types Distill writes and reads (OCI image-spec 1.1, Docker's registry types, cosign's).
public enum MediaType {
    /// An OCI image index (a list of per-platform manifests).
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    /// An OCI image manifest.
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    /// An OCI image configuration.
    public static let imageConfig = "application/vnd.oci.image.config.v1+json"
    /// A gzip-compressed tar layer.
    public static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    /// An uncompressed tar layer.
    public static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    /// The empty descriptor's type (OCI 1.1 artifacts): content `{}`.
    public static let empty = "application/vnd.oci.empty.v1+json"

    /// Docker's manifest list, the Docker counterpart of an image index.
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    /// Docker's schema 2 image manifest.
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    /// Docker's image configuration.
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    /// Docker's gzip-compressed layer.
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    /// cosign's signature payload layer ("simple signing" JSON).
    public static let cosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"

    /// Every manifest type a registry may answer a GET with: sent as `Accept` on every manifest
    /// request, because docker-registry answers 404 when the stored type is not accepted.
    public static let acceptedManifestTypes = [imageIndex, imageManifest, dockerManifestList, dockerManifest]

    /// Whether `mediaType` is an index (OCI or Docker): a list of manifests rather than an image.
    public static func isIndex(_ mediaType: String) -> Bool {
        mediaType == imageIndex || mediaType == dockerManifestList
    }

    /// Whether `mediaType` is a single image manifest (OCI or Docker).
    public static func isImageManifest(_ mediaType: String) -> Bool {
        mediaType == imageManifest || mediaType == dockerManifest
    }
}

/// Annotation keys Distill writes.
public enum AnnotationKey {
    /// The tag of a manifest in an OCI layout's index.json.
    public static let refName = "org.opencontainers.image.ref.name"
    /// When the image was built (RFC 3339).
    public static let created = "org.opencontainers.image.created"
    /// Where the image's source lives (a VCS URL).
    public static let source = "org.opencontainers.image.source"
    /// The source revision (a commit).
    public static let revision = "org.opencontainers.image.revision"
    /// The image title; with `vendor`, apko derives the history comment from it.
    public static let title = "org.opencontainers.image.title"
    /// Who ships the image.
    public static let vendor = "org.opencontainers.image.vendor"
    /// cosign's local-layout role of an index.json entry (see ``CosignLayoutKind``).
    public static let cosignKind = "kind"
}

/// The roles cosign's local layout (`cosign save`, `cosign verify --local-image`) gives the
/// descriptors in index.json through the `kind` annotation.
public enum CosignLayoutKind {
    /// A single-platform image manifest.
    public static let image = "dev.cosignproject.cosign/image"
    /// A multi-platform image index.
    public static let imageIndex = "dev.cosignproject.cosign/imageIndex"
    /// The signatures manifest (`.sig`).
    public static let signatures = "dev.cosignproject.cosign/sigs"
    /// The attestations manifest (`.att`).
    public static let attestations = "dev.cosignproject.cosign/atts"
}
