import APK

/// A reusable solver over one ``PackageIndex``. Its scratch state is sized to the index once and
/// reset after each solve by undoing only what the solve touched, so solving thousands of worlds
/// one after the other costs what the solves themselves cost.
///
/// Not thread-safe: use one session per thread (``Resolver`` makes a fresh one per call).
///
/// The algorithm is apk-tools 2.14's (`src/solver.c`), re-implemented from its documented
/// behaviour: names reachable from the world are discovered depth-first; world constraints are
/// applied; then, until every wanted name is decided, "dirty" names are re-examined (providers
/// whose dependencies became unsatisfiable are disqualified, install_if conditions evaluated,
/// dependencies common to every remaining candidate applied early, provides transitivity
/// enforced) and one name is decided — with no backtracking.
public final class ResolverSession {
    /// The index this session solves against.
    public let index: PackageIndex

    var names: [NameState]
    var pkgs: [PackageState]
    var touchedNames: [Int32] = []
    var touchedPackages: [Int32] = []
    var extraNames: [String] = []
    var extraVersions: [APKVersion] = []

    var dirty: [(name: Int32, seq: UInt32)] = []
    var dirtyHead = 0
    var dirtySeq: UInt32 = 0
    var unresolved: [(name: Int32, seq: UInt32)] = []
    var unresolvedLive = 0
    var unresolvedSeq: UInt32 = 0
    var orderCounter: UInt32 = 0
    var errors = 0
    var flagsInherit: SolverFlags = []
    var pinningInherit: UInt64 = 0
    var changes: [ChangeRecord] = []
    var totalChanges = 0

    static let defaultPinning: UInt64 = 1

    public init(index: PackageIndex) {
        self.index = index
        names = Array(repeating: NameState(), count: index.names.count)
        pkgs = Array(repeating: PackageState(), count: index.packages.count)
    }

    // MARK: - Access helpers

    @inline(__always) func providers(_ name: Int32) -> [Provider] {
        Int(name) < index.providers.count ? index.providers[Int(name)] : []
    }

    @inline(__always) func rdepends(_ name: Int32) -> [Int32] {
        Int(name) < index.rdepends.count ? index.rdepends[Int(name)] : []
    }

    @inline(__always) func rinstallIf(_ name: Int32) -> [Int32] {
        Int(name) < index.rinstallIf.count ? index.rinstallIf[Int(name)] : []
    }

    @inline(__always) func package(_ id: Int32) -> IndexedPackage { index.packages[Int(id)] }

    @inline(__always) func packageName(_ id: Int32) -> Int32 { index.packages[Int(id)].name }

    func nameText(_ name: Int32) -> String {
        Int(name) < index.names.count ? index.names[Int(name)] : extraNames[Int(name) - index.names.count]
    }

    func version(_ id: Int32) -> APKVersion {
        Int(id) < index.versions.count ? index.versions[Int(id)] : extraVersions[Int(id) - index.versions.count]
    }

    func compareVersions(_ a: Int32, _ b: Int32, fuzzy: Bool = false) -> APKVersion.Order? {
        if a == b { return .equal }
        if a < 0 || b < 0 { return nil }
        return APKVersion.compare(version(a), version(b), fuzzy: fuzzy)
    }

    @inline(__always) func touchName(_ name: Int32) {
        if !names[Int(name)].touched {
            names[Int(name)].touched = true
            touchedNames.append(name)
        }
    }

    @inline(__always) func touchPackage(_ pkg: Int32) {
        if !pkgs[Int(pkg)].touched {
            pkgs[Int(pkg)].touched = true
            touchedPackages.append(pkg)
        }
    }

    /// Undoes everything the last solve changed.
    func resetState() {
        for name in touchedNames { names[Int(name)] = NameState() }
        for pkg in touchedPackages { pkgs[Int(pkg)] = PackageState() }
        touchedNames.removeAll(keepingCapacity: true)
        touchedPackages.removeAll(keepingCapacity: true)
        names.removeLast(names.count - index.names.count)
        extraNames.removeAll()
        extraVersions.removeAll()
        resetQueues()
    }

