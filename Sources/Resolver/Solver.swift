import APK

/// A reusable solver over one ``PackageIndex``. Its scratch state is sized to the index once and
/// stamped with a generation number, so starting a new solve costs nothing and solving thousands
/// of worlds one after the other costs what the solves themselves cost.
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
    /// (and check exclusive access) in unoptimised builds. A state whose generation is not the
    /// current one is stale and reads as empty (see ``nameState(_:)``).
    let names: UnsafeMutablePointer<NameState>
    /// Names the index has plus room for names only a world mentions.
    let nameCapacity: Int
    let pkgs: UnsafeMutablePointer<PackageState>
    let packageCapacity: Int
    /// What discovery records per name, kept apart from ``names`` because discovery visits most
    /// of a real index on every solve and these fit in cache: the generation a name was seen in,
    /// its discovery number, and whether none of its providers has install_if.
    let seenGeneration: UnsafeMutablePointer<UInt32>
    let orderIDs: UnsafeMutablePointer<UInt32>
    let noInstallIf: UnsafeMutablePointer<Bool>
    /// The current generation, in a cell so reading it needs no exclusivity check.
    let generationCell: UnsafeMutablePointer<UInt32>
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
    var performingSelfUpgrade = false
    var changes: [ChangeRecord] = []
    var totalChanges = 0

    static let defaultPinning: UInt64 = 1

    /// Room for names only a world mentions; a world with more unknown names gets a session
    /// sized for it.
    static let spareNames = 256

    /// A session over `index`, with its scratch state allocated once.
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
        seenGeneration = .allocate(capacity: nameCapacity)
        seenGeneration.initialize(repeating: 0, count: nameCapacity)
        orderIDs = .allocate(capacity: nameCapacity)
        orderIDs.initialize(repeating: 0, count: nameCapacity)
        noInstallIf = .allocate(capacity: nameCapacity)
        noInstallIf.initialize(repeating: false, count: nameCapacity)
        generationCell = .allocate(capacity: 1)
        generationCell.initialize(to: 1)
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
        seenGeneration.deallocate()
        orderIDs.deallocate()
        noInstallIf.deallocate()
        generationCell.deallocate()
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

    /// A name's state for the current solve (a stale one is reset on first access).
    @inline(__always) func nameState(_ name: Int32) -> UnsafeMutablePointer<NameState> {
        let state = names + Int(name)
        if state.pointee.generation != generationCell.pointee {
            state.pointee = NameState.empty
            state.pointee.generation = generationCell.pointee
        }
        return state
    }

    /// A package's state for the current solve (a stale one is reset on first access).
    @inline(__always) func packageState(_ pkg: Int32) -> UnsafeMutablePointer<PackageState> {
        let state = pkgs + Int(pkg)
        if state.pointee.generation != generationCell.pointee {
            state.pointee = PackageState.empty
            state.pointee.generation = generationCell.pointee
        }
        return state
    }

    @inline(__always) func isSeen(_ name: Int32) -> Bool { seenGeneration[Int(name)] == generationCell.pointee }

    /// Starts a new generation: every name and package state becomes stale at once.
    func advanceGeneration() {
        if generationCell.pointee == UInt32.max {
            // Wrapped: clear everything once so no old stamp can match again.
            for position in 0..<nameCapacity { names[position] = NameState.empty }
            for position in 0..<packageCapacity { pkgs[position] = PackageState.empty }
            seenGeneration.update(repeating: 0, count: nameCapacity)
            generationCell.pointee = 1
        } else {
            generationCell.pointee += 1
        }
    }

    /// Forgets the last solve.
    func resetState() {
        advanceGeneration()
        extraNames.removeAll()
        extraVersions.removeAll()
        resetQueues()
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
        performingSelfUpgrade = false
        changes.removeAll(keepingCapacity: true)
        totalChanges = 0
    }

    /// Clears solver state (but keeps per-name flags the caller set) before a forced restart.
    func resetForRestart(nameFlags: [NameFlagSetting]) {
        advanceGeneration()
        resetQueues()
        applyNameFlags(nameFlags)
    }

    func applyNameFlags(_ nameFlags: [NameFlagSetting]) {
        for setting in nameFlags {
            nameState(setting.name).pointee.flagsSet = true
            for provider in providers(setting.name) {
                packageState(provider.package).pointee.flags.formUnion(setting.flags)
                packageState(provider.package).pointee.inheritableFlags.formUnion(setting.inheritable)
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
        let state = nameState(name)
        if state.pointee.inDirty || state.pointee.locked || (state.pointee.requirers == 0 && !state.pointee.reevaluateIif) {
            return
        }
        dirtySeq &+= 1
        state.pointee.inDirty = true
        state.pointee.dirtySeq = dirtySeq
        dirty.append((name, dirtySeq))
    }

    func popDirty() -> Int32? {
        while dirtyHead < dirty.count {
            let entry = dirty[dirtyHead]
            dirtyHead += 1
            let state = nameState(entry.name)
            if state.pointee.inDirty && state.pointee.dirtySeq == entry.seq {
                nameState(entry.name).pointee.inDirty = false
                return entry.name
            }
        }
        dirty.removeAll(keepingCapacity: true)
        dirtyHead = 0
        return nil
    }

    func queueUnresolved(_ name: Int32) {
        let want = nameState(name).pointee.requirers > 0 || nameState(name).pointee.hasIif
        if nameState(name).pointee.locked { return }
        if want && !nameState(name).pointee.inUnresolved {
            unresolvedSeq &+= 1
            nameState(name).pointee.inUnresolved = true
            nameState(name).pointee.unresolvedSeq = unresolvedSeq
            refreshQueueEntries(name)
        } else if !want && nameState(name).pointee.inUnresolved {
            removeUnresolved(name)
        }
    }

    func removeUnresolved(_ name: Int32) {
        // Heap entries of a removed name go stale and are dropped when they surface.
        nameState(name).pointee.inUnresolved = false
    }

    @inline(__always) func canDecideNow(_ name: Int32) -> Bool {
        let state = nameState(name)
        return state.pointee.reverseDepsDone && state.pointee.requirers > 0 && state.pointee.hasAutoSelectable
            && !state.pointee.hasOptions
    }

    @inline(__always) func preference(_ name: Int32) -> UInt64 {
        let state = nameState(name)
        return (state.pointee.hasAutoSelectable ? 1 << 63 : 0) | (state.pointee.flagsSet ? 1 << 62 : 0)
            | UInt64(orderIDs[Int(name)])
    }

    /// Re-files a queued name after its state changed. Old entries stay in the heaps and are
    /// recognised as stale when they surface.
    func refreshQueueEntries(_ name: Int32) {
        guard nameState(name).pointee.inUnresolved else { return }
        let seq = nameState(name).pointee.unresolvedSeq
        waiting.push(key: preference(name), name: name, stamp: seq)
        if canDecideNow(name) { resolveNow.push(key: UInt64(seq), name: name, stamp: seq) }
    }

    /// The next name to decide: the most recently queued name that has requirers, a single
    /// auto-selectable option and no undecided reverse dependency; otherwise names with an
    /// auto-selectable provider, then names carrying per-name flags, then the one discovered last
    /// (closest to the world).
    func nextName() -> Int32? {
        while let top = resolveNow.pop() {
            let state = nameState(top.name)
            if state.pointee.inUnresolved && state.pointee.unresolvedSeq == top.stamp && canDecideNow(top.name) {
                return top.name
            }
        }
        while let top = waiting.pop() {
            let state = nameState(top.name)
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
    }

    // MARK: - Constraints

    func markError(_ pkg: Int32) {
        guard pkg >= 0, !packageState(pkg).pointee.error else { return }
        packageState(pkg).pointee.error = true
        errors += 1
    }

    func reevaluateReverseDeps(_ name: Int32) {
        var (position, end) = nameSpan(rdependsStarts, name)
        while position < end {
            let other = rdependsItems[position]
            position += 1
            if !isSeen(other) { continue }
            let state = nameState(other)
            state.pointee.reevaluateDeps = true
            // queueDirty, inlined: popular names have thousands of reverse dependencies and
            // almost none of them are wanted.
            if state.pointee.inDirty || state.pointee.locked || (state.pointee.requirers == 0 && !state.pointee.reevaluateIif) {
                continue
            }
            dirtySeq &+= 1
            state.pointee.inDirty = true
            state.pointee.dirtySeq = dirtySeq
            dirty.append((other, dirtySeq))
        }
    }

    func reevaluateReverseInstallIf(_ name: Int32) {
        var (position, end) = nameSpan(rinstallIfStarts, name)
        while position < end {
            let other = rinstallIfItems[position]
            position += 1
            if !isSeen(other) || noInstallIf[Int(other)] { continue }
            nameState(other).pointee.reevaluateIif = true
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
        packageState(pkg).pointee.selectable = false
        reevaluateReverseDeps(packageName(pkg))
        var (position, end) = packageSpan(providesStarts, pkg)
        while position < end {
            reevaluateReverseDeps(providesItems[position].name)
            position += 1
        }
        reevaluateReverseInstallIf(package: pkg)
    }

    func dependencySatisfiable(_ dep: Dep) -> Bool {
        let state = nameState(dep.name)
        if state.pointee.locked { return isProvided(dep, by: state.pointee.chosen) }
        if state.pointee.requirers == 0 && isProvided(dep, by: Provider(package: -1, version: -1)) { return true }
        var (position, end) = nameSpan(providerStarts, dep.name)
        while position < end {
            let provider = providerItems[position]
            position += 1
            if packageState(provider.package).pointee.selectable && isProvided(dep, by: provider) { return true }
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
            let parentState = packageState(parent).pointee
            packageState(pkg).pointee.flags.formUnion(parentState.inheritableFlags)
            packageState(pkg).pointee.inheritableFlags.formUnion(parentState.inheritableFlags)
            packageState(pkg).pointee.pinningAllowed |= parentState.pinningAllowed
        } else {
            packageState(pkg).pointee.flags.formUnion(flagsInherit)
            packageState(pkg).pointee.inheritableFlags.formUnion(flagsInherit)
            packageState(pkg).pointee.pinningAllowed |= pinningInherit
            packageState(pkg).pointee.pinningPreferred = pinningInherit
            packageState(pkg).pointee.tagPreferred = repos & index.repos(forPinning: pinningInherit) != 0
        }
        if repos & index.repos(forPinning: packageState(pkg).pointee.pinningAllowed) != 0 {
            packageState(pkg).pointee.tagOK = true
        }
    }

    func applyConstraint(_ dep: Dep, from parent: Int32) {
        let name = dep.name
        if !dep.isConflict {
            nameState(name).pointee.requirers += 1
            if nameState(name).pointee.requirers == 1 { nameRequirersChanged(name) }
        }
        var (position, end) = nameSpan(providerStarts, name)
        while position < end {
            let provider = providerItems[position]
            position += 1
            let pkg = provider.package
            let provided = isProvided(dep, by: provider)
            if !provided { packageState(pkg).pointee.conflicts += 1 }
            if packageState(pkg).pointee.selectable && packageState(pkg).pointee.conflicts > 0 { disqualify(pkg) }
            if provided { inherit(pkg, from: parent) }
        }
    }

    func excludeNonProviders(_ name: Int32, mustProvide: Int32, skipVirtuals: Bool) {
        if name == mustProvide { return }
        for provider in providers(name) {
            let pkg = provider.package
            if packageName(pkg) == mustProvide || !packageState(pkg).pointee.selectable || (skipVirtuals && provider.version < 0) {
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
        return nameState(item.name).pointee.requirers != 0
    }

    func reconsider(_ name: Int32) {
        let reevaluateDeps = nameState(name).pointee.reevaluateDeps
        let reevaluateIif = nameState(name).pointee.reevaluateIif
        nameState(name).pointee.reevaluateDeps = false
        nameState(name).pointee.reevaluateIif = false

        var firstCandidate: Int32 = -1
        var options: Int32 = 0
        var tagNotOK = 0
        var hasIif = false
        var noIif = true
        var hasAutoSelectable = false
        let requirers = nameState(name).pointee.requirers
        let nameProviders = providers(name)

        for provider in nameProviders {
            let pkg = provider.package
            let item = package(pkg)
            let itemDepends = depends(pkg)
            packageState(pkg).pointee.dependenciesMerged = false
            if reevaluateDeps {
                if !packageState(pkg).pointee.selectable { continue }
                for dep in itemDepends where !dependencySatisfiable(dep) {
                    disqualify(pkg)
                    break
                }
            }
            if !packageState(pkg).pointee.selectable { continue }

            if reevaluateIif && !packageState(pkg).pointee.iifTriggered && !packageState(pkg).pointee.iifFailed {
                var triggered = true
                var failed = false
                for condition in installIf(pkg) {
                    let conditionState = nameState(condition.name).pointee
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
                packageState(pkg).pointee.iifTriggered = triggered
                packageState(pkg).pointee.iifFailed = failed
            }
            if reevaluateIif && packageState(pkg).pointee.iifTriggered {
                for condition in installIf(pkg) {
                    // A condition met by "nothing installed" (a conflict) passes no parent on,
                    // which apk treats as a world entry with no pinning.
                    inherit(pkg, from: nameState(condition.name).pointee.chosenPackage)
                }
            }
            hasIif = hasIif || packageState(pkg).pointee.iifTriggered
            noIif = noIif && packageState(pkg).pointee.iifFailed
            hasAutoSelectable = hasAutoSelectable || packageState(pkg).pointee.iifTriggered

            if requirers == 0 { continue }

            packageState(pkg).pointee.dependenciesMerged = true
            if firstCandidate < 0 { firstCandidate = pkg }
            for dep in itemDepends where !dep.isConflict {
                _ = Self.mergeIndex(&nameState(dep.name).pointee.mergeDepends, options)
            }
            if Self.mergeIndex(&nameState(item.name).pointee.mergeProvides, options), provider.version < 0 {
                nameState(item.name).pointee.hasVirtualProvides = true
            }
            for provide in provides(pkg) {
                if Self.mergeIndex(&nameState(provide.name).pointee.mergeProvides, options), provide.version < 0 {
                    nameState(provide.name).pointee.hasVirtualProvides = true
                }
            }
            if !packageState(pkg).pointee.tagOK { tagNotOK += 1 }
            options += 1
            if !hasAutoSelectable && isAutoSelectable(provider) { hasAutoSelectable = true }
        }
        nameState(name).pointee.hasOptions = options > 1 || tagNotOK > 0
        nameState(name).pointee.hasIif = hasIif
        noInstallIf[Int(name)] = noIif
        nameState(name).pointee.hasAutoSelectable = hasAutoSelectable
        queueUnresolved(name)

        if firstCandidate >= 0 {
            let candidateName = packageName(firstCandidate)
            let candidateDepends = depends(firstCandidate)
            let candidateProvides = provides(firstCandidate)
            for provider in nameProviders {
                packageState(provider.package).pointee.dependenciesUsed = packageState(provider.package).pointee.dependenciesMerged
            }
            if options == 1 {
                for dep in candidateDepends where Self.mergeIndexComplete(&nameState(dep.name).pointee.mergeDepends, options) {
                    applyConstraint(dep, from: firstCandidate)
                }
            } else {
                for dep in candidateDepends {
                    let other = dep.name
                    if Self.mergeIndexComplete(&nameState(other).pointee.mergeDepends, options) && nameState(other).pointee.requirers == 0 {
                        // Every candidate needs this name: it is wanted whichever one wins.
                        nameState(other).pointee.requirers += 1
                        nameRequirersChanged(other)
                        for provider in providers(other) { inherit(provider.package, from: firstCandidate) }
                    }
                }
            }
            if Self.mergeIndexComplete(&nameState(candidateName).pointee.mergeProvides, options) {
                excludeNonProviders(candidateName, mustProvide: name,
                                    skipVirtuals: nameState(candidateName).pointee.hasVirtualProvides)
            }
            for provide in candidateProvides where Self.mergeIndexComplete(&nameState(provide.name).pointee.mergeProvides, options) {
                excludeNonProviders(provide.name, mustProvide: name,
                                    skipVirtuals: nameState(provide.name).pointee.hasVirtualProvides)
            }
            nameState(candidateName).pointee.hasVirtualProvides = false
            for provide in candidateProvides { nameState(provide.name).pointee.hasVirtualProvides = false }
        }

        var done = true
        var (position, end) = nameSpan(rdependsStarts, name)
        while position < end {
            let other = rdependsItems[position]
            position += 1
            if isSeen(other) && !nameState(other).pointee.locked {
                done = false
                break
            }
        }
        nameState(name).pointee.reverseDepsDone = done
        refreshQueueEntries(name)
    }

    // MARK: - Choosing

    /// apk's `compare_providers`: positive when `a` is the better provider.
    func compareProviders(_ a: Provider, _ b: Provider) -> Int {
        if a.package < 0 || b.package < 0 { return (a.package >= 0 ? 1 : 0) - (b.package >= 0 ? 1 : 0) }
        let stateA = packageState(a.package).pointee, stateB = packageState(b.package).pointee
        let itemA = package(a.package), itemB = package(b.package)
        let flags = stateA.flags.union(stateB.flags)
        func prefer(_ x: Bool, _ y: Bool) -> Int { (x ? 1 : 0) - (y ? 1 : 0) }

        // Packages being deleted lose to any alternative.
        let removal = prefer(!stateA.flags.contains(.remove), !stateB.flags.contains(.remove))
        if removal != 0 { return removal }
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
            if (performingSelfUpgrade && !flags.contains(.upgrade)) || flags.contains(.installed) {
                r = prefer(itemA.isInstalled, itemB.isInstalled)
                if r != 0 { return r }
            }
            r = prefer(stateA.tagOK, stateB.tagOK)
            if r != 0 { return r }
            if flags.contains(.available) {
                r = prefer(stateA.available, stateB.available)
                if r != 0 { return r }
            }
            r = prefer(stateA.tagPreferred, stateB.tagPreferred)
            if r != 0 { return r }
            if !flags.contains(.upgrade) && !flags.contains(.remove) {
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
        var r = flags.contains(.remove) ? 0 : prefer(itemA.isInstalled, itemB.isInstalled)
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
        if nameState(name).pointee.locked {
            // Two packages may provide the same name only if both do so without a version.
            if provider.version < 0 && nameState(name).pointee.chosenVersion < 0 { return }
            markError(provider.package)
            markError(nameState(name).pointee.chosenPackage)
            return
        }
        nameState(name).pointee.locked = true
        nameState(name).pointee.chosenPackage = provider.package
        nameState(name).pointee.chosenVersion = provider.version
        removeUnresolved(name)
        nameState(name).pointee.inDirty = false

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
        let state = nameState(name).pointee
        if state.requirers > 0 || state.hasIif {
            for provider in providers(name) {
                let pkgState = packageState(provider.package).pointee
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
        if !packageState(pkg).pointee.selectable || !packageState(pkg).pointee.tagOK { markError(pkg) }
        let item = package(pkg)
        assign(item.name, Provider(package: pkg, version: item.version))
        for provide in provides(pkg) { assign(provide.name, Provider(package: pkg, version: provide.version)) }
        for dep in depends(pkg) { applyConstraint(dep, from: pkg) }
    }

    // MARK: - The solve

    /// Runs the solver and the change-set generation; state stays in place for the caller to read
    /// until ``resetState()``.
    func solve(world unsortedWorld: [Dep], sources: [Dependency], flags: SolverFlags, nameFlags: [NameFlagSetting],
               forceBrokenWorld: Bool, selfUpgrade: Bool) -> SolveOutcome {
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
            performingSelfUpgrade = selfUpgrade
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
                let chosen = nameState(dep.name).pointee.chosenPackage
                if chosen < 0 || packageState(chosen).pointee.error {
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

