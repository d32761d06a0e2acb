import APK

/// One verified package to install: its metadata, where it came from, its scripts, and the
/// expanded data tar the APK module wrote while it verified the package.
///
/// The file bytes are never copied: the rootfs refers to `size` bytes at each entry's
/// `contentOffset` in `expandedDataPath` and reads them only when a layer is written, so the
/// expanded tar must stay in place until then.
public struct RootfsPackage: Sendable {
    /// `.PKGINFO` plus `checksum` (`C:`, required) and `fileSize` (`S:`), as ``APKFile/info`` gives them.
    public var info: PackageInfo
    /// The repository tag the package was pinned from (`@testing` → `testing`), written as `s:`.
    public var repositoryTag: String?
    /// The install scripts; they are not run (as apko), only stored in `scripts.tar`.
    public var scripts: [APKFile.Script]
    /// Every installable data entry in archive order (``APKFile/dataEntries``).
    public var dataEntries: [APKFile.DataEntry]
    /// The expanded data tar the entries' offsets point into.
    public var expandedDataPath: String

    /// A package from its parts.
    public init(info: PackageInfo, repositoryTag: String? = nil, scripts: [APKFile.Script] = [],
                dataEntries: [APKFile.DataEntry], expandedDataPath: String) {
        self.info = info
        self.repositoryTag = repositoryTag
        self.scripts = scripts
        self.dataEntries = dataEntries
        self.expandedDataPath = expandedDataPath
    }

    /// A package from one verified, expanded read of its `.apk`
    /// (`APKFile.read(path:options:expandingDataTo:)` with the sink writing `expandedDataPath`).
    public init(file: APKFile, expandedDataPath: String, repositoryTag: String? = nil) {
        self.init(info: file.info, repositoryTag: repositoryTag, scripts: file.scripts, dataEntries: file.dataEntries,
                  expandedDataPath: expandedDataPath)
    }
}

/// A file for `/etc/apk/keys`: its file name and bytes.
public struct KeyFile: Sendable, Hashable {
    /// The file name (a key's name is its file name: `.SIGN.RSA.<name>` must match it).
    public var name: String
    /// The PEM bytes.
    public var content: [UInt8]

    /// A key file.
    public init(name: String, content: [UInt8]) {
        self.name = name
        self.content = content
    }
}

/// A user from the image configuration, already defaulted by the config layer.
public struct UserAccount: Sendable, Hashable {
    /// Login name.
    public var name: String
    /// User id.
    public var uid: UInt32
    /// Primary group id.
    public var gid: UInt32
    /// Login shell.
    public var shell: String
    /// Home directory (absolute); `/dev/null` means none is created.
    public var home: String

    /// A user.
    public init(name: String, uid: UInt32, gid: UInt32, shell: String = "/bin/sh", home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.shell = shell
        self.home = home
    }
}

/// A group from the image configuration.
public struct GroupAccount: Sendable, Hashable {
    /// Group name.
    public var name: String
    /// Group id.
    public var gid: UInt32
    /// Member user names.
    public var members: [String]

    /// A group.
    public init(name: String, gid: UInt32, members: [String] = []) {
        self.name = name
        self.gid = gid
        self.members = members
    }
}

/// The accounts the configuration adds to what the packages ship.
public struct Accounts: Sendable, Hashable {
    /// Users, written to `/etc/passwd` and `/etc/shadow`.
    public var users: [UserAccount]
    /// Groups, written to `/etc/group`.
    public var groups: [GroupAccount]

    /// Accounts.
    public init(users: [UserAccount] = [], groups: [GroupAccount] = []) {
        self.users = users
        self.groups = groups
    }
}

/// One `paths` entry of the image configuration.
public struct PathMutation: Sendable, Hashable {
    /// The five mutation types apko knows.
    public enum Kind: String, Sendable, Hashable {
        /// Create the directory and its missing parents.
        case directory
        /// Create (or truncate) a file.
        case emptyFile = "empty-file"
        /// Make `path` a hard link to `source`, replacing what is there.
        case hardlink
        /// Make `path` a symlink to `source`; the path must not exist.
        case symlink
        /// Change the mode and ownership of an existing path.
        case permissions
    }

    /// The path in the image (absolute or relative to the root; a trailing `/` is ignored).
    public var path: String
    /// What to do.
    public var kind: Kind
    /// Owner to set; when only one of `uid`/`gid` is given the other becomes 0, when neither is
    /// given ownership is left alone.
    public var uid: UInt32?
    /// Group to set.
    public var gid: UInt32?
    /// Mode bits (setuid/setgid/sticky included). When omitted, what the mutation creates gets
    /// 0755 (directories) or 0644 (files) and existing paths keep their mode: apko writes 0000.
    public var permissions: UInt32?
    /// The link target for `hardlink` (a path in the image) and `symlink` (stored verbatim).
    public var source: String?
    /// For `directory` and `permissions`: apply the mode and ownership to everything below too.
    public var recursive: Bool

