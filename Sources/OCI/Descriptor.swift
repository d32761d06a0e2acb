import DistillCrypto

/// Parsing and printing of OCI digest strings (`sha256:<64 hex>`).
public enum OCIDigest {
    /// Parses `algorithm:hex`. Only `sha256` and `sha512` are accepted (the algorithms the OCI
    /// image-spec registers), and the hex must be lowercase, as the spec requires.
    public static func parse(_ text: String) throws(OCIError) -> Digest {
        guard let colon = text.firstIndex(of: ":") else {
            throw OCIError(.invalidDescriptor, "digest \"\(text)\" has no algorithm prefix (expected sha256:<hex>)")
        }
        let algorithmName = text[..<colon]
        let hex = text[text.index(after: colon)...]
        let algorithm: DigestAlgorithm
        switch algorithmName {
        case "sha256": algorithm = .sha256
        case "sha512": algorithm = .sha512
        default:
            throw OCIError(.invalidDescriptor, "digest \"\(text)\" uses unsupported algorithm \"\(algorithmName)\"")
        }
        guard hex.utf8.count == algorithm.byteCount * 2,
              hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) })
        else {
            throw OCIError(.invalidDescriptor,
                           "digest \"\(text)\" is not \(algorithm.byteCount * 2) lowercase hex digits after \"\(algorithmName):\"")
        }
        do {
            return try Digest(algorithm: algorithm, hex: hex)
        } catch {
            throw OCIError(.invalidDescriptor, "digest \"\(text)\": \(error)")
        }
    }

    /// The SHA-256 of `bytes`, the digest of a manifest, config or small blob.
    public static func sha256(_ bytes: [UInt8]) -> Digest {
        DigestAlgorithm.sha256.hash(bytes)
    }
}

/// The platform an image runs on, as it appears in an index's descriptors.
public struct Platform: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The CPU architecture in Go's naming (`amd64`, `arm64`, `arm`, `386`, `ppc64le`, …).
    public var architecture: String
    /// The operating system, `linux` for everything Distill builds.
    public var os: String
    /// The CPU variant (`v6`, `v7` for `arm`), or nil.
    public var variant: String?
    /// The OS version (Windows only in practice), or nil.
    public var osVersion: String?
    /// Required OS features (apko adds `erofs` for EROFS layers), or nil.
    public var osFeatures: [String]?

    /// A platform; `os` defaults to linux.
    public init(architecture: String, os: String = "linux", variant: String? = nil,
                osVersion: String? = nil, osFeatures: [String]? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.osVersion = osVersion
        self.osFeatures = osFeatures
    }

    /// `os/architecture[/variant]`, the form docker and skopeo print.
    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// The key an index's manifests are sorted by: architecture, then variant, then OS, compared
    /// byte by byte so the order does not depend on locale or Unicode collation.
    var sortKey: [UInt8] {
        Array(architecture.utf8) + [0] + Array((variant ?? "").utf8) + [0] + Array(os.utf8)
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }
}

/// A content descriptor: what a blob or manifest is, where to find it (its digest) and how big it
/// is, as used in manifests, indexes and index.json.
public struct Descriptor: Codable, Sendable, Hashable {
    /// The media type of the referenced content.
    public var mediaType: String
    /// The digest of the referenced content's exact bytes.
    public var digest: Digest
    /// The length of the referenced content in bytes.
    public var size: Int64
    /// The platform of the referenced manifest, in an index.
    public var platform: Platform?
    /// Arbitrary metadata (tags in index.json, cosign's `kind`, signatures on layers).
    public var annotations: [String: String]?
    /// The type of an artifact the descriptor points at (OCI 1.1).
    public var artifactType: String?

    /// A descriptor of `size` bytes of `mediaType` content with `digest`.
    public init(mediaType: String, digest: Digest, size: Int64, platform: Platform? = nil,
                annotations: [String: String]? = nil, artifactType: String? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
        self.annotations = annotations
        self.artifactType = artifactType
    }

    /// A descriptor of `bytes` (digest and size computed here).
    public init(mediaType: String, bytes: [UInt8], annotations: [String: String]? = nil) {
        self.init(mediaType: mediaType, digest: OCIDigest.sha256(bytes), size: Int64(bytes.count),
                  annotations: annotations)
    }

    /// The value of annotation `key`, if present.
    public func annotation(_ key: String) -> String? {
        annotations?[key]
    }

    enum CodingKeys: String, CodingKey {
        case mediaType, digest, size, platform, annotations, artifactType
    }

    /// Decodes a descriptor, refusing a malformed digest or a negative size.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mediaType = try container.decode(String.self, forKey: .mediaType)
        digest = try OCIDigest.parse(try container.decode(String.self, forKey: .digest))
        size = try container.decode(Int64.self, forKey: .size)
        guard size >= 0 else {
            throw OCIError(.invalidDescriptor, "descriptor of \(digest) has negative size \(size)")
        }
        platform = try container.decodeIfPresent(Platform.self, forKey: .platform)
        annotations = try container.decodeIfPresent([String: String].self, forKey: .annotations)
        artifactType = try container.decodeIfPresent(String.self, forKey: .artifactType)
    }

    /// Encodes the descriptor with its digest as `algorithm:hex`; absent fields are left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mediaType, forKey: .mediaType)
        try container.encode(digest.description, forKey: .digest)
        try container.encode(size, forKey: .size)
        try container.encodeIfPresent(platform, forKey: .platform)
        try container.encodeIfPresent(annotations, forKey: .annotations)
        try container.encodeIfPresent(artifactType, forKey: .artifactType)
    }
}
