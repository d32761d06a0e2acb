import APK

/// Explains a failed solve twice: as the block apk-tools 2.14 prints after
/// `ERROR: unable to select packages:` (same analysis, same order, same line wrapping), and as
/// ``Problem`` values with the shortest chain from the world to each failure.
struct FailureAnalysis {
    let session: ResolverSession
    let outcome: SolveOutcome
    var index: PackageIndex { session.index }

    /// Packages the change set would install or keep (apk's `marked`).
    let markedPackages: [Bool]

    @inline(__always) func isMarked(_ pkg: Int32) -> Bool { markedPackages[Int(pkg)] }

    init(session: ResolverSession, outcome: SolveOutcome) {
        self.session = session
        self.outcome = outcome
        var marked = Array(repeating: false, count: session.index.packageCount)
        for change in outcome.changes where change.new >= 0 { marked[Int(change.new)] = true }
        markedPackages = marked
    }

    // MARK: - The shared analysis

    /// A dependency and who has it (`nil` = the world).
    struct Requirement {
        var owner: Int32?
        var dep: Dep
    }

    enum Finding {
        /// A wanted name nothing selected provides.
        case missing(name: Int32, requiredBy: [Requirement])
        /// A selected package that is pinned away, conflicts, or breaks a dependency.
        case package(pkg: Int32, maskedIn: [String], unavailable: String?, conflicts: [(pkg: Int32, dep: Dep?)],
                     breaks: [Requirement], satisfies: [Requirement])
    }

    static let present: UInt32 = 0x8000_0000
    static let missingFlag: UInt32 = 0x4000_0000
    static let virtualOnly: UInt32 = 0x2000_0000
    static let installIf: UInt32 = 0x1000_0000
    static let countMask: UInt32 = 0x0000_ffff

    /// apk's error analysis, run once; every finding is handed to `emit` together with the printer
    /// so the text and the structured view come from the same walk.
    struct Walk {
        var nameState: [Int32: UInt32] = [:]
        var packageState: [Int32: UInt32] = [:]
        var printer = IndentPrinter()
        var label: String?
        var labels = 0
        var findings: [Finding] = []
    }

    func isNameConcrete(_ pkg: Int32, _ name: Int32) -> Bool {
        if session.packageName(pkg) == name { return true }
        return session.provides(pkg).contains { $0.name == name && $0.version >= 0 }
    }

    func discover(name: Int32, state initial: UInt32, _ walk: inout Walk) {
        for provider in session.providers(name) {
            let pkg = provider.package
            guard isMarked(pkg) else { continue }
            var state = initial
            let item = session.package(pkg)
            if (state == Self.present || state == Self.installIf) && item.providerPriority == 0
                && !isNameConcrete(pkg, name)
            {
                state = Self.virtualOnly
            }
            if walk.packageState[pkg, default: 0] & state != 0 { continue }
            walk.packageState[pkg, default: 0] |= state
            walk.nameState[item.name, default: 0] |= state
            for provide in session.provides(pkg) {
                var provideState = state
                if provideState == Self.installIf && provide.version < 0 { provideState = Self.virtualOnly }
                walk.nameState[provide.name, default: 0] |= provideState
            }
            discover(dependencies: session.depends(pkg), &walk)
            if state == Self.present || state == Self.installIf {
                discoverReverseInstallIf(item.name, &walk)
                for provide in session.provides(pkg) { discoverReverseInstallIf(provide.name, &walk) }
            }
        }
    }

    func discover(dependencies: some Sequence<Dep>, _ walk: inout Walk) {
        for dep in dependencies where !dep.isConflict { discover(name: dep.name, state: Self.present, &walk) }
    }

    func discoverReverseInstallIf(_ name: Int32, _ walk: inout Walk) {
        for other in session.rinstallIf(name) {
            for provider in session.providers(other) {
                let pkg = provider.package
                guard isMarked(pkg) else { continue }
                let conditions = session.installIf(pkg)
                if conditions.isEmpty { continue }
                let met = conditions.allSatisfy { condition in
                    let isThere = walk.nameState[condition.name, default: 0] & (Self.present | Self.installIf) != 0
                    return condition.isConflict != isThere
                }
                if met {
                    discover(name: session.packageName(pkg), state: Self.installIf, &walk)
                    for provide in session.provides(pkg) { discover(name: provide.name, state: Self.installIf, &walk) }
                }
            }
        }
    }

