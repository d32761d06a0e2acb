import APK

/// One repository as the solver sees it: its packages, its `@tag` (if declared as `@tag URL`) and
/// whether its packages can be fetched at all.
public struct Repository: Sendable {
    /// The URL or path, used in messages and carried into the resolution.
    public var name: String
    /// `@tag` without the `@`; `nil` for an untagged (default) repository.
    public var tag: String?
    /// The APKINDEX records, in index order.
    public var packages: [PackageInfo]
    /// Set when the index is known but its packages cannot be fetched (apk's `--no-network`): its
    /// packages are then not selectable unless already installed. The text is shown as
    /// "masked in: …".
    public var unavailableReason: String?

    /// A repository of `packages`, named `name` in messages and results.
    public init(name: String, packages: [PackageInfo], tag: String? = nil, unavailableReason: String? = nil) {
        self.name = name
        self.tag = tag
        self.packages = packages
        self.unavailableReason = unavailableReason
    }
}

/// A package already installed in the target root, with the repository tag it was pinned to
/// (`s:` in `/lib/apk/db/installed`). Image builds start from an empty root and pass none.
public struct InstalledPackage: Sendable, Hashable {
    /// The installed record (`/lib/apk/db/installed`).
    public var info: PackageInfo
    /// The tag without `@`, or `nil` for the default pinning.
    public var tag: String?

    /// An installed package, pinned to `tag` (`nil` = default).
    public init(info: PackageInfo, tag: String? = nil) {
        self.info = info
        self.tag = tag
    }
}

/// Provider of a name: a package, and the version under which it provides the name (`-1` for an
/// unversioned provide, as apk's null atom).
struct Provider: Sendable {
    var package: Int32
    var version: Int32
}

/// A dependency, provide or install_if entry with its name and version interned. Plain data, so
/// the solver's loops over dependency lists copy nothing that needs reference counting; the
/// parsed ``Dependency`` it came from sits at the same position in the package's `PackageInfo`.
struct Dep: Sendable {
    var name: Int32
    /// Interned version, `-1` when the entry has none.
    var version: Int32
    /// Repository tag id for world entries (`name@tag`); 0 elsewhere.
    var tag: Int32
    var op: VersionOperator
    var isConflict: Bool
}

/// What the solver reads of a package on every step, as plain data. Packages are keyed by their
/// `C:` identity, so the same package in two repositories is one entry with two repository bits.
struct PackageCore: Sendable {
    var name: Int32
    var version: Int32
    /// Bit `i + 1` for repository `i` (bit 0 is apk's cache and stays unused), so the lowest set
    /// bit is the earliest repository.
    var repos: UInt64
    var installedSize: UInt64
    var installedTag: Int32
    var providerPriority: Int32
    var isInstalled: Bool
    /// Known without a repository (a local or cached package, a virtual package made by
    /// `add -t`): selectable and allowed by any pinning, as apk's `cached_non_repository`.
    var isLocal: Bool
    /// The record carried an uppercase field this reader does not know.
    var isUninstallable: Bool
    var hasInstallIf: Bool
    // Facts that only depend on the index, worked out once (apk computes them on discovery):
    /// The repositories the package counts as coming from: its own, plus — when installed — those
    /// allowed by the tag it was installed with (apk's `get_pkg_repos`).
    var effectiveRepos: UInt64 = 0
    /// In a repository that can be fetched from.
    var isAvailable = false
    /// Can be selected at all (usable, and fetchable, local or installed).
    var isSelectable = false
    /// Preferred by default pinning: virtual (`I:0`) or in an untagged repository.
    var isDefaultPreferred = false
}

/// The package universe a solve runs against: every package of every repository, the installed
/// set, and the name → providers map, built once and shared by any number of solves.
///
/// Order is meaningful and preserved: providers of a name are listed in load order (installed
/// packages, then repositories in the order given, then local packages), which is the order apk
/// breaks exact ties in.
public final class PackageIndex: Sendable {
    /// apk limits the repository mask to one machine word; so do we.
    public static let maximumRepositories = 62

    let names: [String]
    let nameIDs: [String: Int32]
    let providers: FlatLists<Provider>
    /// Names whose packages depend on the name (and the names those packages provide).
    let rdepends: FlatLists<Int32>
    /// Names whose packages have the name in `install_if` (and the names those packages provide).
    let rinstallIf: FlatLists<Int32>
    let cores: FlatArray<PackageCore>
    let depends: FlatLists<Dep>
    let provides: FlatLists<Dep>
    let installIf: FlatLists<Dep>
    let infos: [PackageInfo]
    /// Per name, every neighbour discovery visits, in visiting order (see ``DiscoveryWalk``).
    let discoveryStreams: FlatLists<Int32>
    let versions: [APKVersion]
    /// `tags[0]` is the default (untagged) pinning; the others are names without `@`.
    let tags: [String]
    let tagAllowedRepos: [UInt64]
    let repositoryNames: [String]
    let repositoryTags: [Int32]
    let repositoryUnavailableReasons: [String?]
    let availableRepos: UInt64
    /// Installed packages in the order they were given.
    let installedOrder: [Int32]

