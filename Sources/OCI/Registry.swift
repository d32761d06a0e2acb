import DistillCrypto
public import HTTPTransport
public import ProgressReporting

/// How to reach registries: the transport, which hosts speak plain HTTP, and where credentials
/// come from. Makes a ``RegistryClient`` per registry.
public struct RegistryAccess: Sendable {
    /// The transport.
    public var http: any HTTPClient
    /// Registries (`host[:port]`) reached over plain HTTP, besides loopback ones.
    public var insecureRegistries: Set<String>
    /// Credentials that apply to every registry (`--registry-username/--registry-password`).
    public var explicitCredentials: RegistryCredentials?
    /// Credentials per registry from docker's config file.
    public var dockerConfig: DockerConfigFile?
    /// Retry behaviour.
    public var retry: RetryPolicy
    /// Uploads up to this size go in one PUT, larger ones in chunks of `chunkSize`.
    public var monolithicUploadLimit: Int64
    /// The chunk size of chunked uploads.
    public var chunkSize: Int

    /// Access through `http`; loopback registries are always plain HTTP.
    public init(http: any HTTPClient, insecureRegistries: Set<String> = [], explicitCredentials: RegistryCredentials? = nil,
                dockerConfig: DockerConfigFile? = nil, retry: RetryPolicy = .standard,
                monolithicUploadLimit: Int64 = 64 << 20, chunkSize: Int = 16 << 20) {
        self.http = http
        self.insecureRegistries = insecureRegistries
        self.explicitCredentials = explicitCredentials
        self.dockerConfig = dockerConfig
        self.retry = retry
        self.monolithicUploadLimit = monolithicUploadLimit
        self.chunkSize = chunkSize
    }

    /// Whether `registry` is reached over plain HTTP: listed as insecure (with or without its
    /// port), or `localhost`, `127.0.0.1` or `[::1]` on any port.
    public func isInsecure(_ registry: String) -> Bool {
        if insecureRegistries.contains(registry) { return true }
        let host = Self.hostWithoutPort(registry)
        if insecureRegistries.contains(host) { return true }
        return host == "localhost" || host == "127.0.0.1" || host == "[::1]"
    }

    /// The credentials for `registry`: explicit ones win over docker's config file.
    public func credentials(for registry: String) -> RegistryCredentials? {
        explicitCredentials ?? dockerConfig?.credentials(for: registry)
    }

    /// A client for the registry of `reference`.
    public func client(for reference: ImageReference) throws(OCIError) -> RegistryClient {
        try RegistryClient(registry: reference.registry, apiHost: reference.apiHost, http: http,
                           credentials: credentials(for: reference.registry), insecure: isInsecure(reference.registry),
                           retry: retry, monolithicUploadLimit: monolithicUploadLimit, chunkSize: chunkSize)
    }

    static func hostWithoutPort(_ registry: String) -> String {
        if registry.hasPrefix("["), let close = registry.firstIndex(of: "]") {
            return String(registry[...close])
        }
        return String(registry.split(separator: ":", maxSplits: 1).first ?? "")
    }
}

/// A registry repository as an ``ImageDestination``.
public struct RegistryDestination: ImageDestination {
    /// The client for the repository's registry.
    public let client: RegistryClient
    /// The repository path (`team/app`).
    public let repository: String

    /// Publishes into `repository` through `client`.
    public init(client: RegistryClient, repository: String) {
        self.client = client
        self.repository = repository
    }

    /// HEAD on the blob.
    public func blobExists(_ descriptor: Descriptor) async throws -> Bool {
        try await client.blobExists(repository: repository, descriptor: descriptor)
    }

    /// Uploads the blob.
    public func putBlob(_ blob: Blob) async throws {
        try await client.uploadBlob(repository: repository, blob: blob)
    }

    /// HEAD on the manifest by digest.
    public func manifestExists(_ descriptor: Descriptor) async throws -> Bool {
        try await client.manifestExists(repository: repository, descriptor: descriptor)
    }

    /// PUT of the manifest by digest.
    public func putManifest(_ manifest: RawManifest) async throws {
        try await client.putManifest(repository: repository, reference: manifest.descriptor.digest.description, manifest: manifest)
    }

    /// HEAD on the tag.
    public func resolveTag(_ tag: String) async throws -> Descriptor? {
        try checkTag(tag)
        return try await client.headManifest(repository: repository, reference: tag)
    }

    /// PUT of the manifest under the tag.
    public func setTag(_ tag: String, to manifest: RawManifest) async throws {
        try checkTag(tag)
        try await client.putManifest(repository: repository, reference: tag, manifest: manifest)
    }

    private func checkTag(_ tag: String) throws(OCIError) {
        guard ImageReference.isValidTag(tag) else {
            throw OCIError(.invalidReference, "\"\(tag)\" is not a valid tag (1-128 characters of A-Z a-z 0-9 _ . -, not starting with . or -)")
        }
    }
}

/// A registry repository as an ``ImageSource``: manifests and blobs are fetched into memory and
/// verified (meant for manifests, configs and signatures; layers up to `maximumBlobSize`).
public struct RegistrySource: ImageSource {
    /// The client for the repository's registry.
    public let client: RegistryClient
    /// The repository path.
    public let repository: String
    /// The largest blob fetched into memory.
    public let maximumBlobSize: Int

    /// Reads from `repository` through `client`.
    public init(client: RegistryClient, repository: String, maximumBlobSize: Int = 64 << 20) {
        self.client = client
        self.repository = repository
        self.maximumBlobSize = maximumBlobSize
    }

