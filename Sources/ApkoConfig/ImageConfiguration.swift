public import APK

/// An apko.yaml, key for key (reference/apko.md §1). Empty strings and empty lists mean "not set",
/// as in apko, so merging and printing treat them the way apko does.
public struct ImageConfiguration: Sendable, Equatable {
    /// `contents`: repositories, keys and packages.
    public var contents = ImageContents()
    /// `entrypoint`: the OCI `Entrypoint`.
    public var entrypoint = Entrypoint()
    /// `cmd`: shell-split into the OCI `Cmd`.
    public var cmd = ""
    /// `stop-signal`: the OCI `StopSignal`, verbatim.
    public var stopSignal = ""
    /// `work-dir`: the OCI `WorkingDir` (the directory is not created).
    public var workDir = ""
    /// `accounts`: users, groups and the user the image runs as.
    public var accounts = Accounts()
    /// `archs`: the architectures to build; empty means "not set".
    public var archs: [Architecture] = []
    /// `environment`: the OCI `Env`, before the `PATH`/`SSL_CERT_FILE` defaults.
    public var environment: [String: String] = [:]
    /// `paths`: filesystem changes applied after packages and accounts, in order.
    public var paths: [PathMutation] = []
    /// `vcs-url`: `URL@commit`, which becomes the source and revision annotations.
    public var vcsURL = ""
    /// `annotations`: on the index, every manifest and the config `Labels`.
    public var annotations: [String: String] = [:]
    /// `include`: a config this one is merged over (deprecated in apko, still honoured). After
    /// loading it is empty: the included file has been merged in.
    public var include = ""
    /// `volumes`: the OCI `Volumes`.
    public var volumes: [String] = []
    /// `layering`: split the image into layers by package origin; nil for one layer.
    public var layering: Layering?
    /// `format`: the layer format; nil means apko's default, tar.
    public var format: LayerFormat?
    /// `certificates`: extra CA certificates and the packages that provide bundle pieces.
    public var certificates = Certificates()

    /// Nothing set, as an empty YAML mapping reads.
    public init() {}
}

/// `contents`.
public struct ImageContents: Sendable, Equatable {
    /// `build_repositories`: used to resolve, not written into the image.
    public var buildRepositories: [RepositoryReference] = []
    /// `runtime_repositories`: written to `/etc/apk/repositories`, never used to resolve.
    public var runtimeRepositories: [RepositoryReference] = []
    /// `repositories`: used to resolve and written to `/etc/apk/repositories`.
    public var repositories: [RepositoryReference] = []
    /// `keyring`: key files or `http(s)://` URLs that verify the repositories.
    public var keyring: [String] = []
    /// `runtime_keyring`: inline keys written to `/etc/apk/keys` after installing.
    public var runtimeKeyring: [InlineKey] = []
    /// `packages`: the world, in apko's constraint syntax.
    public var packages: [Dependency] = []
    /// `baseimage` (experimental): build on top of a local OCI layout.
    public var baseImage: BaseImage?

    /// Nothing set, as an empty YAML mapping reads.
    public init() {}
}

/// A `{name, content}` entry of `runtime_keyring` or `certificates.additional`.
public struct InlineKey: Sendable, Equatable {
    /// The file name it is written as.
    public var name: String
    /// PEM text.
    public var content: String

    /// An entry named `name` holding `content`.
    public init(name: String, content: String) {
        self.name = name
        self.content = content
    }
}

/// `contents.baseimage`.
public struct BaseImage: Sendable, Equatable {
    /// The local OCI layout directory of the base image.
    public var image: String
    /// A directory with `<arch>/APKINDEX` describing what the base image has installed.
    public var apkIndex: String

    /// A base image and the index of what it has installed.
    public init(image: String, apkIndex: String) {
        self.image = image
        self.apkIndex = apkIndex
    }
}

/// `entrypoint`.
public struct Entrypoint: Sendable, Equatable {
    /// `type`: only `service-bundle` exists.
    public var type: EntrypointType?
    /// `command`: shell-split into the OCI `Entrypoint`.
    public var command = ""
    /// `shell-fragment`: run as `/bin/sh -c <fragment>`; wins over `command`.
    public var shellFragment = ""
    /// `services`: name → command, for `type: service-bundle`.
    public var services: [String: String] = [:]

    /// Nothing set, as an empty YAML mapping reads.
    public init() {}

