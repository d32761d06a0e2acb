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

    /// Solver state per name and per package, in manually managed buffers: the solver reads and
    /// writes single fields millions of times, and array element access would copy whole structs
    /// (and check exclusive access) in unoptimised builds.
    let names: UnsafeMutablePointer<NameState>
    /// Names the index has plus room for names only a world mentions.
    let nameCapacity: Int
    let pkgs: UnsafeMutablePointer<PackageState>
    let packageCapacity: Int
    /// Every name and package the current solve changed, so resetting costs what the solve cost.
    let touchedNameList: UnsafeMutablePointer<Int32>
    var touchedNameCount = 0
    let touchedPackageList: UnsafeMutablePointer<Int32>
    var touchedPackageCount = 0
    /// The discovery walk's stack (at most one frame per name).
    let discoveryFrames: UnsafeMutablePointer<DiscoveryFrame>
    var extraNames: [String] = []
    var extraVersions: [APKVersion] = []

    // Raw views of the index's tables; `index` keeps them alive.
    let nameLimit: Int
    let providerStarts: UnsafeMutablePointer<Int32>
    let providerItems: UnsafeMutablePointer<Provider>
    let rdependsStarts: UnsafeMutablePointer<Int32>
    let rdependsItems: UnsafeMutablePointer<Int32>
    let rinstallIfStarts: UnsafeMutablePointer<Int32>
    let rinstallIfItems: UnsafeMutablePointer<Int32>
    let cores: UnsafeMutablePointer<PackageCore>
    let dependsStarts: UnsafeMutablePointer<Int32>
    let dependsItems: UnsafeMutablePointer<Dep>
    let providesStarts: UnsafeMutablePointer<Int32>
    let providesItems: UnsafeMutablePointer<Dep>
    let installIfStarts: UnsafeMutablePointer<Int32>
    let installIfItems: UnsafeMutablePointer<Dep>

    var dirty: [(name: Int32, seq: UInt32)] = []
    var dirtyHead = 0
    var dirtySeq: UInt32 = 0
    /// Queued names that may be decided right away, newest queued first.
    var resolveNow = NameHeap()
    /// Every queued name, by apk's preference: auto-selectable, then per-name flags, then order.
    var waiting = NameHeap()
    var unresolvedSeq: UInt32 = 0
    var orderCounter: UInt32 = 0
    var errors = 0
    var flagsInherit: SolverFlags = []
    var pinningInherit: UInt64 = 0
    var changes: [ChangeRecord] = []
    var totalChanges = 0

    static let defaultPinning: UInt64 = 1

    /// Room for names only a world mentions; a world with more unknown names gets a session
    /// sized for it.
    static let spareNames = 256

    public convenience init(index: PackageIndex) {
        self.init(index: index, spareNames: Self.spareNames)
    }

    init(index: PackageIndex, spareNames: Int) {
        self.index = index
        nameCapacity = index.names.count + spareNames
        names = .allocate(capacity: nameCapacity)
        names.initialize(repeating: NameState(), count: nameCapacity)
        packageCapacity = max(index.cores.count, 1)
        pkgs = .allocate(capacity: packageCapacity)
        pkgs.initialize(repeating: PackageState(), count: packageCapacity)
        touchedNameList = .allocate(capacity: nameCapacity)
        touchedPackageList = .allocate(capacity: packageCapacity)
        discoveryFrames = .allocate(capacity: nameCapacity)
        nameLimit = index.names.count
        providerStarts = index.providers.starts
        providerItems = index.providers.items
        rdependsStarts = index.rdepends.starts
        rdependsItems = index.rdepends.items
        rinstallIfStarts = index.rinstallIf.starts
        rinstallIfItems = index.rinstallIf.items
        cores = index.cores.items
        dependsStarts = index.depends.starts
        dependsItems = index.depends.items
        providesStarts = index.provides.starts
        providesItems = index.provides.items
        installIfStarts = index.installIf.starts
        installIfItems = index.installIf.items
    }

    deinit {
        names.deinitialize(count: nameCapacity)
        names.deallocate()
        pkgs.deinitialize(count: packageCapacity)
        pkgs.deallocate()
        touchedNameList.deallocate()
        touchedPackageList.deallocate()
        discoveryFrames.deallocate()
    }

    // MARK: - Access helpers

    /// Bounds of a name's list in a flat table; names only the world knows have none.
    @inline(__always) func nameSpan(_ starts: UnsafeMutablePointer<Int32>, _ name: Int32) -> (start: Int, end: Int) {
        guard Int(name) < nameLimit else { return (0, 0) }
        return (Int(starts[Int(name)]), Int(starts[Int(name) + 1]))
    }

    @inline(__always) func packageSpan(_ starts: UnsafeMutablePointer<Int32>, _ pkg: Int32) -> (start: Int, end: Int) {
        (Int(starts[Int(pkg)]), Int(starts[Int(pkg) + 1]))
    }

    func providers(_ name: Int32) -> UnsafeBufferPointer<Provider> { index.providers.list(Int(name)) }

    func rdepends(_ name: Int32) -> UnsafeBufferPointer<Int32> { index.rdepends.list(Int(name)) }

    func rinstallIf(_ name: Int32) -> UnsafeBufferPointer<Int32> { index.rinstallIf.list(Int(name)) }

    @inline(__always) func package(_ id: Int32) -> PackageCore { cores[Int(id)] }

    @inline(__always) func packageName(_ id: Int32) -> Int32 { cores[Int(id)].name }

    func depends(_ id: Int32) -> UnsafeBufferPointer<Dep> { index.depends.list(Int(id)) }

    func provides(_ id: Int32) -> UnsafeBufferPointer<Dep> { index.provides.list(Int(id)) }

    func installIf(_ id: Int32) -> UnsafeBufferPointer<Dep> { index.installIf.list(Int(id)) }

    func nameText(_ name: Int32) -> String {
        Int(name) < index.names.count ? index.names[Int(name)] : extraNames[Int(name) - index.names.count]
    }

    func versionText(_ id: Int32) -> String? { id < 0 ? nil : version(id).text }

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
            touchedNameList[touchedNameCount] = name
            touchedNameCount += 1
        }
    }

    @inline(__always) func touchPackage(_ pkg: Int32) {
        if !pkgs[Int(pkg)].touched {
            pkgs[Int(pkg)].touched = true
            touchedPackageList[touchedPackageCount] = pkg
            touchedPackageCount += 1
        }
    }

    /// Undoes everything the last solve changed.
    func resetState() {
        clearTouched(keepTouchedMarks: false)
        touchedNameCount = 0
        touchedPackageCount = 0
        extraNames.removeAll()
        extraVersions.removeAll()
        resetQueues()
    }

    func clearTouched(keepTouchedMarks: Bool) {
        let emptyName = NameState.empty
        let emptyPackage = PackageState.empty
        var position = 0
        while position < touchedNameCount {
            let state = names + Int(touchedNameList[position])
            state.pointee = emptyName
            state.pointee.touched = keepTouchedMarks
            position += 1
        }
        position = 0
        while position < touchedPackageCount {
            let state = pkgs + Int(touchedPackageList[position])
            state.pointee = emptyPackage
            state.pointee.touched = keepTouchedMarks
            position += 1
        }
    }

    func resetQueues() {
        dirty.removeAll(keepingCapacity: true)
        dirtyHead = 0
        resolveNow.removeAll()
        waiting.removeAll()
        orderCounter = 0
        errors = 0
        flagsInherit = []
        pinningInherit = 0
        changes.removeAll(keepingCapacity: true)
        totalChanges = 0
    }

    /// Clears solver state (but keeps per-name flags the caller set) before a forced restart.
    func resetForRestart(nameFlags: [(Int32, SolverFlags)]) {
        clearTouched(keepTouchedMarks: true)
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
            return index.infos[Int(provider.package)].checksum == versionText(dep.version)
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
        let core = package(pkg)
        if dep.name == core.name {
            return isProvided(dep, by: Provider(package: pkg, version: core.version)) ? .satisfies : .conflicts
        }
        for provide in provides(pkg) where provide.name == dep.name {
            return isProvided(dep, by: Provider(package: pkg, version: provide.version)) ? .satisfies : .conflicts
        }
        return .irrelevant
    }

    // MARK: - Queues

    func queueDirty(_ name: Int32) {
        let state = names + Int(name)
        if state.pointee.inDirty || state.pointee.locked || (state.pointee.requirers == 0 && !state.pointee.reevaluateIif) {
            return
        }
        dirtySeq &+= 1
        names[Int(name)].inDirty = true
        names[Int(name)].dirtySeq = dirtySeq
        dirty.append((name, dirtySeq))
    }

    func popDirty() -> Int32? {
        while dirtyHead < dirty.count {
            let entry = dirty[dirtyHead]
            dirtyHead += 1
            let state = names + Int(entry.name)
            if state.pointee.inDirty && state.pointee.dirtySeq == entry.seq {
                names[Int(entry.name)].inDirty = false
                return entry.name
            }
        }
        dirty.removeAll(keepingCapacity: true)
        dirtyHead = 0
        return nil
    }

    func queueUnresolved(_ name: Int32) {
        let want = names[Int(name)].requirers > 0 || names[Int(name)].hasIif
        if names[Int(name)].locked { return }
        if want && !names[Int(name)].inUnresolved {
            unresolvedSeq &+= 1
            names[Int(name)].inUnresolved = true
            names[Int(name)].unresolvedSeq = unresolvedSeq
            refreshQueueEntries(name)
        } else if !want && names[Int(name)].inUnresolved {
            removeUnresolved(name)
        }
    }

    func removeUnresolved(_ name: Int32) {
        // Heap entries of a removed name go stale and are dropped when they surface.
        names[Int(name)].inUnresolved = false
    }

    @inline(__always) func canDecideNow(_ name: Int32) -> Bool {
        let state = names + Int(name)
        return state.pointee.reverseDepsDone && state.pointee.requirers > 0 && state.pointee.hasAutoSelectable
            && !state.pointee.hasOptions
    }

    @inline(__always) func preference(_ name: Int32) -> UInt64 {
        let state = names + Int(name)
        return (state.pointee.hasAutoSelectable ? 1 << 63 : 0) | (state.pointee.flagsSet ? 1 << 62 : 0)
            | UInt64(state.pointee.orderID)
    }

    /// Re-files a queued name after its state changed. Old entries stay in the heaps and are
    /// recognised as stale when they surface.
    func refreshQueueEntries(_ name: Int32) {
        guard names[Int(name)].inUnresolved else { return }
        let seq = names[Int(name)].unresolvedSeq
        waiting.push(key: preference(name), name: name, stamp: seq)
        if canDecideNow(name) { resolveNow.push(key: UInt64(seq), name: name, stamp: seq) }
    }

    /// The next name to decide: the most recently queued name that has requirers, a single
    /// auto-selectable option and no undecided reverse dependency; otherwise names with an
    /// auto-selectable provider, then names carrying per-name flags, then the one discovered last
    /// (closest to the world).
    func nextName() -> Int32? {
        while let top = resolveNow.pop() {
            let state = names + Int(top.name)
            if state.pointee.inUnresolved && state.pointee.unresolvedSeq == top.stamp && canDecideNow(top.name) {
                return top.name
            }
        }
        while let top = waiting.pop() {
            let state = names + Int(top.name)
            if state.pointee.inUnresolved && state.pointee.unresolvedSeq == top.stamp && preference(top.name) == top.key {
                return top.name
            }
        }
        return nil
    }

    // MARK: - Discovery

    /// Marks `root` and everything reachable from it as seen and numbers the names (see
    /// ``DiscoveryWalk``).
    func discover(_ root: Int32) {
        var walk = DiscoveryWalk(session: self)
        walk.run(root)
        orderCounter = walk.counter
        touchedNameCount = walk.touchedNameCount
        touchedPackageCount = walk.touchedPackageCount
    }

    // MARK: - Constraints

    func markError(_ pkg: Int32) {
        guard pkg >= 0, !pkgs[Int(pkg)].error else { return }
        touchPackage(pkg)
        pkgs[Int(pkg)].error = true
        errors += 1
    }

    func reevaluateReverseDeps(_ name: Int32) {
        var (position, end) = nameSpan(rdependsStarts, name)
        while position < end {
            let other = rdependsItems[position]
            position += 1
            if !names[Int(other)].seen { continue }
            names[Int(other)].reevaluateDeps = true
            queueDirty(other)
        }
    }

    func reevaluateReverseInstallIf(_ name: Int32) {
        var (position, end) = nameSpan(rinstallIfStarts, name)
        while position < end {
            let other = rinstallIfItems[position]
            position += 1
            if !names[Int(other)].seen || names[Int(other)].noIif { continue }
            names[Int(other)].reevaluateIif = true
            queueDirty(other)
        }
    }

    func reevaluateReverseInstallIf(package pkg: Int32) {
        reevaluateReverseInstallIf(packageName(pkg))
        var (position, end) = packageSpan(providesStarts, pkg)
        while position < end {
            reevaluateReverseInstallIf(providesItems[position].name)
            position += 1
        }
    }

    func disqualify(_ pkg: Int32) {
        pkgs[Int(pkg)].selectable = false
        reevaluateReverseDeps(packageName(pkg))
        var (position, end) = packageSpan(providesStarts, pkg)
        while position < end {
            reevaluateReverseDeps(providesItems[position].name)
            position += 1
        }
        reevaluateReverseInstallIf(package: pkg)
    }

    func dependencySatisfiable(_ dep: Dep) -> Bool {
        let state = names + Int(dep.name)
        if state.pointee.locked { return isProvided(dep, by: state.pointee.chosen) }
        if state.pointee.requirers == 0 && isProvided(dep, by: Provider(package: -1, version: -1)) { return true }
        var (position, end) = nameSpan(providerStarts, dep.name)
        while position < end {
            let provider = providerItems[position]
            position += 1
            if pkgs[Int(provider.package)].selectable && isProvided(dep, by: provider) { return true }
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
        var (position, end) = nameSpan(providerStarts, name)
        while position < end {
            let provider = providerItems[position]
            position += 1
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
            if packageName(pkg) == mustProvide || !pkgs[Int(pkg)].selectable || (skipVirtuals && provider.version < 0) {
                continue
            }
            if provides(pkg).contains(where: { $0.name == mustProvide || (skipVirtuals && $0.version < 0) }) {
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
            let itemDepends = depends(pkg)
            pkgs[Int(pkg)].dependenciesMerged = false
            if reevaluateDeps {
                if !pkgs[Int(pkg)].selectable { continue }
                for dep in itemDepends where !dependencySatisfiable(dep) {
                    disqualify(pkg)
                    break
                }
            }
            if !pkgs[Int(pkg)].selectable { continue }

            if reevaluateIif && !pkgs[Int(pkg)].iifTriggered && !pkgs[Int(pkg)].iifFailed {
                var triggered = true
                var failed = false
                for condition in installIf(pkg) {
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
                for condition in installIf(pkg) {
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
            for dep in itemDepends where !dep.isConflict {
                _ = Self.mergeIndex(&names[Int(dep.name)].mergeDepends, options)
            }
            if Self.mergeIndex(&names[Int(item.name)].mergeProvides, options), provider.version < 0 {
                names[Int(item.name)].hasVirtualProvides = true
            }
            for provide in provides(pkg) {
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
            let candidateName = packageName(firstCandidate)
            let candidateDepends = depends(firstCandidate)
            let candidateProvides = provides(firstCandidate)
            for provider in nameProviders {
                pkgs[Int(provider.package)].dependenciesUsed = pkgs[Int(provider.package)].dependenciesMerged
            }
            if options == 1 {
                for dep in candidateDepends where Self.mergeIndexComplete(&names[Int(dep.name)].mergeDepends, options) {
                    applyConstraint(dep, from: firstCandidate)
                }
            } else {
                for dep in candidateDepends {
                    let other = dep.name
                    if Self.mergeIndexComplete(&names[Int(other)].mergeDepends, options) && names[Int(other)].requirers == 0 {
                        // Every candidate needs this name: it is wanted whichever one wins.
                        names[Int(other)].requirers += 1
                        nameRequirersChanged(other)
                        for provider in providers(other) { inherit(provider.package, from: firstCandidate) }
                    }
                }
            }
            if Self.mergeIndexComplete(&names[Int(candidateName)].mergeProvides, options) {
                excludeNonProviders(candidateName, mustProvide: name,
                                    skipVirtuals: names[Int(candidateName)].hasVirtualProvides)
            }
            for provide in candidateProvides where Self.mergeIndexComplete(&names[Int(provide.name)].mergeProvides, options) {
                excludeNonProviders(provide.name, mustProvide: name,
                                    skipVirtuals: names[Int(provide.name)].hasVirtualProvides)
            }
            names[Int(candidateName)].hasVirtualProvides = false
            for provide in candidateProvides { names[Int(provide.name)].hasVirtualProvides = false }
        }

        var done = true
        var (position, end) = nameSpan(rdependsStarts, name)
        while position < end {
            let other = rdependsItems[position]
            position += 1
            if names[Int(other)].seen && !names[Int(other)].locked {
                done = false
                break
            }
        }
        names[Int(name)].reverseDepsDone = done
        refreshQueueEntries(name)
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
        r = Int(itemA.providerPriority) - Int(itemB.providerPriority)
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

        var (position, end) = nameSpan(providerStarts, name)
        while position < end {
            let other = providerItems[position]
            position += 1
            if other.package == provider.package || (provider.version < 0 && other.version < 0) { continue }
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
        for provide in provides(pkg) { assign(provide.name, Provider(package: pkg, version: provide.version)) }
        for dep in depends(pkg) { applyConstraint(dep, from: pkg) }
    }

    // MARK: - The solve

    /// Runs the solver and the change-set generation; state stays in place for the caller to read
    /// until ``resetState()``.
    func solve(world unsortedWorld: [Dep], sources: [Dependency], flags: SolverFlags, nameFlags: [(Int32, SolverFlags)],
               forceBrokenWorld: Bool) -> SolveOutcome {
        let order = unsortedWorld.indices.sorted { lhs, rhs in
            let left = nameText(unsortedWorld[lhs].name), right = nameText(unsortedWorld[rhs].name)
            if left != right { return Array(left.utf8).lexicographicallyPrecedes(Array(right.utf8)) }
            return lhs < rhs
        }
        let world = order.map { unsortedWorld[$0] }
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
        return SolveOutcome(world: world, worldSources: order.map { sources[$0] }, changes: changes, errors: errors,
                            totalChanges: totalChanges)
    }
}

/// A binary max-heap of queued names with a validity stamp, for the solver's two queues.
struct NameHeap {
    struct Entry {
        var key: UInt64
        var name: Int32
        var stamp: UInt32
    }

    private var items: [Entry] = []

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(key: UInt64, name: Int32, stamp: UInt32) {
        items.append(Entry(key: key, name: name, stamp: stamp))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent].key >= items[child].key { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var largest = parent
                if left < items.count && items[left].key > items[largest].key { largest = left }
                if right < items.count && items[right].key > items[largest].key { largest = right }
                if largest == parent { break }
                items.swapAt(parent, largest)
                parent = largest
            }
        }
        return top
    }
}