    func resetQueues() {
        dirty.removeAll(keepingCapacity: true)
        dirtyHead = 0
        unresolved.removeAll(keepingCapacity: true)
        unresolvedLive = 0
        orderCounter = 0
        errors = 0
        flagsInherit = []
        pinningInherit = 0
        changes.removeAll(keepingCapacity: true)
        totalChanges = 0
    }

    /// Clears solver state (but keeps per-name flags the caller set) before a forced restart.
    func resetForRestart(nameFlags: [(Int32, SolverFlags)]) {
        for name in touchedNames { names[Int(name)] = NameState(); names[Int(name)].touched = true }
        for pkg in touchedPackages { pkgs[Int(pkg)] = PackageState(); pkgs[Int(pkg)].touched = true }
        resetQueues()
        applyNameFlags(nameFlags)
    }

    func applyNameFlags(_ nameFlags: [(Int32, SolverFlags)]) {
        for (name, flags) in nameFlags {
            touchName(name)
            names[Int(name)].flagsSet = true
            for provider in providers(name) {
                touchPackage(provider.package)
                pkgs[Int(provider.package)].flags.formUnion(flags)
                pkgs[Int(provider.package)].inheritableFlags.formUnion(flags)
            }
        }
    }

    // MARK: - Dependency matching (apk's apk_dep_is_provided / apk_dep_analyze)

    /// Whether `provider` (package `-1` = nothing chosen) satisfies `dep`; a conflict is
    /// satisfied by a provider that does not match it.
    func isProvided(_ dep: Dep, by provider: Provider) -> Bool {
        if provider.package < 0 { return dep.isConflict }
        if dep.op == .checksum {
            return package(provider.package).info.checksum == dep.source.version
        }
        if dep.op == .any { return !dep.isConflict }
        if provider.version < 0 { return dep.isConflict }
        guard let order = compareVersions(provider.version, dep.version, fuzzy: dep.op.contains(.fuzzy)) else {
            return dep.isConflict
        }
        return Self.accepts(dep.op, order) ? !dep.isConflict : dep.isConflict
    }

    static func accepts(_ op: VersionOperator, _ order: APKVersion.Order) -> Bool {
        switch order {
        case .less: return op.contains(.less)
        case .equal: return op.contains(.equal)
        case .greater: return op.contains(.greater)
        }
    }

    enum Analysis { case irrelevant, satisfies, conflicts }

    /// How `pkg` relates to `dep`: it is the named package, or provides the name, or neither.
    func analyze(_ dep: Dep, _ pkg: Int32) -> Analysis {
        let item = package(pkg)
        if dep.name == item.name {
            return isProvided(dep, by: Provider(package: pkg, version: item.version)) ? .satisfies : .conflicts
        }
        for provide in item.provides where provide.name == dep.name {
            return isProvided(dep, by: Provider(package: pkg, version: provide.version)) ? .satisfies : .conflicts
        }
        return .irrelevant
    }

    // MARK: - Queues

    func queueDirty(_ name: Int32) {
        let state = names[Int(name)]
        if state.inDirty || state.locked || (state.requirers == 0 && !state.reevaluateIif) { return }
        dirtySeq &+= 1
        names[Int(name)].inDirty = true
        names[Int(name)].dirtySeq = dirtySeq
        dirty.append((name, dirtySeq))
    }

    func popDirty() -> Int32? {
        while dirtyHead < dirty.count {
            let entry = dirty[dirtyHead]
            dirtyHead += 1
            let state = names[Int(entry.name)]
            if state.inDirty && state.dirtySeq == entry.seq {
                names[Int(entry.name)].inDirty = false
                return entry.name
            }
        }
        dirty.removeAll(keepingCapacity: true)
        dirtyHead = 0
        return nil
    }

    func queueUnresolved(_ name: Int32) {
        let state = names[Int(name)]
        if state.locked { return }
        let want = state.requirers > 0 || state.hasIif
        if want && !state.inUnresolved {
            unresolvedSeq &+= 1
            names[Int(name)].inUnresolved = true
            names[Int(name)].unresolvedSeq = unresolvedSeq
            unresolved.append((name, unresolvedSeq))
            unresolvedLive += 1
        } else if !want && state.inUnresolved {
            removeUnresolved(name)
        }
    }

