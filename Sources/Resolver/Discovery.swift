/// apk's `discover_name`, as an explicit-stack walk over precomputed neighbour lists.
///
/// From a world name it visits, depth-first and in this order: the dependencies of each provider
/// seen for the first time, the names whose install_if mentions the name, for each provider the
/// names whose install_if mentions the provider's own name and the names it provides; then it
/// numbers the name (so names closer to the world get higher numbers) and finally visits the
/// providers' install_if conditions. Through install_if this reaches most of a real index
/// (every `-doc` package hangs off `docs`), so the walk is written to be cheap: the neighbours of
/// each name are one precomputed list (``PackageIndex/discoveryStreams``), the loop uses plain
/// locals, and there is no recursion.
struct DiscoveryWalk {
    /// In a stream: the next two entries are a package and its dependency count.
    static let packageMarker: Int32 = -1
    /// In a stream: number the name here.
    static let numberMarker: Int32 = -2

    let seenGeneration: UnsafeMutablePointer<UInt32>
    let orderIDs: UnsafeMutablePointer<UInt32>
    let noInstallIf: UnsafeMutablePointer<Bool>
    let pkgs: UnsafeMutablePointer<PackageState>
    let frames: UnsafeMutablePointer<DiscoveryFrame>
    let generation: UInt32
    let nameLimit: Int
    let streamStarts: UnsafeMutablePointer<Int32>
    let streamItems: UnsafeMutablePointer<Int32>
    let cores: UnsafeMutablePointer<PackageCore>
    /// apk prunes install_if packages that cannot be fetched when solving with `.available`.
    let pruneUnavailableInstallIf: Bool
    var counter: UInt32
    var depth = 0

    init(session: ResolverSession) {
        seenGeneration = session.seenGeneration
        orderIDs = session.orderIDs
        noInstallIf = session.noInstallIf
        pkgs = session.pkgs
        frames = session.discoveryFrames
        generation = session.generationCell.pointee
        nameLimit = session.nameLimit
        streamStarts = session.index.discoveryStreams.starts
        streamItems = session.index.discoveryStreams.items
        cores = session.cores
        pruneUnavailableInstallIf = session.flagsInherit.contains(.available)
        counter = session.orderCounter
    }

    /// Walks everything reachable from `root`. One function with one loop: unoptimised builds
    /// zero a function's whole stack frame on every call, so a call per visited name would cost
    /// more than the visit.
    mutating func run(_ root: Int32) {
        if seenGeneration[Int(root)] == generation { return }
        // The current frame lives in locals; frames below it are saved on the stack.
        var name: Int32 = -1
        var cursor = 0
        var end = 0
        var next = root
        while true {
            if next >= 0 {
                // Enter `next`: mark it seen, save the current frame, start the new one.
                seenGeneration[Int(next)] = generation
                noInstallIf[Int(next)] = true
                if name >= 0 {
                    let saved = frames + depth
                    saved.pointee.name = name
                    saved.pointee.cursor = cursor
                    saved.pointee.end = end
                    depth &+= 1
                }
                name = next
                next = -1
                if Int(name) < nameLimit {
                    cursor = Int(streamStarts[Int(name)])
                    end = Int(streamStarts[Int(name) &+ 1])
                } else {
                    // A name only the world knows: nothing to visit.
                    counter &+= 1
                    orderIDs[Int(name)] = counter
                    cursor = 0
                    end = 0
                }
            }
            if cursor >= end {
                // Done with this name: resume the one below.
                if depth == 0 { return }
                depth &-= 1
                let saved = frames + depth
                name = saved.pointee.name
                cursor = saved.pointee.cursor
                end = saved.pointee.end
                continue
            }
            let item = streamItems[cursor]
            cursor &+= 1
            if item >= 0 {
                if seenGeneration[Int(item)] != generation { next = item }
            } else if item == Self.packageMarker {
                let pkg = streamItems[cursor]
                let dependencyCount = Int(streamItems[cursor &+ 1])
                cursor &+= 2
                let state = pkgs + Int(pkg)
                if state.pointee.generation == generation && state.pointee.seen {
                    cursor &+= dependencyCount
                } else {
                    initialize(pkg)
                }
                if !state.pointee.iifFailed { noInstallIf[Int(name)] = false }
            } else {
                counter &+= 1
                orderIDs[Int(name)] = counter
            }
        }
    }

    /// Sets a package's solver state as apk does when it first meets it. Flags set on the
    /// package earlier in this solve (per-name flags) are kept.
    mutating func initialize(_ pkg: Int32) {
        let state = pkgs + Int(pkg)
        let core = cores + Int(pkg)
        if state.pointee.generation != generation {
            state.pointee = PackageState.empty
            state.pointee.generation = generation
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

/// One name being discovered: where in its neighbour list the walk is.
struct DiscoveryFrame {
    var name: Int32
    var cursor: Int
    var end: Int
}
