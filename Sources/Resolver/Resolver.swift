import APK

/// Resolves worlds against one ``PackageIndex`` exactly as apk-tools 2.14 does.
///
/// ```swift
/// let index = try PackageIndex(repositories: [Repository(name: url, packages: records)])
/// let resolution = try Resolver(index: index).resolve(world: [try Dependency(parsing: "busybox")])
/// for package in resolution.packages { print(package.nameVersion) }   // install order
/// ```
///
/// Same input, same output: nothing depends on hashing or timing.
public struct Resolver: Sendable {
    /// The packages this resolver chooses from.
    public let index: PackageIndex

    /// A resolver over `index`.
    public init(index: PackageIndex) {
        self.index = index
    }

    /// Solves `request`; throws ``ResolverError/Kind/unsatisfiable`` with the problems found.
    public func resolve(_ request: ResolveRequest) throws(ResolverError) -> Resolution {
        try ResolverSession(index: index).resolve(request)
    }

    /// Solves a world from an empty root with default options.
    public func resolve(world: [Dependency]) throws(ResolverError) -> Resolution {
        try resolve(ResolveRequest(world: world))
    }
}

extension ResolverSession {
    /// Solves `request` reusing this session's scratch state.
    public func resolve(_ request: ResolveRequest) throws(ResolverError) -> Resolution {
        defer { resetState() }
        var world: [Dep] = []
        for dependency in request.world {
            world.append(try index.internWorld(dependency, extraNames: &extraNames, extraVersions: &extraVersions))
        }
        var nameFlags: [NameFlagSetting] = []
        for (name, flags) in request.nameFlags.sorted(by: { $0.key < $1.key }) {
            let inheritable = request.inheritableNameFlags.map { $0[name] ?? [] } ?? flags
            nameFlags.append(NameFlagSetting(name: internExtraName(name), flags: flags, inheritable: inheritable))
        }
        if index.names.count + extraNames.count > nameCapacity {
            return try ResolverSession(index: index, spareNames: extraNames.count).resolve(request)
        }

        let outcome = solve(world: world, sources: request.world, flags: request.flags, nameFlags: nameFlags,
                            forceBrokenWorld: request.forceBrokenWorld, selfUpgrade: request.selfUpgrade)
        if outcome.errors > 0 { throw failure(outcome) }
        return resolution(outcome)
    }

    func internExtraName(_ name: String) -> Int32 {
        if let id = index.nameID(name) { return id }
        if let found = extraNames.firstIndex(of: name) { return Int32(index.names.count + found) }
        extraNames.append(name)
        return Int32(index.names.count + extraNames.count - 1)
    }

    func resolvedPackage(_ pkg: Int32, tag: Int32) -> ResolvedPackage {
        let item = package(pkg)
        var repositories: [String] = []
        var remaining = item.repos
        while remaining != 0 {
            repositories.append(index.repositoryNames[remaining.trailingZeroBitCount - 1])
            remaining &= remaining - 1
        }
        return ResolvedPackage(info: index.infos[Int(pkg)], repository: repositories.first, repositories: repositories,
                               tag: tag == 0 ? nil : index.tags[Int(tag)], wasInstalled: item.isInstalled)
    }

    func action(of record: ChangeRecord) -> Change.Action {
        if record.old < 0 { return .install }
        if record.new < 0 { return .remove }
        if record.new == record.old {
            if record.reinstall { return .reinstall }
            return record.oldTag != record.newTag ? .repin : .keep
        }
        switch compareVersions(package(record.new).version, package(record.old).version) {
        case .less: return .downgrade
        case .greater: return .upgrade
        default: return .replace
        }
    }

    func resolution(_ outcome: SolveOutcome) -> Resolution {
        var changeList: [Change] = []
        var selected: [ResolvedPackage] = []
        var position: [Int32: Int] = [:]
        var installed = Set(index.installedOrder)
        for record in outcome.changes {
            let old = record.old >= 0 ? resolvedPackage(record.old, tag: record.oldTag) : nil
            let new = record.new >= 0 ? resolvedPackage(record.new, tag: record.newTag) : nil
            changeList.append(Change(action: action(of: record), old: old, new: new))
            if record.old >= 0 { installed.remove(record.old) }
            if record.new >= 0 {
                installed.insert(record.new)
                if position[record.new] == nil {
                    position[record.new] = selected.count
                    selected.append(new!)
                }
            }
        }
        var edges: [ResolvedEdge] = []
        func addEdges(from: Int?, _ deps: [Dep], _ sources: [Dependency]) {
            for (dep, source) in zip(deps, sources) where !dep.isConflict {
                let chosen = nameState(dep.name).pointee.chosenPackage
                if chosen >= 0, let target = position[chosen] {
                    edges.append(ResolvedEdge(from: from, dependency: source, to: target))
                }
            }
        }
        addEdges(from: nil, outcome.world, outcome.worldSources)
        for (pkg, at) in position.sorted(by: { $0.value < $1.value }) {
            addEdges(from: at, Array(depends(pkg)), index.infos[Int(pkg)].depends)
        }
        return Resolution(world: outcome.worldSources, changes: changeList, packages: selected, edges: edges,
                          installedCount: installed.count)
    }

    func failure(_ outcome: SolveOutcome) -> ResolverError {
        let analysis = FailureAnalysis(session: self, outcome: outcome)
        let walk = analysis.walk()
        let problems = analysis.problems(walk)
        var message = "unable to select packages"
        if let first = problems.first {
            message += ": \(first)"
            if problems.count > 1 { message += " (and \(problems.count - 1) more problem\(problems.count > 2 ? "s" : ""))" }
        }
        return ResolverError(.unsatisfiable, message, problems: problems, apkReport: analysis.apkReport(walk))
    }
}