    func removeUnresolved(_ name: Int32) {
        guard names[Int(name)].inUnresolved else { return }
        names[Int(name)].inUnresolved = false
        unresolvedLive -= 1
        if unresolved.count > 64 && unresolvedLive * 4 < unresolved.count {
            unresolved.removeAll { !names[Int($0.name)].inUnresolved || names[Int($0.name)].unresolvedSeq != $0.seq }
        }
    }

    /// The next name to decide: the most recently queued name that has requirers, a single
    /// auto-selectable option and no undecided reverse dependency; otherwise names with an auto-selectable
    /// provider, then names carrying per-name flags, then the one discovered last (closest to
    /// the world).
    func nextName() -> Int32? {
        var best: Int32 = -1
        var position = unresolved.count - 1
        while position >= 0 {
            let entry = unresolved[position]
            position -= 1
            let state = names[Int(entry.name)]
            guard state.inUnresolved && state.unresolvedSeq == entry.seq else { continue }
            if state.reverseDepsDone && state.requirers > 0 && state.hasAutoSelectable && !state.hasOptions {
                return entry.name
            }
            if best < 0 || decidesBefore(entry.name, best) { best = entry.name }
        }
        return best < 0 ? nil : best
    }

    func decidesBefore(_ a: Int32, _ b: Int32) -> Bool {
        let stateA = names[Int(a)], stateB = names[Int(b)]
        if stateA.hasAutoSelectable != stateB.hasAutoSelectable { return stateA.hasAutoSelectable }
        if stateA.flagsSet != stateB.flagsSet { return stateA.flagsSet }
        return stateA.orderID > stateB.orderID
    }

    // MARK: - Discovery

    func discover(_ name: Int32) {
        if names[Int(name)].seen { return }
        touchName(name)
        names[Int(name)].seen = true
        names[Int(name)].noIif = true
        let nameProviders = providers(name)
        for provider in nameProviders {
            let pkg = provider.package
            if !pkgs[Int(pkg)].seen {
                initialize(pkg)
                for dep in package(pkg).depends { discover(dep.name) }
            }
            if !pkgs[Int(pkg)].iifFailed { names[Int(name)].noIif = false }
        }
        for other in rinstallIf(name) { discover(other) }
        for provider in nameProviders {
            let item = package(provider.package)
            for other in rinstallIf(item.name) { discover(other) }
            for provide in item.provides { discover(provide.name) }
        }
        orderCounter += 1
        names[Int(name)].orderID = orderCounter
        for provider in nameProviders {
            for condition in package(provider.package).installIf { discover(condition.name) }
        }
    }

    func initialize(_ pkg: Int32) {
        touchPackage(pkg)
        let item = package(pkg)
        var state = pkgs[Int(pkg)]
        state.seen = true
        state.pinningAllowed = Self.defaultPinning
        state.pinningPreferred = Self.defaultPinning
        state.available = item.repos & index.availableRepos != 0
        state.selectable = !item.isUninstallable && (state.available || item.isLocal || item.isInstalled)
        state.iifFailed = item.installIf.isEmpty || (flagsInherit.contains(.available) && !state.available)
        let repos = index.effectiveRepos(pkg)
        state.tagPreferred = item.installedSize == 0 || repos & index.tagAllowedRepos[0] != 0
        state.tagOK = state.tagPreferred || item.isLocal || item.isInstalled
        pkgs[Int(pkg)] = state
    }

    // MARK: - Constraints

    func markError(_ pkg: Int32) {
        guard pkg >= 0, !pkgs[Int(pkg)].error else { return }
        touchPackage(pkg)
        pkgs[Int(pkg)].error = true
        errors += 1
    }

    func reevaluateReverseDeps(_ name: Int32) {
        for other in rdepends(name) where names[Int(other)].seen {
            names[Int(other)].reevaluateDeps = true
            queueDirty(other)
        }
    }

