public import APK
public import ApkoConfig
public import Repository
public import Resolver

/// One package of an image, as resolved (or locked): what it is, where it comes from and the
/// checksums it must have when fetched.
public struct ImagePackage: Sendable, Hashable {
    /// The package's index record; from a lock file only name, version, arch and `C:` are known
    /// (the fetched package's `.PKGINFO` has the rest).
    public var info: PackageInfo
    /// The repository it was resolved from; nil when it comes from a lock file.
    public var repository: RepositorySource?
    /// The repository tag it was selected under (`name@tag`), nil for the default.
    public var tag: String?
    /// The `.apk` path or URL, without credentials: `<repo>/<arch>/<name>-<version>.apk`.
    public var url: String
    /// The identity it must have (`C:`, `Q1…`).
    public var checksum: String
    /// From a lock file: `sha256-<base64>` its data section must have.
    public var dataChecksum: String?
    /// Where it comes from, for messages: the repository, or the lock file.
    public var origin: String

    /// A package from its parts.
    public init(info: PackageInfo, repository: RepositorySource?, tag: String?, url: String, checksum: String,
                dataChecksum: String? = nil, origin: String) {
        self.info = info
        self.repository = repository
        self.tag = tag
        self.url = url
        self.checksum = checksum
        self.dataChecksum = dataChecksum
        self.origin = origin
    }

    /// `name`.
    public var name: String { info.name }
    /// `version`.
    public var version: String { info.version }
}

/// The packages of one architecture's image, in apk's install order.
public struct ResolvedImage: Sendable {
    /// The architecture.
    public var architecture: Architecture
    /// The packages in install order (dependencies first).
    public var packages: [ImagePackage]
    /// The solver's result (edges, change set) — nil when the packages come from a lock file.
    public var resolution: Resolution?

    /// An image from its parts.
    public init(architecture: Architecture, packages: [ImagePackage], resolution: Resolution?) {
        self.architecture = architecture
        self.packages = packages
        self.resolution = resolution
    }
}

/// A config resolved for every architecture it builds: the input of the fetch, compose and lock
/// stages.
public struct ResolvedConfig: Sendable {
    /// The config as loaded, overrides applied (not defaulted: see ``configuration``).
    public var config: LoadedConfig
    /// The configuration with apko's defaults filled in, as the build uses it.
    public var configuration: ImageConfiguration
    /// One image per architecture, in architecture order.
    public var images: [ResolvedImage]
    /// The keyring: verifies indexes, and its files go into the image's `/etc/apk/keys`.
    public var keyring: LoadedKeyring
    /// The repositories used to resolve (build and image repositories, sorted and unique).
    public var repositories: [RepositorySource]
    /// `name=version` pins the architectures needed to agree on versions.
    public var pins: [Dependency]
    /// The lock file the packages came from, if any.
    public var lockfile: Lockfile?
    /// Things worth telling the user (a repository without an index for an architecture, a lock
    /// file that records no config checksum).
    public var warnings: [String]

    /// A resolved config from its parts.
    public init(config: LoadedConfig, configuration: ImageConfiguration, images: [ResolvedImage], keyring: LoadedKeyring,
                repositories: [RepositorySource], pins: [Dependency], lockfile: Lockfile?, warnings: [String]) {
        self.config = config
        self.configuration = configuration
        self.images = images
        self.keyring = keyring
        self.repositories = repositories
        self.pins = pins
        self.lockfile = lockfile
        self.warnings = warnings
    }

    /// The architectures, in build order.
    public var architectures: [Architecture] { images.map(\.architecture) }
}

extension ResolvedConfig {
    /// The first architecture's dependency graph in Graphviz form (apko draws one architecture).
    ///
    /// - Throws: `.lockfile` when the packages came from a lock file, which records no edges.
    public func dot(spanningTree: Bool = false) throws(DistillError) -> String {
        guard let resolution = images.first?.resolution else {
            throw DistillError(.lockfile, "a lock file records no dependency edges; draw the graph from the config")
        }
        return resolution.dot(spanningTree: spanningTree)
    }
}