    /// Builds the index. Throws ``ResolverError/Kind/tooManyRepositories`` past
    /// ``maximumRepositories``.
    ///
    /// - Parameters:
    ///   - repositories: earlier repositories win exact ties.
    ///   - installed: the installed set (the conformance harness uses it; image builds pass none).
    ///   - localPackages: packages known without a repository (apk's cache-only packages).
    public init(repositories: [Repository], installed: [InstalledPackage] = [],
                localPackages: [PackageInfo] = []) throws(ResolverError) {
        guard repositories.count <= Self.maximumRepositories else {
            throw ResolverError(.tooManyRepositories,
                                "\(repositories.count) repositories given; at most \(Self.maximumRepositories) are supported")
        }
        var builder = IndexBuilder()
        for item in installed {
            let tag = builder.tagID(item.tag)
            builder.add(item.info, repositoryBit: 0, installedTag: tag, isLocal: false)
        }
        var repositoryTags: [Int32] = []
        var available: UInt64 = 0
        for (position, repository) in repositories.enumerated() {
            let bit = UInt64(1) << UInt64(position + 1)
            let tag = builder.tagID(repository.tag)
            repositoryTags.append(tag)
            builder.tagAllowedRepos[Int(tag)] |= bit
            if repository.unavailableReason == nil { available |= bit }
            for info in repository.packages {
                builder.add(info, repositoryBit: bit, installedTag: nil, isLocal: false)
            }
        }
        for info in localPackages {
            builder.add(info, repositoryBit: 0, installedTag: nil, isLocal: true)
        }
        names = builder.names
        nameIDs = builder.nameIDs
        providers = FlatLists(builder.providers)
        rdepends = FlatLists(builder.rdepends)
        rinstallIf = FlatLists(builder.rinstallIf)
        var finished = builder.cores
        for position in finished.indices {
            var core = finished[position]
            core.effectiveRepos = core.repos | (core.isInstalled ? builder.tagAllowedRepos[Int(core.installedTag)] : 0)
            core.isAvailable = core.repos & available != 0
            core.isSelectable = !core.isUninstallable && (core.isAvailable || core.isLocal || core.isInstalled)
            core.isDefaultPreferred = core.installedSize == 0 || core.effectiveRepos & builder.tagAllowedRepos[0] != 0
            finished[position] = core
        }
        cores = FlatArray(finished)
        depends = FlatLists(builder.depends)
        provides = FlatLists(builder.provides)
        installIf = FlatLists(builder.installIf)
        discoveryStreams = FlatLists(Self.discoveryStreams(builder))
        infos = builder.infos
        versions = builder.versions
        tags = builder.tags
        tagAllowedRepos = builder.tagAllowedRepos
        repositoryNames = repositories.map(\.name)
        self.repositoryTags = repositoryTags
        repositoryUnavailableReasons = repositories.map(\.unavailableReason)
        availableRepos = available
        installedOrder = builder.installedOrder
        versionLookup = builder.versionLookup
    }

    /// Number of distinct packages (by identity) across all repositories and the installed set.
    public var packageCount: Int { cores.count }

    /// Discovery's neighbour lists, precomputed: for each provider a package marker (skipped with
    /// the dependencies after it when the package was seen already), the names whose install_if
    /// mentions the name, then per provider the reverse install_if of its own name and the names it
    /// provides, the numbering marker, and the providers' install_if conditions.
    private static func discoveryStreams(_ builder: IndexBuilder) -> [[Int32]] {
        var streams: [[Int32]] = []
        streams.reserveCapacity(builder.names.count)
        for name in builder.names.indices {
            var stream: [Int32] = []
            let nameProviders = builder.providers[name]
            for provider in nameProviders {
                let deps = builder.depends[Int(provider.package)]
                stream.append(DiscoveryWalk.packageMarker)
                stream.append(provider.package)
                stream.append(Int32(deps.count))
                stream.append(contentsOf: deps.map(\.name))
            }
            stream.append(contentsOf: builder.rinstallIf[name])
            for provider in nameProviders {
                stream.append(contentsOf: builder.rinstallIf[Int(builder.cores[Int(provider.package)].name)])
                stream.append(contentsOf: builder.provides[Int(provider.package)].map(\.name))
            }
            stream.append(DiscoveryWalk.numberMarker)
            for provider in nameProviders {
                stream.append(contentsOf: builder.installIf[Int(provider.package)].map(\.name))
            }
            streams.append(stream)
        }
        return streams
    }