    func reevaluateReverseInstallIf(_ name: Int32) {
        for other in rinstallIf(name) where names[Int(other)].seen && !names[Int(other)].noIif {
            names[Int(other)].reevaluateIif = true
            queueDirty(other)
        }
    }

    func reevaluateReverseInstallIf(package pkg: Int32) {
        let item = package(pkg)
        reevaluateReverseInstallIf(item.name)
        for provide in item.provides { reevaluateReverseInstallIf(provide.name) }
    }

    func disqualify(_ pkg: Int32) {
        pkgs[Int(pkg)].selectable = false
        let item = package(pkg)
        reevaluateReverseDeps(item.name)
        for provide in item.provides { reevaluateReverseDeps(provide.name) }
        reevaluateReverseInstallIf(package: pkg)
    }

    func dependencySatisfiable(_ dep: Dep) -> Bool {
        let state = names[Int(dep.name)]
        if state.locked { return isProvided(dep, by: state.chosen) }
        if state.requirers == 0 && isProvided(dep, by: Provider(package: -1, version: -1)) { return true }
        for provider in providers(dep.name) where pkgs[Int(provider.package)].selectable {
            if isProvided(dep, by: provider) { return true }
        }
        return false
    }

    func nameRequirersChanged(_ name: Int32) {
        queueUnresolved(name)
        reevaluateReverseInstallIf(name)
        queueDirty(name)
    }

    /// Pinning and flags flow from the package that needs a provider (or from the world entry)
    /// to every provider that satisfies the need.
    func inherit(_ pkg: Int32, from parent: Int32) {
        let repos = index.effectiveRepos(pkg)
        if parent >= 0 {
            let parentState = pkgs[Int(parent)]
            pkgs[Int(pkg)].flags.formUnion(parentState.inheritableFlags)
            pkgs[Int(pkg)].inheritableFlags.formUnion(parentState.inheritableFlags)
            pkgs[Int(pkg)].pinningAllowed |= parentState.pinningAllowed
        } else {
            pkgs[Int(pkg)].flags.formUnion(flagsInherit)
            pkgs[Int(pkg)].inheritableFlags.formUnion(flagsInherit)
            pkgs[Int(pkg)].pinningAllowed |= pinningInherit
            pkgs[Int(pkg)].pinningPreferred = pinningInherit
            pkgs[Int(pkg)].tagPreferred = repos & index.repos(forPinning: pinningInherit) != 0
        }
        if repos & index.repos(forPinning: pkgs[Int(pkg)].pinningAllowed) != 0 {
            pkgs[Int(pkg)].tagOK = true
        }
    }

    func applyConstraint(_ dep: Dep, from parent: Int32) {
        let name = dep.name
        if !dep.isConflict {
            names[Int(name)].requirers += 1
            if names[Int(name)].requirers == 1 { nameRequirersChanged(name) }
        }
        for provider in providers(name) {
            let pkg = provider.package
            let provided = isProvided(dep, by: provider)
            if !provided { pkgs[Int(pkg)].conflicts += 1 }
            if pkgs[Int(pkg)].selectable && pkgs[Int(pkg)].conflicts > 0 { disqualify(pkg) }
            if provided { inherit(pkg, from: parent) }
        }
    }

    func excludeNonProviders(_ name: Int32, mustProvide: Int32, skipVirtuals: Bool) {
        if name == mustProvide { return }
        for provider in providers(name) {
            let pkg = provider.package
            let item = package(pkg)
            if item.name == mustProvide || !pkgs[Int(pkg)].selectable || (skipVirtuals && provider.version < 0) {
                continue
            }
            if item.provides.contains(where: { $0.name == mustProvide || (skipVirtuals && $0.version < 0) }) {
                continue
            }
            disqualify(pkg)
        }
    }

    /// apk's "merge index": counts how many of the options seen so far share a name.
    @inline(__always) static func mergeIndex(_ index: inout Int32, _ options: Int32) -> Bool {
        if index != options { return false }
        index = options + 1
        return true
    }

