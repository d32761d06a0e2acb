import DistillCrypto

/// An OCI image configuration (`application/vnd.oci.image.config.v1+json`): the platform, the
/// layers' diff_ids, history, and how to run a container from the image.
///
/// Field names on the wire are the spec's (`diff_ids`, `created_by`, and the capitalised
/// `Entrypoint`, `Env`, … inside `config`); absent optionals are left out of the JSON.
public struct ImageConfiguration: Codable, Sendable, Hashable {
    /// The CPU architecture (Go naming: amd64, arm64, arm, …).
    public var architecture: String
    /// The operating system, `linux`.
    public var os: String
    /// The CPU variant (`v7` for arm/v7), or nil.
    public var variant: String?
    /// The OS version, or nil.
    public var osVersion: String?
    /// Required OS features, or nil.
    public var osFeatures: [String]?
    /// When the image was created (RFC 3339, from the build epoch, never the wall clock).
    public var created: String?
    /// Who made the image.
    public var author: String?
    /// How to run a container from the image.
    public var config: ContainerConfiguration?
    /// The layers' diff_ids (SHA-256 of each uncompressed tar), bottom layer first.
    public var rootfs: RootFilesystem
    /// One entry per layer (and per empty-layer step).
    public var history: [History]?

    /// A configuration; `os` defaults to linux.
    public init(architecture: String, os: String = "linux", variant: String? = nil, osVersion: String? = nil,
                osFeatures: [String]? = nil, created: String? = nil, author: String? = nil,
                config: ContainerConfiguration? = nil, rootfs: RootFilesystem, history: [History]? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.osVersion = osVersion
        self.osFeatures = osFeatures
        self.created = created
        self.author = author
        self.config = config
        self.rootfs = rootfs
        self.history = history
    }

    /// The platform this configuration describes, for the image's descriptor in an index.
    public var platform: Platform {
        Platform(architecture: architecture, os: os, variant: variant, osVersion: osVersion, osFeatures: osFeatures)
    }

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant, created, author, config, rootfs, history
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }
}

/// The layer list of an image configuration.
public struct RootFilesystem: Codable, Sendable, Hashable {
    /// Always `layers`.
    public var type: String
    /// The SHA-256 of each uncompressed layer tar, bottom layer first.
    public var diffIDs: [Digest]

    /// A `layers` root filesystem with the given diff_ids.
    public init(diffIDs: [Digest]) {
        self.type = "layers"
        self.diffIDs = diffIDs
    }

    enum CodingKeys: String, CodingKey {
        case type
        case diffIDs = "diff_ids"
    }

    /// Decodes `type` and `diff_ids`, refusing a malformed digest.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        diffIDs = try container.decode([String].self, forKey: .diffIDs).map { text throws(OCIError) in
            try OCIDigest.parse(text)
        }
    }

    /// Encodes the diff_ids as `sha256:<hex>` strings.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(diffIDs.map(\.description), forKey: .diffIDs)
    }
}

/// One step of an image's history.
public struct History: Codable, Sendable, Hashable {
    /// When the step ran (RFC 3339).
    public var created: String?
    /// The command that made the layer (apko writes `apko`).
    public var createdBy: String?
    /// Who made the layer.
    public var author: String?
    /// A free-form note (apko: "This is an apko single-layer image").
    public var comment: String?
    /// True when the step made no layer.
    public var emptyLayer: Bool?

    /// A history entry.
    public init(created: String? = nil, createdBy: String? = nil, author: String? = nil,
                comment: String? = nil, emptyLayer: Bool? = nil) {
        self.created = created
        self.createdBy = createdBy
        self.author = author
        self.comment = comment
        self.emptyLayer = emptyLayer
    }

    enum CodingKeys: String, CodingKey {
        case created, author, comment
        case createdBy = "created_by"
        case emptyLayer = "empty_layer"
    }
}

/// The execution parameters of an image (`config` inside the image configuration), with the
/// spec's capitalised key names.
public struct ContainerConfiguration: Codable, Sendable, Hashable {
    /// The user (name, uid or uid:gid) the process runs as.
    public var user: String?
    /// Ports to expose, as `port/protocol` keys (values are empty objects on the wire).
    public var exposedPorts: Set<String>?
    /// Environment variables, `NAME=value`.
    public var env: [String]?
    /// The executable and its first arguments.
    public var entrypoint: [String]?
    /// Default arguments (to the entrypoint, or the command when there is none).
    public var cmd: [String]?
    /// Directories to mount volumes on (values are empty objects on the wire).
    public var volumes: Set<String>?
    /// The working directory.
    public var workingDir: String?
    /// Labels (apko: the same map as the manifest annotations).
    public var labels: [String: String]?
    /// The signal that stops the container.
    public var stopSignal: String?

    /// Execution parameters; everything absent by default.
    public init(user: String? = nil, exposedPorts: Set<String>? = nil, env: [String]? = nil,
                entrypoint: [String]? = nil, cmd: [String]? = nil, volumes: Set<String>? = nil,
                workingDir: String? = nil, labels: [String: String]? = nil, stopSignal: String? = nil) {
        self.user = user
        self.exposedPorts = exposedPorts
        self.env = env
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.volumes = volumes
        self.workingDir = workingDir
        self.labels = labels
        self.stopSignal = stopSignal
    }

    enum CodingKeys: String, CodingKey {
        case user = "User"
        case exposedPorts = "ExposedPorts"
        case env = "Env"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case volumes = "Volumes"
        case workingDir = "WorkingDir"
        case labels = "Labels"
        case stopSignal = "StopSignal"
    }

    /// Go's `struct{}` values of `ExposedPorts` and `Volumes`: `{}` on the wire.
    private struct EmptyObject: Codable {}

    /// Decodes the parameters; `ExposedPorts` and `Volumes` keep only their keys.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        exposedPorts = try container.decodeIfPresent([String: EmptyObject].self, forKey: .exposedPorts).map { Set($0.keys) }
        env = try container.decodeIfPresent([String].self, forKey: .env)
        entrypoint = try container.decodeIfPresent([String].self, forKey: .entrypoint)
        cmd = try container.decodeIfPresent([String].self, forKey: .cmd)
        volumes = try container.decodeIfPresent([String: EmptyObject].self, forKey: .volumes).map { Set($0.keys) }
        workingDir = try container.decodeIfPresent(String.self, forKey: .workingDir)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels)
        stopSignal = try container.decodeIfPresent(String.self, forKey: .stopSignal)
    }

    /// Encodes the parameters, `ExposedPorts` and `Volumes` as objects with empty-object values.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(user, forKey: .user)
        try container.encodeIfPresent(exposedPorts.map { Dictionary(uniqueKeysWithValues: $0.map { ($0, EmptyObject()) }) },
                                      forKey: .exposedPorts)
        try container.encodeIfPresent(env, forKey: .env)
        try container.encodeIfPresent(entrypoint, forKey: .entrypoint)
        try container.encodeIfPresent(cmd, forKey: .cmd)
        try container.encodeIfPresent(volumes.map { Dictionary(uniqueKeysWithValues: $0.map { ($0, EmptyObject()) }) },
                                      forKey: .volumes)
        try container.encodeIfPresent(workingDir, forKey: .workingDir)
        try container.encodeIfPresent(labels, forKey: .labels)
        try container.encodeIfPresent(stopSignal, forKey: .stopSignal)
    }
}