    /// Number of distinct names (package names, provided names and names only depended on).
    var nameCount: Int { names.count }

    /// Every name that at least one package provides (its own name or a `provides` entry),
    /// in load order.
    public var providedNames: [String] {
        names.indices.filter { !providers.list($0).isEmpty }.map { names[$0] }
    }

    /// The packages providing `name` (by their own name or a `provides` entry), in load order.
    public func providers(of name: String) -> [PackageInfo] {
        guard let id = nameIDs[name] else { return [] }
        var seen = Set<Int32>()
        return providers.list(Int(id)).compactMap { seen.insert($0.package).inserted ? infos[Int($0.package)] : nil }
    }

    /// The repository tags known to the index, without `@` (the default pinning is not listed).
    public var repositoryTagNames: [String] { Array(tags.dropFirst()) }

    // MARK: - Helpers shared by the solver and the reports

    func nameID(_ name: String) -> Int32? { nameIDs[name] }

    /// `name-version`, as apk prints packages.
    func nameVersion(_ package: Int32) -> String { infos[Int(package)].nameVersion }

    func versionText(_ version: Int32) -> String? { version < 0 ? nil : versions[Int(version)].text }

    /// The repositories a package counts as coming from: its own, plus — when installed — those
    /// allowed by the tag it was installed with (apk's `get_pkg_repos`).
    func effectiveRepos(_ package: Int32) -> UInt64 { cores.items[Int(package)].effectiveRepos }

    /// The repositories allowed by a pinning mask (bit `i` = tag `i`).
    func repos(forPinning mask: UInt64) -> UInt64 {
        var result: UInt64 = 0
        var remaining = mask
        while remaining != 0 {
            let tag = remaining.trailingZeroBitCount
            if tag < tagAllowedRepos.count { result |= tagAllowedRepos[tag] }
            remaining &= remaining - 1
        }
        return result
    }

    /// The tag a package lands under: the first tag of `pinning` that carries one of its
    /// repositories, or the default (apk's `get_tag`).
    func tagFor(pinning: UInt64, repos: UInt64) -> Int32 {
        for tag in tagAllowedRepos.indices where pinning & (UInt64(1) << UInt64(tag)) != 0 {
            if tagAllowedRepos[tag] & repos != 0 { return Int32(tag) }
        }
        return 0
    }

    /// Display form of a tag: `""` for the default, `@name` otherwise.
    func tagDisplay(_ tag: Int32) -> String { tag == 0 ? "" : "@" + tags[Int(tag)] }

    /// The first repository (in the order given) a package is in, if any.
    func firstRepository(_ package: Int32) -> Int? {
        let repos = cores.items[Int(package)].repos
        guard repos != 0 else { return nil }
        return repos.trailingZeroBitCount - 1
    }

    /// Interns a world dependency against this index. Names and versions the index does not know
    /// get ids past the index's own (a name without providers, a version compared by value).
    func internWorld(_ dependency: Dependency, extraNames: inout [String], extraVersions: inout [APKVersion])
        throws(ResolverError) -> Dep
    {
        var tag: Int32 = 0
        if let tagName = dependency.tag {
            guard let found = tags.firstIndex(of: tagName), found > 0 else {
                throw ResolverError(.unknownTag,
                                    "world entry '\(dependency)' names the repository tag @\(tagName), which no repository has")
            }
            tag = Int32(found)
        }
        var version: Int32 = -1
        if let text = dependency.version {
            if let found = versionLookup[text] {
                version = found
            } else {
                version = Int32(versions.count + extraVersions.count)
                extraVersions.append(APKVersion(text))
            }
        }
        let name: Int32
        if let id = nameIDs[dependency.name] {
            name = id
        } else if let found = extraNames.firstIndex(of: dependency.name) {
            name = Int32(names.count + found)
        } else {
            name = Int32(names.count + extraNames.count)
            extraNames.append(dependency.name)
        }
        return Dep(name: name, version: version, tag: tag, op: dependency.op, isConflict: dependency.isConflict)
    }

    let versionLookup: [String: Int32]
}

/// Accumulates the index; kept apart so the public class can be immutable.
struct IndexBuilder {
    var names: [String] = []
    var nameIDs: [String: Int32] = [:]
    var providers: [[Provider]] = []
    var rdepends: [[Int32]] = []
    var rinstallIf: [[Int32]] = []
    var rdependsSeen = Set<UInt64>()
    var rinstallIfSeen = Set<UInt64>()
    var cores: [PackageCore] = []
    var depends: [[Dep]] = []
    var provides: [[Dep]] = []
    var installIf: [[Dep]] = []
    var infos: [PackageInfo] = []
    var identity: [String: Int32] = [:]
    var versions: [APKVersion] = []
    var versionLookup: [String: Int32] = [:]
    var tags: [String] = [""]
    var tagAllowedRepos: [UInt64] = [0]
    var installedOrder: [Int32] = []