    @inline(__always) static func mergeIndexComplete(_ index: inout Int32, _ options: Int32) -> Bool {
        let complete = index == options
        index = 0
        return complete
    }

    /// A provider may be picked without being named explicitly unless it reaches the name only
    /// through an unversioned provide, has no provider_priority and nothing requires its own name.
    func isAutoSelectable(_ provider: Provider) -> Bool {
        if provider.version >= 0 { return true }
        let item = package(provider.package)
        if item.providerPriority != 0 { return true }
        return names[Int(item.name)].requirers != 0
    }

    func reconsider(_ name: Int32) {
        let reevaluateDeps = names[Int(name)].reevaluateDeps
        let reevaluateIif = names[Int(name)].reevaluateIif
        names[Int(name)].reevaluateDeps = false
        names[Int(name)].reevaluateIif = false

        var firstCandidate: Int32 = -1
        var options: Int32 = 0
        var tagNotOK = 0
        var hasIif = false
        var noIif = true
        var hasAutoSelectable = false
        let requirers = names[Int(name)].requirers
        let nameProviders = providers(name)

        for provider in nameProviders {
            let pkg = provider.package
            let item = package(pkg)
            pkgs[Int(pkg)].dependenciesMerged = false
            if reevaluateDeps {
                if !pkgs[Int(pkg)].selectable { continue }
                for dep in item.depends where !dependencySatisfiable(dep) {
                    disqualify(pkg)
                    break
                }
            }
            if !pkgs[Int(pkg)].selectable { continue }

            if reevaluateIif && !pkgs[Int(pkg)].iifTriggered && !pkgs[Int(pkg)].iifFailed {
                var triggered = true
                var failed = false
                for condition in item.installIf {
                    let conditionState = names[Int(condition.name)]
                    if !conditionState.locked {
                        triggered = false
                        break
                    }
                    if !isProvided(condition, by: conditionState.chosen) {
                        triggered = false
                        failed = true
                        break
                    }
                }
                pkgs[Int(pkg)].iifTriggered = triggered
                pkgs[Int(pkg)].iifFailed = failed
            }
            if reevaluateIif && pkgs[Int(pkg)].iifTriggered {
                for condition in item.installIf {
                    // A condition met by "nothing installed" (a conflict) passes no parent on,
                    // which apk treats as a world entry with no pinning.
                    inherit(pkg, from: names[Int(condition.name)].chosenPackage)
                }
            }
            hasIif = hasIif || pkgs[Int(pkg)].iifTriggered
            noIif = noIif && pkgs[Int(pkg)].iifFailed
            hasAutoSelectable = hasAutoSelectable || pkgs[Int(pkg)].iifTriggered

            if requirers == 0 { continue }

            pkgs[Int(pkg)].dependenciesMerged = true
            if firstCandidate < 0 { firstCandidate = pkg }
            for dep in item.depends where !dep.isConflict {
                _ = Self.mergeIndex(&names[Int(dep.name)].mergeDepends, options)
            }
            if Self.mergeIndex(&names[Int(item.name)].mergeProvides, options), provider.version < 0 {
                names[Int(item.name)].hasVirtualProvides = true
            }
            for provide in item.provides {
                if Self.mergeIndex(&names[Int(provide.name)].mergeProvides, options), provide.version < 0 {
                    names[Int(provide.name)].hasVirtualProvides = true
                }
            }
            if !pkgs[Int(pkg)].tagOK { tagNotOK += 1 }
            options += 1
            if !hasAutoSelectable && isAutoSelectable(provider) { hasAutoSelectable = true }
        }
        names[Int(name)].hasOptions = options > 1 || tagNotOK > 0
        names[Int(name)].hasIif = hasIif
        names[Int(name)].noIif = noIif
        names[Int(name)].hasAutoSelectable = hasAutoSelectable
        queueUnresolved(name)

        if firstCandidate >= 0 {
            let candidate = package(firstCandidate)
            for provider in nameProviders {
                pkgs[Int(provider.package)].dependenciesUsed = pkgs[Int(provider.package)].dependenciesMerged
            }
            if options == 1 {
                for dep in candidate.depends where Self.mergeIndexComplete(&names[Int(dep.name)].mergeDepends, options) {
                    applyConstraint(dep, from: firstCandidate)
                }
            } else {
                for dep in candidate.depends {
                    let other = dep.name
                    if Self.mergeIndexComplete(&names[Int(other)].mergeDepends, options) && names[Int(other)].requirers == 0 {
                        // Every candidate needs this name: it is wanted whichever one wins.
                        names[Int(other)].requirers += 1
                        nameRequirersChanged(other)
                        for provider in providers(other) { inherit(provider.package, from: firstCandidate) }
                    }
                }
            }
            if Self.mergeIndexComplete(&names[Int(candidate.name)].mergeProvides, options) {
                excludeNonProviders(candidate.name, mustProvide: name,
                                    skipVirtuals: names[Int(candidate.name)].hasVirtualProvides)
            }
            for provide in candidate.provides where Self.mergeIndexComplete(&names[Int(provide.name)].mergeProvides, options) {
                excludeNonProviders(provide.name, mustProvide: name,
                                    skipVirtuals: names[Int(provide.name)].hasVirtualProvides)
            }
            names[Int(candidate.name)].hasVirtualProvides = false
            for provide in candidate.provides { names[Int(provide.name)].hasVirtualProvides = false }
        }

        var done = true
        for other in rdepends(name) where names[Int(other)].seen && !names[Int(other)].locked {
            done = false
            break
        }
        names[Int(name)].reverseDepsDone = done
    }