    /// The descriptor of the manifest a tag or digest names.
    public func resolve(_ reference: String) async throws -> Descriptor {
        guard let descriptor = try await client.headManifest(repository: repository, reference: reference) else {
            throw OCIError(.notFound, "manifest \(reference) not found", source: "\(client.registry)/\(repository)")
        }
        return descriptor
    }

    /// The manifest, fetched by digest and verified.
    public func manifest(_ descriptor: Descriptor) async throws -> RawManifest {
        let raw = try await client.manifest(repository: repository, reference: descriptor.digest.description)
        try BlobCheck.verify(size: Int64(raw.bytes.count), digest: raw.descriptor.digest, against: descriptor,
                             source: "\(client.registry)/\(repository)@\(descriptor.digest)")
        return RawManifest(mediaType: descriptor.mediaType, bytes: raw.bytes)
    }

    /// The blob, fetched into memory and verified.
    public func blob(_ descriptor: Descriptor) async throws -> Blob {
        let bytes = try await client.blob(repository: repository, descriptor: descriptor, maximumSize: maximumBlobSize)
        return Blob(descriptor: descriptor, content: .bytes(bytes))
    }
}

/// What `distill push` did: the image, and the signature and attestation manifests that went
/// with it.
public struct LayoutPushReport: Sendable {
    /// The image (index or manifest) push; its digest is what the tag points at.
    public var image: PublishReport
    /// One report per signature or attestation manifest, tagged `sha256-<hex>.sig` / `.att`.
    public var attachments: [PublishReport]
}

/// `distill push OCI-DIR REF`: publishing an image that is already built.
public enum LayoutPush {
    /// Pushes the image `refName` names in the layout at `directory` (or its only image) to
    /// `reference`: blobs, manifests by digest, then the tag (none for a digest reference).
    /// Every blob is verified while the layout is read.
    ///
    /// Signature and attestation manifests in the layout (index.json entries with cosign's `kind`
    /// `dev.cosignproject.cosign/sigs` / `atts`, as `cosign save` and Distill's signer write them)
    /// are pushed afterwards under cosign's tags, `sha256-<image hex>.sig` and `.att`, as
    /// `cosign load` does. cosign's layout holds one image, so a layout with several images and
    /// signatures is refused: nothing would say which image they sign.
    ///
    /// `progress` gets `push` events named `reference`: `start` with the image's bytes, a `run`
    /// per blob and manifest (uploaded or already there), and `done` once the image, its tag and
    /// its signatures are in place.
    public static func push(layout directory: String, refName: String?, to reference: ImageReference,
                            access: RegistryAccess, progress: ProgressReporter = .none) async throws -> LayoutPushReport {
        let layout = try OCILayout(directory: directory)
        let entry = try refName.map { name throws(OCIError) in try layout.resolve(name) } ?? layout.defaultEntry()
        let attachments = try attachmentEntries(in: layout, for: entry)
        let image = try await ImageLoader.load(entry, from: layout)
        if let digest = reference.digest, digest != image.digest {
            throw OCIError(.digestMismatch, "the layout's image is \(image.digest), but the reference pins \(digest)",
                           source: reference.description)
        }
        var loadedAttachments: [(Image, String)] = []
        for (descriptor, suffix) in attachments {
            guard case .image(let manifest) = try await ImageLoader.load(descriptor, from: layout) else {
                throw OCIError(.invalidImage, "signature entry \(descriptor.digest) is not an image manifest", source: directory)
            }
            loadedAttachments.append((manifest, "\(image.digest.algorithm)-\(image.digest.hex).\(suffix)"))
        }

        let destination = RegistryDestination(client: try access.client(for: reference), repository: reference.repository)
        let item = reference.description
        var report = LayoutPushReport(
            image: try await image.publish(to: destination, tags: reference.tag.map { [$0] } ?? [],
                                           progress: PublishProgress(progress, .push, item: item)),
            attachments: [])
        for (manifest, tag) in loadedAttachments {
            report.attachments.append(try await ImagePublisher.publish(manifest, to: destination, tags: [tag]))
        }
        progress.finish(.push, item, bytes: image.totalBytes)
        return report
    }

    /// The signature and attestation entries of the layout with their tag suffixes; refused when
    /// they cannot be attributed to `image` unambiguously.
    private static func attachmentEntries(in layout: OCILayout, for image: Descriptor) throws(OCIError) -> [(Descriptor, String)] {
        var found: [(Descriptor, String)] = []
        for (kind, suffix) in [(CosignLayoutKind.signatures, "sig"), (CosignLayoutKind.attestations, "att")] {
            let entries = layout.entries.filter { $0.annotation(AnnotationKey.cosignKind) == kind }
            guard entries.count <= 1 else {
                throw OCIError(.invalidLayout, "index.json has \(entries.count) entries of kind \(kind); cosign's layout has at most one",
                               source: layout.directory)
            }
            found += entries.map { ($0, suffix) }
        }
        let images = layout.entries.filter { $0.annotation(AnnotationKey.cosignKind) != CosignLayoutKind.signatures
            && $0.annotation(AnnotationKey.cosignKind) != CosignLayoutKind.attestations }
        if !found.isEmpty && (images.count != 1 || images[0].digest != image.digest) {
            throw OCIError(.invalidLayout, "the layout holds \(images.count) images and signatures; cannot tell which image they sign",
                           source: layout.directory, hint: "keep one image per signed layout, as cosign does")
        }
        return found
    }
}
