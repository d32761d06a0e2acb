/// apk's `discover_name`, as an explicit-stack walk over raw tables.
///
/// From a world name it visits, depth-first and in this order: the dependencies of each provider
/// seen for the first time, the names whose install_if mentions the name, for each provider the
/// names whose install_if mentions the provider's own name and the names it provides; then it
/// numbers the name (so names closer to the world get higher numbers) and finally visits the
/// providers' install_if conditions. Through install_if this reaches most of a real index
/// (every `-doc` package hangs off `docs`), so the walk is written to be cheap: plain locals, no
/// reference counting, no recursion.
struct DiscoveryWalk {
    let names: UnsafeMutablePointer<NameState>
    let pkgs: UnsafeMutablePointer<PackageState>
    let frames: UnsafeMutablePointer<DiscoveryFrame>
    let touchedNameList: UnsafeMutablePointer<Int32>
    let touchedPackageList: UnsafeMutablePointer<Int32>
    let nameLimit: Int
    let providerStarts: UnsafeMutablePointer<Int32>
    let providerItems: UnsafeMutablePointer<Provider>
    let rinstallIfStarts: UnsafeMutablePointer<Int32>
    let rinstallIfItems: UnsafeMutablePointer<Int32>
    let cores: UnsafeMutablePointer<PackageCore>
    let dependsStarts: UnsafeMutablePointer<Int32>
    let dependsItems: UnsafeMutablePointer<Dep>
    let providesStarts: UnsafeMutablePointer<Int32>
    let providesItems: UnsafeMutablePointer<Dep>
    let installIfStarts: UnsafeMutablePointer<Int32>
    let installIfItems: UnsafeMutablePointer<Dep>
    /// apk prunes install_if packages that cannot be fetched when solving with `.available`.
    let pruneUnavailableInstallIf: Bool
    var counter: UInt32
    var touchedNameCount: Int
    var touchedPackageCount: Int
    var depth = 0

    init(session: ResolverSession) {
        names = session.names
        pkgs = session.pkgs
        frames = session.discoveryFrames
        touchedNameList = session.touchedNameList
        touchedPackageList = session.touchedPackageList
        nameLimit = session.nameLimit
        providerStarts = session.providerStarts
        providerItems = session.providerItems
        rinstallIfStarts = session.rinstallIfStarts
        rinstallIfItems = session.rinstallIfItems
        cores = session.cores
        dependsStarts = session.dependsStarts
        dependsItems = session.dependsItems
        providesStarts = session.providesStarts
        providesItems = session.providesItems
        installIfStarts = session.installIfStarts
        installIfItems = session.installIfItems
        pruneUnavailableInstallIf = session.flagsInherit.contains(.available)
        counter = session.orderCounter
        touchedNameCount = session.touchedNameCount
        touchedPackageCount = session.touchedPackageCount
    }