    func depText(_ dep: Dep) -> String {
        var text = dep.isConflict ? "!" : ""
        text += session.nameText(dep.name)
        if let version = session.versionText(dep.version) { text += dep.op.spelling + version }
        return text
    }

    func requirementText(_ requirement: Requirement) -> String {
        if let owner = requirement.owner { return "\(index.nameVersion(owner))[\(depText(requirement.dep))]" }
        return "world[\(depText(requirement.dep))]"
    }

    func labelStart(_ text: String, _ walk: inout Walk) {
        if let label = walk.label {
            walk.printer.line("  \(label):")
            walk.label = nil
            walk.labels += 1
        }
        if walk.printer.x == 0 { walk.printer.group("    " + text) }
    }

    func analyzeMissing(_ name: Int32, _ walk: inout Walk) {
        let nameProviders = session.providers(name)
        var requiredBy: [Requirement] = []
        if !nameProviders.isEmpty {
            walk.label = "\(session.nameText(name)) (virtual)"
            labelStart("note:", &walk)
            walk.printer.words("please select one of the 'provided by' packages explicitly")
            walk.printer.end()
            labelStart("provided by:", &walk)
            for provider in nameProviders {
                walk.nameState[session.packageName(provider.package), default: 0] += 1
            }
            for provider in nameProviders {
                let owner = session.packageName(provider.package)
                let references = walk.nameState[owner, default: 0] & Self.countMask
                if Int(references) == session.providers(owner).count {
                    walk.printer.word(session.nameText(owner))
                    walk.nameState[owner, default: 0] &= ~Self.countMask
                } else if references > 0 {
                    walk.printer.word(index.nameVersion(provider.package))
                    walk.nameState[owner, default: 0] -= 1
                }
            }
            walk.printer.end()
        } else {
            walk.label = "\(session.nameText(name)) (no such package)"
        }
        labelStart("required by:", &walk)
        for dep in outcome.world where dep.name == name && !dep.isConflict {
            let requirement = Requirement(owner: nil, dep: dep)
            requiredBy.append(requirement)
            walk.printer.word(requirementText(requirement))
        }
        var visited = Set<Int32>()
        for other in session.rdepends(name) {
            for provider in session.providers(other) {
                let pkg = provider.package
                guard isMarked(pkg), visited.insert(pkg).inserted else { continue }
                if let dep = session.depends(pkg).first(where: { $0.name == name && !$0.isConflict }) {
                    let requirement = Requirement(owner: pkg, dep: dep)
                    requiredBy.append(requirement)
                    walk.printer.word(requirementText(requirement))
                }
                // apk stops at the first selected provider of each reverse name, printed or not.
                break
            }
        }
        walk.printer.end()
        walk.findings.append(.missing(name: name, requiredBy: requiredBy))
    }

    func analyze(dependencies: some Sequence<Dep>, _ walk: inout Walk) {
        for dep in dependencies where !dep.isConflict {
            if walk.nameState[dep.name, default: 0] & (Self.installIf | Self.present | Self.missingFlag) != 0 { continue }
            walk.nameState[dep.name, default: 0] |= Self.missingFlag
            analyzeMissing(dep.name, &walk)
        }
    }

    /// Tags a package is only available under, or why it cannot be fetched; empty when neither.
    func pinningErrors(_ pkg: Int32, tag: Int32) -> (tags: [String], unavailable: String?) {
        let item = session.package(pkg)
        if item.isInstalled || item.repos == 0 { return ([], nil) }
        if item.repos & index.availableRepos == 0 {
            let first = item.repos.trailingZeroBitCount - 1
            return ([], index.repositoryUnavailableReasons[first] ?? "unavailable")
        }
        if item.repos & index.repos(forPinning: ResolverSession.defaultPinning | (UInt64(1) << UInt64(tag))) != 0 {
            return ([], nil)
        }
        var tags: [String] = []
        for tagID in index.tags.indices where item.repos & index.tagAllowedRepos[tagID] != 0 {
            tags.append(index.tagDisplay(Int32(tagID)))
        }
        return (tags, nil)
    }