    // MARK: - Choosing

    /// apk's `compare_providers`: positive when `a` is the better provider.
    func compareProviders(_ a: Provider, _ b: Provider) -> Int {
        if a.package < 0 || b.package < 0 { return (a.package >= 0 ? 1 : 0) - (b.package >= 0 ? 1 : 0) }
        let stateA = pkgs[Int(a.package)], stateB = pkgs[Int(b.package)]
        let itemA = package(a.package), itemB = package(b.package)
        let flags = stateA.flags.union(stateB.flags)
        func prefer(_ x: Bool, _ y: Bool) -> Int { (x ? 1 : 0) - (y ? 1 : 0) }

        if flags.contains(.latest) && stateA.pinningAllowed == Self.defaultPinning
            && stateB.pinningAllowed == Self.defaultPinning
        {
            var r = prefer(stateA.tagOK, stateB.tagOK)
            if r != 0 { return r }
            if flags.contains(.available) {
                r = prefer(stateA.available, stateB.available)
                if r != 0 { return r }
            } else if flags.contains(.reinstall) {
                r = prefer(stateA.selectable, stateB.selectable)
                if r != 0 { return r }
            }
        } else {
            var r = prefer(stateA.selectable, stateB.selectable)
            if r != 0 { return r }
            r = prefer(stateA.dependenciesUsed, stateB.dependenciesUsed)
            if r != 0 { return r }
            r = Int(stateB.conflicts) - Int(stateA.conflicts)
            if r != 0 { return r }
            r = prefer(stateA.tagOK, stateB.tagOK)
            if r != 0 { return r }
            if flags.contains(.available) {
                r = prefer(stateA.available, stateB.available)
                if r != 0 { return r }
            }
            r = prefer(stateA.tagPreferred, stateB.tagPreferred)
            if r != 0 { return r }
            if !flags.contains(.upgrade) {
                r = prefer(itemA.isInstalled, itemB.isInstalled)
                if r != 0 { return r }
            }
        }
        switch compareVersions(a.version, b.version) {
        case .less: return -1
        case .greater: return 1
        default: break
        }
        if itemA.name == itemB.name {
            switch compareVersions(itemA.version, itemB.version) {
            case .less: return -1
            case .greater: return 1
            default: break
            }
        }
        var r = prefer(itemA.isInstalled, itemB.isInstalled)
        if r != 0 { return r }
        r = itemA.providerPriority - itemB.providerPriority
        if r != 0 { return r }
        r = prefer(stateA.selectable, stateB.selectable)
        if r != 0 { return r }
        return Self.firstBit(itemB.repos) - Self.firstBit(itemA.repos)
    }