    mutating func nameID(_ name: String) -> Int32 {
        if let id = nameIDs[name] { return id }
        let id = Int32(names.count)
        names.append(name)
        nameIDs[name] = id
        providers.append([])
        rdepends.append([])
        rinstallIf.append([])
        return id
    }

    mutating func versionID(_ text: String) -> Int32 {
        if let id = versionLookup[text] { return id }
        let id = Int32(versions.count)
        versions.append(APKVersion(text))
        versionLookup[text] = id
        return id
    }

    mutating func tagID(_ tag: String?) -> Int32 {
        guard let tag, !tag.isEmpty else { return 0 }
        if let found = tags.firstIndex(of: tag) { return Int32(found) }
        tags.append(tag)
        tagAllowedRepos.append(0)
        return Int32(tags.count - 1)
    }

    mutating func intern(_ dependency: Dependency) -> Dep {
        Dep(name: nameID(dependency.name), version: dependency.version.map { versionID($0) } ?? -1, tag: 0,
            op: dependency.op, isConflict: dependency.isConflict)
    }

    mutating func add(_ info: PackageInfo, repositoryBit: UInt64, installedTag: Int32?, isLocal: Bool) {
        let key = info.checksum.map(PackageIdentity.key) ?? "\u{0}\(info.name)-\(info.version)"
        if let existing = identity[key] {
            cores[Int(existing)].repos |= repositoryBit
            if let installedTag, !cores[Int(existing)].isInstalled {
                cores[Int(existing)].isInstalled = true
                cores[Int(existing)].installedTag = installedTag
                installedOrder.append(existing)
            }
            if isLocal { cores[Int(existing)].isLocal = true }
            return
        }
        let id = Int32(cores.count)
        identity[key] = id
        let name = nameID(info.name)
        let version = versionID(info.version)
        let depends = info.depends.map { intern($0) }
        let provides = info.provides.map { intern($0) }
        let installIf = info.installIf.map { intern($0) }
        cores.append(PackageCore(
            name: name, version: version, repos: repositoryBit, installedSize: info.installedSize ?? 0,
            installedTag: installedTag ?? 0, providerPriority: Int32(clamping: info.providerPriority ?? 0),
            isInstalled: installedTag != nil, isLocal: isLocal, isUninstallable: info.hasUnknownRequiredField,
            hasInstallIf: !installIf.isEmpty))
        self.depends.append(depends)
        self.provides.append(provides)
        self.installIf.append(installIf)
        infos.append(info)
        if installedTag != nil { installedOrder.append(id) }

        providers[Int(name)].append(Provider(package: id, version: version))
        for provide in provides {
            providers[Int(provide.name)].append(Provider(package: id, version: provide.version))
        }
        // Reverse references carry the package's own name and every name it provides, so that a
        // change to a dependency re-examines whoever reaches the package through a provide.
        let owners = [name] + provides.map(\.name)
        for dependency in depends {
            for owner in owners { Self.link(owner, into: dependency.name, &rdepends, &rdependsSeen) }
        }
        for condition in installIf {
            for owner in owners { Self.link(owner, into: condition.name, &rinstallIf, &rinstallIfSeen) }
        }
    }

    private static func link(_ owner: Int32, into target: Int32, _ lists: inout [[Int32]], _ seen: inout Set<UInt64>) {
        let key = UInt64(UInt32(bitPattern: target)) << 32 | UInt64(UInt32(bitPattern: owner))
        if seen.insert(key).inserted { lists[Int(target)].append(owner) }
    }
}

/// Package identity as apk keys it: the decoded bytes of the `C:` checksum, not its spelling.
/// Two spellings that decode to the same bytes (base64's unused low bits in the last group) are
/// the same package, and apk keeps only the first record.
enum PackageIdentity {
    static func key(_ checksum: String) -> String {
        let bytes = Array(checksum.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "Q"), let decoded = decodeBase64(bytes[2...]) {
            return "Q" + String(Unicode.Scalar(bytes[1])) + decoded.map { String($0, radix: 16) }.joined(separator: ",")
        }
        return checksum
    }

    private static func value(_ character: UInt8) -> UInt32? {
        switch character {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(character - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(character - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(character - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    /// Standard base64; bits left over in a padded last group are dropped, as decoders do.
    static func decodeBase64(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for character in text {
            if character == UInt8(ascii: "=") { break }
            guard let sextet = value(character) else { return nil }
            accumulator = (accumulator << 6) | sextet
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return output
    }
}