    func conflicts(_ pkg: Int32) -> [(pkg: Int32, dep: Dep?)] {
        var result: [(pkg: Int32, dep: Dep?)] = []
        for provider in session.providers(session.packageName(pkg)) where provider.package != pkg && isMarked(provider.package) {
            result.append((provider.package, nil))
        }
        for provide in session.provides(pkg) {
            var once = true
            for provider in session.providers(provide.name) where isMarked(provider.package) {
                if provide.version < 0 && provider.version < 0 { continue }
                if once && provider.package == pkg && index.versionText(provider.version) == index.versionText(provide.version) {
                    once = false
                    continue
                }
                result.append((provider.package, provide))
            }
        }
        return result
    }

    /// World entries and selected packages' dependencies that `pkg` breaks (or satisfies), in
    /// apk's order: the world, then reverse dependencies of its name and of each name it provides.
    func requirements(of pkg: Int32, matching wanted: ResolverSession.Analysis) -> [Requirement] {
        var result: [Requirement] = []
        for dep in outcome.world where session.analyze(dep, pkg) == wanted {
            result.append(Requirement(owner: nil, dep: dep))
        }
        // Reverse dependencies of a popular name run into the thousands while only a handful of
        // packages are selected, so the walk reads the raw tables.
        var visited = Set<Int32>()
        for owner in [session.packageName(pkg)] + session.provides(pkg).map(\.name) {
            var (position, end) = session.nameSpan(session.rdependsStarts, owner)
            while position < end {
                let other = session.rdependsItems[position]
                position += 1
                var (providerPosition, providerEnd) = session.nameSpan(session.providerStarts, other)
                while providerPosition < providerEnd {
                    let candidate = session.providerItems[providerPosition].package
                    providerPosition += 1
                    guard isMarked(candidate), visited.insert(candidate).inserted else { continue }
                    for dep in session.depends(candidate) where session.analyze(dep, pkg) == wanted {
                        result.append(Requirement(owner: candidate, dep: dep))
                    }
                }
            }
        }
        return result
    }

    func analyzePackage(_ pkg: Int32, tag: Int32, _ walk: inout Walk) {
        walk.label = index.nameVersion(pkg)
        let pinning = pinningErrors(pkg, tag: tag)
        if let unavailable = pinning.unavailable {
            labelStart("masked in:", &walk)
            walk.printer.word(unavailable)
        }
        for tagName in pinning.tags {
            labelStart("masked in:", &walk)
            walk.printer.word(tagName)
        }
        walk.printer.end()

        let conflicting = conflicts(pkg)
        for (other, dep) in conflicting {
            labelStart("conflicts:", &walk)
            if let dep {
                walk.printer.word("\(index.nameVersion(other))[\(depText(dep))]")
            } else {
                walk.printer.word(index.nameVersion(other))
            }
        }
        walk.printer.end()

        let breaks = requirements(of: pkg, matching: .conflicts)
        for requirement in breaks {
            labelStart("breaks:", &walk)
            walk.printer.word(requirementText(requirement))
        }
        walk.printer.end()

        var satisfies: [Requirement] = []
        if walk.label == nil {
            satisfies = requirements(of: pkg, matching: .satisfies)
            for requirement in satisfies {
                labelStart("satisfies:", &walk)
                walk.printer.word(requirementText(requirement))
            }
            walk.printer.end()
        }
        let unusable = session.package(pkg).isUninstallable
        if walk.label == nil || unusable {
            walk.findings.append(.package(pkg: pkg, maskedIn: pinning.tags, unavailable: pinning.unavailable,
                                          conflicts: conflicting, breaks: breaks, satisfies: satisfies))
        }
    }

    func walk() -> Walk {
        var walk = Walk()
        discover(dependencies: outcome.world, &walk)
        analyze(dependencies: outcome.world, &walk)
        for change in outcome.changes where change.new >= 0 {
            analyzePackage(change.new, tag: change.newTag, &walk)
            analyze(dependencies: session.depends(change.new), &walk)
        }
        return walk
    }

    // MARK: - apk's text

    /// The block apk-tools prints, starting with `ERROR: unable to select packages:`.
    func apkReport(_ result: Walk) -> String {
        var text = "ERROR: unable to select packages:\n" + result.printer.out
        if result.labels == 0 { text += "  Huh? Error reporter did not find the broken constraints.\n" }
        return text
    }

    // MARK: - Problems with chains

