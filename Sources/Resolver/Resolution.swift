import APK

/// apk-tools' solver flags, set for the whole world (apk's global flags) or per name
/// (`apk add -u NAME`, `apk add --latest NAME`).
public struct SolverFlags: OptionSet, Sendable, Hashable {
    /// The flag bits.
    public let rawValue: UInt16
    /// Flags from their bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Installed versions are not preferred (`apk upgrade`, `apk add -u`).
    public static let upgrade = SolverFlags(rawValue: 1 << 0)
    /// Prefer packages that can be fetched (`apk upgrade -a`).
    public static let available = SolverFlags(rawValue: 1 << 1)
    /// Mark the selected packages for reinstallation (`apk fix`).
    public static let reinstall = SolverFlags(rawValue: 1 << 2)
    /// Prefer the newest allowed version over everything but pinning (`--latest`).
    public static let latest = SolverFlags(rawValue: 1 << 3)
    /// Keep the installed version even when upgrading (`apk upgrade --ignore NAME`).
    public static let installed = SolverFlags(rawValue: 1 << 4)
    /// The name is being deleted (`apk del NAME`): any other provider is preferred, and the
    /// installed version loses its preference.
    public static let remove = SolverFlags(rawValue: 1 << 5)
}

/// What to solve: the world and the options apk would have been given.
public struct ResolveRequest: Sendable {
    /// The world (`/etc/apk/world`, apko's `contents.packages`). Solved in name order, as apk does.
    public var world: [Dependency]
    /// Flags applied to every world entry and inherited by its dependencies.
    public var flags: SolverFlags
    /// Flags set on every provider of a name before solving (`apk add -u NAME` sets `.upgrade` on
    /// NAME); such names are also decided before names without flags.
    public var nameFlags: [String: SolverFlags]
    /// The part of ``nameFlags`` the providers pass on to their dependencies; `nil` passes all of
    /// it (as `apk add` does; `apk fix` passes nothing unless `--depends`).
    public var inheritableNameFlags: [String: SolverFlags]?
    /// apk's `--force-broken-world`: world entries that cannot be satisfied are dropped and the
    /// rest is solved again.
    public var forceBrokenWorld: Bool
    /// apk's self-upgrade pass (apk-tools upgrading itself before anything else): installed
    /// packages are kept unless their name carries ``SolverFlags/upgrade``.
    public var selfUpgrade: Bool

    /// A request for `world`; the defaults are an image build from an empty root.
    public init(world: [Dependency], flags: SolverFlags = [], nameFlags: [String: SolverFlags] = [:],
                forceBrokenWorld: Bool = false) {
        self.world = world
        self.flags = flags
        self.nameFlags = nameFlags
        inheritableNameFlags = nil
        self.forceBrokenWorld = forceBrokenWorld
        selfUpgrade = false
    }
}

/// A package as selected: its metadata (`replaces`, `origin` and everything else carried through
/// untouched), where it comes from, and the pinning it was selected under.
public struct ResolvedPackage: Sendable, Hashable {
    /// The package's metadata, as its index record has it.
    public var info: PackageInfo
    /// The first repository (in the order given) that has the package; `nil` for a package known
    /// only as installed or local.
    public var repository: String?
    /// Every repository that has the package, in the order given.
    public var repositories: [String]
    /// The repository tag (without `@`) the package was selected under; `nil` for the default.
    public var tag: String?
    /// The package was already installed before this change set.
    public var wasInstalled: Bool

    /// Creates a resolved package from its parts.
    public init(info: PackageInfo, repository: String?, repositories: [String], tag: String?, wasInstalled: Bool) {
        self.info = info
        self.repository = repository
        self.repositories = repositories
        self.tag = tag
        self.wasInstalled = wasInstalled
    }

    /// `name-version`.
    public var nameVersion: String { info.nameVersion }
}

/// One step of the change set, in apk's commit order.
public struct Change: Sendable, Hashable {
    /// What happens to the package, named as apk prints it.
    public enum Action: String, Sendable, Hashable {
        case install = "Installing"
        case upgrade = "Upgrading"
        case downgrade = "Downgrading"
        case replace = "Replacing"
        case reinstall = "Reinstalling"
        case repin = "Updating pinning"
        case remove = "Purging"
        /// Installed and kept as it is; apk records it but neither counts nor prints it.
        case keep = "Keeping"
    }

    /// What happens.
    public var action: Action
    /// The installed package being replaced or removed.
    public var old: ResolvedPackage?
    /// The package being installed or kept.
    public var new: ResolvedPackage?

    /// Creates a change from its parts.
    public init(action: Action, old: ResolvedPackage?, new: ResolvedPackage?) {
        self.action = action
        self.old = old
        self.new = new
    }
}

/// A dependency edge of a resolution: `from` (a package index, or `nil` for the world) needs
/// `dependency`, which `to` satisfies.
public struct ResolvedEdge: Sendable, Hashable {
    /// The package (index into ``Resolution/packages``) that has the dependency; `nil` for the world.
    public var from: Int?
    /// The dependency as written.
    public var dependency: Dependency
    /// The package (index into ``Resolution/packages``) that satisfies it.
    public var to: Int

    /// Creates an edge from its parts.
    public init(from: Int?, dependency: Dependency, to: Int) {
        self.from = from
        self.dependency = dependency
        self.to = to
    }
}

/// The outcome of a successful solve.
public struct Resolution: Sendable {
    /// The world as solved (sorted by name, as apk sorts it).
    public var world: [Dependency]
    /// Every change in apk's commit order, including the `keep` entries apk does not print.
    public var changes: [Change]
    /// The selected packages in install order: dependencies (in `D:` order) before the package,
    /// install_if packages right after their conditions.
    public var packages: [ResolvedPackage]
    /// How each dependency of the world and of every selected package is satisfied; `from` and
    /// `to` index ``packages``. Conflicts (`!name`) have no edge.
    public var edges: [ResolvedEdge]
    /// Packages installed once the change set is committed.
    public var installedCount: Int

    /// Creates a resolution from its parts.
    public init(world: [Dependency], changes: [Change], packages: [ResolvedPackage], edges: [ResolvedEdge],
                installedCount: Int) {
        self.world = world
        self.changes = changes
        self.packages = packages
        self.edges = edges
        self.installedCount = installedCount
    }

    /// The changes apk counts and prints (everything but `keep`).
    public var countedChanges: [Change] { changes.filter { $0.action != .keep } }
}