    /// Walks everything reachable from `root`. One function with one loop: unoptimised builds
    /// zero a function's whole stack frame on every call, so a call per visited name would cost
    /// more than the visit.
    mutating func run(_ root: Int32) {
        var next = root
        while true {
            // Enter `next` if it is new: mark it seen and push its frame.
            if next >= 0 {
                let state = names + Int(next)
                if !state.pointee.seen {
                    if !state.pointee.touched {
                        state.pointee.touched = true
                        touchedNameList[touchedNameCount] = next
                        touchedNameCount += 1
                    }
                    state.pointee.seen = true
                    state.pointee.noIif = true
                    let fresh = frames + depth
                    fresh.pointee.name = next
                    fresh.pointee.phase = .providerDependencies
                    fresh.pointee.provider = -1
                    fresh.pointee.walkingProvides = false
                    fresh.pointee.cursor = 0
                    fresh.pointee.end = 0
                    depth += 1
                }
                next = -1
            }
            if depth == 0 { return }
            let frame = frames + (depth - 1)
            let name = frame.pointee.name
            var providerStart = 0, providerEnd = 0
            if Int(name) < nameLimit {
                providerStart = Int(providerStarts[Int(name)])
                providerEnd = Int(providerStarts[Int(name) + 1])
            }
            switch frame.pointee.phase {
            case .providerDependencies:
                if frame.pointee.cursor < frame.pointee.end {
                    next = dependsItems[frame.pointee.cursor].name
                    frame.pointee.cursor += 1
                    continue
                }
                frame.pointee.provider += 1
                let position = providerStart + frame.pointee.provider
                if position >= providerEnd {
                    frame.pointee.phase = .reverseInstallIf
                    if Int(name) < nameLimit {
                        frame.pointee.cursor = Int(rinstallIfStarts[Int(name)])
                        frame.pointee.end = Int(rinstallIfStarts[Int(name) + 1])
                    } else {
                        frame.pointee.cursor = 0
                        frame.pointee.end = 0
                    }
                    continue
                }
                let pkg = providerItems[position].package
                if !pkgs[Int(pkg)].seen {
                    initialize(pkg)
                    frame.pointee.cursor = Int(dependsStarts[Int(pkg)])
                    frame.pointee.end = Int(dependsStarts[Int(pkg) + 1])
                } else {
                    frame.pointee.cursor = 0
                    frame.pointee.end = 0
                }
                if !pkgs[Int(pkg)].iifFailed { names[Int(name)].noIif = false }
            case .reverseInstallIf:
                if frame.pointee.cursor < frame.pointee.end {
                    next = rinstallIfItems[frame.pointee.cursor]
                    frame.pointee.cursor += 1
                    continue
                }
                frame.pointee.phase = .providerNames
                frame.pointee.provider = -1
                frame.pointee.walkingProvides = true
                frame.pointee.cursor = 0
                frame.pointee.end = 0
            case .providerNames:
                if frame.pointee.cursor < frame.pointee.end {
                    next = frame.pointee.walkingProvides
                        ? providesItems[frame.pointee.cursor].name : rinstallIfItems[frame.pointee.cursor]
                    frame.pointee.cursor += 1
                    continue
                }
                if !frame.pointee.walkingProvides {
                    // From the reverse install_if of the provider's own name on to its provides.
                    frame.pointee.walkingProvides = true
                    let pkg = providerItems[providerStart + frame.pointee.provider].package
                    frame.pointee.cursor = Int(providesStarts[Int(pkg)])
                    frame.pointee.end = Int(providesStarts[Int(pkg) + 1])
                    continue
                }
                frame.pointee.provider += 1
                let position = providerStart + frame.pointee.provider
                if position >= providerEnd {
                    counter += 1
                    names[Int(name)].orderID = counter
                    frame.pointee.phase = .installIfConditions
                    frame.pointee.provider = -1
                    frame.pointee.cursor = 0
                    frame.pointee.end = 0
                    continue
                }
                frame.pointee.walkingProvides = false
                let owner = cores[Int(providerItems[position].package)].name
                frame.pointee.cursor = Int(rinstallIfStarts[Int(owner)])
                frame.pointee.end = Int(rinstallIfStarts[Int(owner) + 1])
            case .installIfConditions:
                if frame.pointee.cursor < frame.pointee.end {
                    next = installIfItems[frame.pointee.cursor].name
                    frame.pointee.cursor += 1
                    continue
                }
                frame.pointee.provider += 1
                let position = providerStart + frame.pointee.provider
                if position >= providerEnd {
                    depth -= 1
                    continue
                }
                let pkg = providerItems[position].package
                frame.pointee.cursor = Int(installIfStarts[Int(pkg)])
                frame.pointee.end = Int(installIfStarts[Int(pkg) + 1])
            }
        }
    }

    /// Sets a package's solver state as apk does when it first meets it. Flags set on the
    /// package before the solve (per-name flags) are kept.
    mutating func initialize(_ pkg: Int32) {
        let state = pkgs + Int(pkg)
        let core = cores + Int(pkg)
        if !state.pointee.touched {
            state.pointee.touched = true
            touchedPackageList[touchedPackageCount] = pkg
            touchedPackageCount += 1
        }
        state.pointee.seen = true
        state.pointee.pinningAllowed = ResolverSession.defaultPinning
        state.pointee.pinningPreferred = ResolverSession.defaultPinning
        state.pointee.available = core.pointee.isAvailable
        state.pointee.selectable = core.pointee.isSelectable
        state.pointee.iifFailed = !core.pointee.hasInstallIf || (pruneUnavailableInstallIf && !core.pointee.isAvailable)
        state.pointee.tagPreferred = core.pointee.isDefaultPreferred
        state.pointee.tagOK = core.pointee.isDefaultPreferred || core.pointee.isLocal || core.pointee.isInstalled
    }
}

/// One name being discovered: which group of neighbours it is walking and where in it.
struct DiscoveryFrame {
    enum Phase { case providerDependencies, reverseInstallIf, providerNames, installIfConditions }

    var name: Int32
    var phase = Phase.providerDependencies
    /// Position among the name's providers; -1 before the first.
    var provider = -1
    /// In `providerNames`: walking the provider's provides (after its name's reverse install_if).
    var walkingProvides = false
    var cursor = 0
    var end = 0

    init(name: Int32) { self.name = name }
}