    /// `ffs`: one plus the index of the lowest set bit, 0 for none.
    static func firstBit(_ value: UInt64) -> Int { value == 0 ? 0 : value.trailingZeroBitCount + 1 }

    func assign(_ name: Int32, _ provider: Provider) {
        if names[Int(name)].locked {
            // Two packages may provide the same name only if both do so without a version.
            if provider.version < 0 && names[Int(name)].chosenVersion < 0 { return }
            markError(provider.package)
            markError(names[Int(name)].chosenPackage)
            return
        }
        names[Int(name)].locked = true
        names[Int(name)].chosenPackage = provider.package
        names[Int(name)].chosenVersion = provider.version
        removeUnresolved(name)
        names[Int(name)].inDirty = false

        for other in providers(name) where other.package != provider.package {
            if provider.version < 0 && other.version < 0 { continue }
            disqualify(other.package)
        }
        reevaluateReverseDeps(name)
        if provider.package >= 0 {
            reevaluateReverseInstallIf(package: provider.package)
        } else {
            reevaluateReverseInstallIf(name)
        }
    }

    func select(_ name: Int32) {
        var chosen = Provider(package: -1, version: -1)
        let state = names[Int(name)]
        if state.requirers > 0 || state.hasIif {
            for provider in providers(name) {
                let pkgState = pkgs[Int(provider.package)]
                if state.requirers == 0 && (!pkgState.iifTriggered || !pkgState.tagOK || !pkgState.selectable) {
                    continue
                }
                if !isAutoSelectable(provider) { continue }
                if compareProviders(provider, chosen) > 0 { chosen = provider }
            }
        }
        guard chosen.package >= 0 else {
            assign(name, chosen)
            if state.requirers > 0 { errors += 1 }
            return
        }
        let pkg = chosen.package
        if !pkgs[Int(pkg)].selectable || !pkgs[Int(pkg)].tagOK { markError(pkg) }
        let item = package(pkg)
        assign(item.name, Provider(package: pkg, version: item.version))
        for provide in item.provides { assign(provide.name, Provider(package: pkg, version: provide.version)) }
        for dep in item.depends { applyConstraint(dep, from: pkg) }
    }

    // MARK: - The solve

    /// Runs the solver and the change-set generation; state stays in place for the caller to read
    /// until ``resetState()``.
    func solve(world unsortedWorld: [Dep], flags: SolverFlags, nameFlags: [(Int32, SolverFlags)],
               forceBrokenWorld: Bool) -> SolveOutcome {
        let world = unsortedWorld.enumerated().sorted { lhs, rhs in
            let left = nameText(lhs.element.name), right = nameText(rhs.element.name)
            if left != right { return Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8)) }
            return lhs.offset < rhs.offset
        }.map(\.element)
        var broken = Array(repeating: false, count: world.count)
        applyNameFlags(nameFlags)
        while true {
            flagsInherit = flags
            for (position, dep) in world.enumerated() where !broken[position] { discover(dep.name) }
            for (position, dep) in world.enumerated() where !broken[position] {
                pinningInherit = UInt64(1) << UInt64(dep.tag)
                applyConstraint(dep, from: -1)
            }
            flagsInherit = []
            pinningInherit = 0
            while true {
                while let name = popDirty() { reconsider(name) }
                guard let name = nextName() else { break }
                select(name)
            }
            generateChangeset(world: world)

            guard errors > 0 && forceBrokenWorld else { break }
            var newlyBroken = false
            for (position, dep) in world.enumerated() where !broken[position] {
                let chosen = names[Int(dep.name)].chosenPackage
                if chosen < 0 || pkgs[Int(chosen)].error {
                    broken[position] = true
                    newlyBroken = true
                }
            }
            guard newlyBroken else { break }
            resetForRestart(nameFlags: nameFlags)
        }
        return SolveOutcome(world: world, changes: changes, errors: errors, totalChanges: totalChanges)
    }
}