    /// Shortest paths from the world through the selected packages: for each package, the
    /// package (or world entry) that first reached it and the dependency it came through.
    func reachability() -> [Int32: Requirement] {
        var parent: [Int32: Requirement] = [:]
        var queue: [Int32] = []
        var head = 0
        func visit(_ requirement: Requirement) {
            if requirement.dep.isConflict { return }
            let chosen = session.nameState(requirement.dep.name).pointee.chosenPackage
            guard chosen >= 0, isMarked(chosen), parent[chosen] == nil else { return }
            parent[chosen] = requirement
            queue.append(chosen)
        }
        for dep in outcome.world { visit(Requirement(owner: nil, dep: dep)) }
        while head < queue.count {
            let pkg = queue[head]
            head += 1
            for dep in session.depends(pkg) { visit(Requirement(owner: pkg, dep: dep)) }
        }
        return parent
    }

    func chainText(_ dep: Dep) -> String {
        var text = dep.isConflict ? "!" : ""
        text += session.nameText(dep.name)
        if let version = session.versionText(dep.version) { text += " (\(dep.op.spelling) \(version))" }
        return text
    }

    /// The dependency texts from the world to `requirement` (inclusive).
    func chain(to requirement: Requirement, _ parent: [Int32: Requirement]) -> [String] {
        var texts = [chainText(requirement.dep)]
        var owner = requirement.owner
        var guardCount = 0
        while let current = owner, let reached = parent[current], guardCount < 10_000 {
            texts.append(chainText(reached.dep))
            owner = reached.owner
            guardCount += 1
        }
        return texts.reversed()
    }

    /// The shortest of several requirements' chains (ties: the first).
    func shortestChain(_ requirements: [Requirement], _ parent: [Int32: Requirement]) -> (Requirement, [String])? {
        var best: (Requirement, [String])?
        for requirement in requirements {
            let candidate = chain(to: requirement, parent)
            if best == nil || candidate.count < best!.1.count { best = (requirement, candidate) }
        }
        return best
    }

    func versionsOffered(for name: Int32) -> [String] {
        var seen = Set<String>()
        var offered: [(APKVersion, String)] = []
        for provider in session.providers(name) where provider.version >= 0 {
            let text = index.versions[Int(provider.version)].text
            if seen.insert(text).inserted { offered.append((index.versions[Int(provider.version)], text)) }
        }
        return offered.sorted { APKVersion.compare($0.0, $1.0) == .greater }.map(\.1)
    }