    /// A mutation.
    public init(path: String, kind: Kind, uid: UInt32? = nil, gid: UInt32? = nil, permissions: UInt32? = nil,
                source: String? = nil, recursive: Bool = false) {
        self.path = path
        self.kind = kind
        self.uid = uid
        self.gid = gid
        self.permissions = permissions
        self.source = source
        self.recursive = recursive
    }
}

/// A PEM certificate from `certificates.additional`.
public struct AdditionalCertificate: Sendable, Hashable {
    /// The name, `^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$`; the file is `<name>-<sha256 of the DER>.crt`.
    public var name: String
    /// Exactly one `CERTIFICATE` PEM block.
    public var content: String

    /// A certificate.
    public init(name: String, content: String) {
        self.name = name
        self.content = content
    }
}

/// The `certificates` section: certificates to add to every CA bundle in the image.
public struct Certificates: Sendable, Hashable {
    /// Inline certificates.
    public var additional: [AdditionalCertificate]
    /// Names of installed packages whose `.crt`/`.pem` files are added (the caller resolves
    /// apko's `providers` virtual names to the packages that provide them).
    public var providerPackages: [String]

    /// A certificates section.
    public init(additional: [AdditionalCertificate] = [], providerPackages: [String] = []) {
        self.additional = additional
        self.providerPackages = providerPackages
    }
}

/// One s6 service of an `entrypoint.type: service-bundle`.
public struct Service: Sendable, Hashable {
    /// The service name: `/sv/<name>/run`.
    public var name: String
    /// The command, written after `#!/bin/execlineb`.
    public var command: String

    /// A service.
    public init(name: String, command: String) {
        self.name = name
        self.command = command
    }
}

/// How the rootfs is split into layers.
public enum Layering: Sendable, Hashable {
    /// One layer holding everything (apko's default).
    case single
    /// apko's `origin` strategy: packages grouped by origin (merged along `replaces`), the
    /// largest `budget - 1` groups get a layer each, the rest share one, and a top layer holds
    /// everything no package owns. `budget` 0 counts as 1.
    case origin(budget: Int)
}

/// Everything the rootfs is made from, as plain values (reference/apko.md §3.1, step 3).
public struct RootfsRequest: Sendable {
    /// apk's architecture name (`x86_64`), written to `/etc/apk/arch`.
    public var architecture: String
    /// The packages in install order (dependencies first).
    public var packages: [RootfsPackage]
    /// The `/etc/apk/world` lines (apko passes every resolved package pinned `name=version`).
    public var world: [String]
    /// The `/etc/apk/repositories` lines (the runtime set; sorted and deduplicated again here).
    public var repositories: [String]
    /// Files for `/etc/apk/keys`, written before the packages are installed.
    public var keyring: [KeyFile]
    /// `runtime_keyring`: written to `/etc/apk/keys` after installation; an existing key is an error.
    public var runtimeKeyring: [KeyFile]
    /// Users and groups to add.
    public var accounts: Accounts
    /// `paths` mutations, applied in order after the accounts.
    public var paths: [PathMutation]
    /// Certificates to add to the CA bundles.
    public var certificates: Certificates
    /// s6 services (`entrypoint.type: service-bundle`); empty otherwise.
    public var services: [Service]
    /// The bytes of `/etc/apko.json` (the locked configuration, serialized by the caller); nil
    /// writes no such file.
    public var apkoJSON: [UInt8]?
    /// SOURCE_DATE_EPOCH: the mtime of `scripts.tar` entries and of certificate files; everything
    /// else the rootfs generates is dated 0, and package files keep their own mtimes.
    public var buildEpoch: Int64
    /// Single layer or apko's origin layering.
    public var layering: Layering

    /// A request; everything but the architecture and the packages defaults to empty.
    public init(architecture: String, packages: [RootfsPackage], world: [String] = [], repositories: [String] = [],
                keyring: [KeyFile] = [], runtimeKeyring: [KeyFile] = [], accounts: Accounts = Accounts(),
                paths: [PathMutation] = [], certificates: Certificates = Certificates(), services: [Service] = [],
                apkoJSON: [UInt8]? = nil, buildEpoch: Int64 = 0, layering: Layering = .single) {
        self.architecture = architecture
        self.packages = packages
        self.world = world
        self.repositories = repositories
        self.keyring = keyring
        self.runtimeKeyring = runtimeKeyring
        self.accounts = accounts
        self.paths = paths
        self.certificates = certificates
        self.services = services
        self.apkoJSON = apkoJSON
        self.buildEpoch = buildEpoch
        self.layering = layering
    }
}