    /// Whether nothing is set (apko's zero value, which an include may fill).
    public var isEmpty: Bool {
        type == nil && command.isEmpty && shellFragment.isEmpty && services.isEmpty
    }
}

/// `entrypoint.type`.
public enum EntrypointType: String, Sendable, Equatable, CaseIterable {
    /// s6: `/bin/s6-svscan /sv` supervises one `/sv/<name>/run` per service.
    case serviceBundle = "service-bundle"
}

/// `accounts`.
public struct Accounts: Sendable, Equatable {
    /// `run-as`: a user name or uid; a configured user's name becomes its uid.
    public var runAs = ""
    /// `users`: appended to `/etc/passwd` and `/etc/shadow`.
    public var users: [User] = []
    /// `groups`: appended to `/etc/group`.
    public var groups: [Group] = []

    /// Nothing set, as an empty YAML mapping reads.
    public init() {}
}

/// One of `accounts.users`.
public struct User: Sendable, Equatable {
    /// The login name.
    public var username: String
    /// Never 0: root is not a configured user.
    public var uid: UInt32
    /// nil until defaulted to the uid.
    public var gid: UInt32?
    /// Empty until defaulted to `/bin/sh`.
    public var shell: String
    /// Empty until defaulted to `/home/<username>`.
    public var homeDirectory: String

    /// A user; unset fields are filled by ``ImageConfiguration/withDefaults()``.
    public init(username: String, uid: UInt32, gid: UInt32? = nil, shell: String = "", homeDirectory: String = "") {
        self.username = username
        self.uid = uid
        self.gid = gid
        self.shell = shell
        self.homeDirectory = homeDirectory
    }
}

/// One of `accounts.groups`.
public struct Group: Sendable, Equatable {
    /// The group name.
    public var groupname: String
    /// The group id (0 when not written, as in apko).
    public var gid: UInt32
    /// User names listed in the `/etc/group` entry.
    public var members: [String]

    /// A group.
    public init(groupname: String, gid: UInt32, members: [String] = []) {
        self.groupname = groupname
        self.gid = gid
        self.members = members
    }
}

/// One of `paths`.
public struct PathMutation: Sendable, Equatable {
    /// `type`.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case directory
        case emptyFile = "empty-file"
        case hardlink
        case symlink
        case permissions
    }

    /// The path in the image.
    public var path: String
    /// What to do to it.
    public var type: Kind
    /// nil leaves ownership alone (unless `gid` is set, then this is 0).
    public var uid: UInt32?
    /// nil leaves ownership alone (unless `uid` is set, then this is 0).
    public var gid: UInt32?
    /// nil when not written; apko then applies mode 0000.
    public var permissions: UInt32?
    /// The link target for `hardlink` and `symlink`.
    public var source: String
    /// Honoured for `directory` and `permissions`.
    public var recursive: Bool

    /// A mutation; unset fields are left out as they are in the YAML.
    public init(path: String, type: Kind, uid: UInt32? = nil, gid: UInt32? = nil, permissions: UInt32? = nil,
                source: String = "", recursive: Bool = false) {
        self.path = path
        self.type = type
        self.uid = uid
        self.gid = gid
        self.permissions = permissions
        self.source = source
        self.recursive = recursive
    }
}

/// `layering`.
public struct Layering: Sendable, Equatable {
    /// `strategy`.
    public enum Strategy: String, Sendable, Equatable, CaseIterable {
        /// Group packages by their `origin`.
        case origin
    }

    /// How packages are grouped into layers.
    public var strategy: Strategy
    /// `budget`: the most package layers; the image has at most `budget + 1` layers.
    public var budget: Int

    /// Layering by `strategy` into at most `budget + 1` layers.
    public init(strategy: Strategy = .origin, budget: Int) {
        self.strategy = strategy
        self.budget = budget
    }
}

/// `format`.
public enum LayerFormat: String, Sendable, Equatable, CaseIterable {
    case tar
    /// Experimental in apko; cannot be combined with layering.
    case erofs
}

/// `certificates`.
public struct Certificates: Sendable, Equatable {
    /// `additional`: PEM certificates added to every CA bundle.
    public var additional: [InlineKey] = []
    /// `providers`: virtual package names whose `.crt`/`.pem` files join the bundle.
    public var providers: [String] = []

    /// Nothing set, as an empty YAML mapping reads.
    public init() {}

    /// Whether nothing is set.
    public var isEmpty: Bool { additional.isEmpty && providers.isEmpty }
}