    func problems(_ result: Walk) -> [Problem] {
        let parent = reachability()
        var problems: [Problem] = []
        for finding in result.findings {
            switch finding {
            case let .missing(name, requiredBy):
                let text = session.nameText(name)
                let chain = shortestChain(requiredBy, parent)?.1 ?? [text]
                let providerPackages = session.providers(name).map { index.nameVersion($0.package) }
                if providerPackages.isEmpty {
                    let suggestions = NameSuggestions.suggest(for: text, among: index.providedNames)
                    var reason = "no such package"
                    if !suggestions.isEmpty { reason += "; did you mean \(Self.list(suggestions, conjunction: "or"))?" }
                    problems.append(Problem(kind: .noSuchPackage, chain: chain, reason: reason, names: [text],
                                            suggestions: suggestions))
                } else {
                    let unique = uniqued(providerPackages)
                    let reason = "\(text) is only provided, without a version or priority, by \(Self.list(unique, conjunction: "and"))"
                        + "; none is picked automatically — add the one you want to the world"
                    problems.append(Problem(kind: .noAutomaticChoice, chain: chain, reason: reason,
                                            names: [text] + session.providers(name).map { session.nameText(session.packageName($0.package)) }))
                }
            case let .package(pkg, maskedIn, unavailable, conflicting, breaks, satisfies):
                let item = session.package(pkg)
                let packageText = index.nameVersion(pkg)
                let why = requirements(of: pkg, matching: .satisfies)
                let reachedBy = shortestChain(why.isEmpty ? satisfies : why, parent)
                let baseChain = reachedBy?.1 ?? [session.nameText(item.name)]
                let involved = [session.nameText(item.name)]
                if item.isUninstallable {
                    problems.append(Problem(kind: .unusable, chain: baseChain,
                                            reason: "\(packageText) has an index field this resolver does not know (a newer index format), so it cannot be installed",
                                            names: involved))
                }
                if let unavailable {
                    problems.append(Problem(kind: .unavailable, chain: baseChain,
                                            reason: "\(packageText) is in no usable repository (\(unavailable))", names: involved))
                }
                if !maskedIn.isEmpty {
                    let tag = maskedIn[0]
                    problems.append(Problem(kind: .pinned, chain: baseChain,
                                            reason: "\(packageText) is only in repositories tagged \(Self.list(maskedIn, conjunction: "or")); ask for \(session.nameText(item.name))\(tag) to allow it",
                                            names: involved))
                }
                for (other, dep) in conflicting {
                    let otherText = index.nameVersion(other)
                    let shared = dep.map { session.nameText($0.name) } ?? session.nameText(item.name)
                    let reason: String
                    if other == pkg {
                        reason = "\(packageText) provides \(shared) twice; a name can have only one provider with a version"
                    } else if session.packageName(other) == item.name && dep == nil {
                        reason = "\(packageText) and \(otherText) are both needed, but only one version of \(shared) can be installed"
                    } else {
                        reason = "\(packageText) and \(otherText) both provide \(shared); only one can be installed"
                    }
                    problems.append(Problem(kind: .sameNameProvided, chain: baseChain, reason: reason,
                                            names: involved + [session.nameText(session.packageName(other)), shared]))
                }
                for requirement in breaks {
                    let chain = self.chain(to: requirement, parent)
                    let dep = requirement.dep
                    let depName = session.nameText(dep.name)
                    let reason: String
                    if dep.isConflict {
                        reason = "but \(packageText) is selected, \(Self.neededBy(reachedBy?.1))"
                    } else if !session.providers(dep.name).contains(where: { session.isProvided(dep, by: $0) }) {
                        let offered = versionsOffered(for: dep.name)
                        reason = offered.isEmpty
                            ? "no package provides \(depName) with a version"
                            : "repository has only \(Self.list(Array(offered.prefix(6)), conjunction: "and"))"
                    } else {
                        reason = "\(packageText) was selected instead, \(Self.neededBy(reachedBy?.1))"
                    }
                    problems.append(Problem(kind: .constraintNotMet, chain: chain, reason: reason,
                                            names: involved + [depName]))
                }
            }
        }
        var seen = Set<String>()
        problems = problems.filter { seen.insert(Self.identity(of: $0)).inserted }
        if problems.isEmpty {
            problems.append(Problem(kind: .constraintNotMet, chain: [],
                                    reason: "the solver met a conflict it cannot attribute to one package",
                                    names: []))
        }
        return problems
    }

    /// "required by the world entry x" or "required by a → b → x".
    static func neededBy(_ chain: [String]?) -> String {
        guard let chain, !chain.isEmpty else { return "as the world requires" }
        if chain.count == 1 { return "as the world entry \(chain[0]) requires" }
        return "as \(chain.joined(separator: " → ")) requires"
    }

    /// Problems that say the same thing about the same packages count once (two packages in
    /// conflict are reported from both sides by apk).
    static func identity(of problem: Problem) -> String {
        if problem.kind == .sameNameProvided {
            return "\(problem.kind):" + problem.names.sorted().joined(separator: ",")
        }
        return problem.description
    }

    static func list(_ items: [String], conjunction: String) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        case 2: return "\(items[0]) \(conjunction) \(items[1])"
        default: return items.dropLast().joined(separator: ", ") + ", \(conjunction) \(items.last!)"
        }
    }
}

/// Strings in first-seen order without repeats.
private func uniqued(_ items: [String]) -> [String] {
    var seen = Set<String>()
    return items.filter { seen.insert($0).inserted }
}

/// apk's indented printer: groups start with a label, words wrap at column 50 (apk's width when
/// not writing to a terminal) under the first word.
struct IndentPrinter {
    static let width = 50
    var out = ""
    var x = 0
    var indent = 0

    mutating func line(_ text: String) {
        out += text + "\n"
        x = 0
        indent = 0
    }

    mutating func group(_ text: String) {
        out += text
        x = text.utf8.count
        indent = x + 1
    }

    mutating func word(_ word: String) {
        let length = word.utf8.count
        if x <= indent {
            out += String(repeating: " ", count: indent - x) + word
            x = indent + length
        } else if x + length + 1 >= Self.width {
            out += "\n" + String(repeating: " ", count: indent) + word
            x = indent + length
        } else {
            out += " " + word
            x += length + 1
        }
    }

    mutating func words(_ text: String) {
        for part in text.split(separator: " ") { word(String(part)) }
    }

    mutating func end() {
        if x != 0 {
            out += "\n"
            x = 0
            indent = 0
        }
    }
}
