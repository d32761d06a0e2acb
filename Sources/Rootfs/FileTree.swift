import Archive

/// Where a regular file's bytes are: runs of a package's expanded data tar and small generated
/// byte arrays, in order. Memory grows with the number of pieces, never with the file size.
struct FileContent: Sendable, Hashable {
    /// One run of bytes.
    enum Piece: Sendable, Hashable {
        /// `length` bytes at `offset` of the expanded data tar of package `source`.
        case stored(source: Int, offset: Int64, length: Int64)
        /// Bytes held in memory (generated files, appended certificates).
        case bytes([UInt8])

        var length: Int64 {
            switch self {
            case .stored(_, _, let length): length
            case .bytes(let bytes): Int64(bytes.count)
            }
        }
    }

    var pieces: [Piece]

    /// No bytes.
    static let empty = FileContent(pieces: [])

    /// Bytes in memory.
    static func bytes(_ bytes: [UInt8]) -> FileContent {
        FileContent(pieces: bytes.isEmpty ? [] : [.bytes(bytes)])
    }

    var size: Int64 { pieces.reduce(0) { $0 + $1.length } }

    /// This content followed by `bytes`.
    func appending(_ bytes: [UInt8]) -> FileContent {
        guard !bytes.isEmpty else { return self }
        return FileContent(pieces: pieces + [.bytes(bytes)])
    }
}

/// Where a package-installed node is listed in its package's installed-db record, so the entry
/// can be dropped when another package takes the path over.
struct RecordReference: Sendable, Hashable {
    /// Index of the package in install order.
    var package: Int
    /// Index of the `F:` directory in the package's record.
    var directory: Int
    /// Index of the `R:` file in that directory; nil for the directory itself.
    var file: Int?
}

/// One entry of the rootfs: metadata as the package (or the rootfs itself) has it, and content by
/// reference. Hard links are regular files that share an `inode`.
struct Node: Sendable {
    enum Kind: Sendable, Hashable {
        case directory, regular, symlink, characterDevice, blockDevice, fifo
    }

    var kind: Kind
    /// Permission bits including setuid, setgid and sticky.
    var mode: UInt32
    var uid: Int
    var gid: Int
    var modificationTime: Int64
    var extendedAttributes: [String: [UInt8]] = [:]
    /// A symlink's target, verbatim.
    var linkTarget: String = ""
    var deviceMajor: UInt32 = 0
    var deviceMinor: UInt32 = 0
    var content: FileContent = .empty
    /// Identity of a regular file's data; hard links share it. 0 for everything else.
    var inode: Int = 0
    /// SHA-1 of the content (files) or of the target (symlinks) from the package's PAX record.
    var checksum: [UInt8]? = nil
    /// The package (install-order index) whose file this is; nil for what the rootfs generated
    /// and for package files the configuration changed afterwards (they go to the top layer).
    var owner: Int? = nil
    /// Where the owner's installed-db record lists this node.
    var record: RecordReference? = nil

    static func directory(mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0, modificationTime: Int64 = 0) -> Node {
        Node(kind: .directory, mode: mode, uid: uid, gid: gid, modificationTime: modificationTime)
    }

    static func file(_ content: FileContent, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                     modificationTime: Int64 = 0, inode: Int) -> Node {
        Node(kind: .regular, mode: mode, uid: uid, gid: gid, modificationTime: modificationTime, content: content, inode: inode)
    }

    static func symlink(_ target: String, uid: Int = 0, gid: Int = 0, modificationTime: Int64 = 0) -> Node {
        Node(kind: .symlink, mode: 0o777, uid: uid, gid: gid, modificationTime: modificationTime, linkTarget: target)
    }
}

/// Why a path could not be resolved; the caller turns it into a `RootfsError` that names the
/// package or configuration entry.
struct PathProblem: Error, Sendable {
    var kind: RootfsError.Kind
    var reason: String
}

/// The rootfs as an in-memory tree keyed by normalized path (`usr/bin/env`, never a leading `/`,
/// `./` or trailing `/`; the root itself is implicit and has no entry).
struct FileTree: Sendable {
    private(set) var nodes: [String: Node] = [:]
    /// Names inside each directory (`""` is the root), in insertion order.
    private(set) var children: [String: [String]] = ["": []]
    private var lastInode = 0

    /// How many symlinks one resolution follows before it gives up (Linux's limit).
    static let maximumSymlinkHops = 40

    subscript(path: String) -> Node? {
        get { nodes[path] }
    }

    /// A fresh inode number for a new regular file.
    mutating func newInode() -> Int {
        lastInode += 1
        return lastInode
    }

    /// Sets `node` at `path` (already resolved); the parent must be a directory in the tree.
    mutating func set(_ node: Node, at path: String) {
        if nodes[path] == nil {
            children[Paths.parent(path), default: []].append(Paths.baseName(path))
        }
        if node.kind == .directory, children[path] == nil {
            children[path] = []
        }
        nodes[path] = node
    }

    /// Changes the node at `path` in place.
    mutating func update(_ path: String, _ body: (inout Node) -> Void) {
        guard var node = nodes[path] else { return }
        body(&node)
        nodes[path] = node
    }

    /// The names in directory `path`, in byte order.
    func sortedChildren(of path: String) -> [String] {
        (children[path] ?? []).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Every path of the tree in walk order: each directory's names in byte order, every
    /// directory before what it holds (the order Go's `fs.WalkDir` gives apko).
    func walk(_ visit: (String, Node) throws -> Void) rethrows {
        var stack: [String] = sortedChildren(of: "").reversed()
        while let path = stack.popLast() {
            guard let node = nodes[path] else { continue }
            try visit(path, node)
            if node.kind == .directory {
                for name in sortedChildren(of: path).reversed() {
                    stack.append(Paths.join(path, name))
                }
            }
        }
    }

    /// Resolves `path` from the root, following symlinks in every component but the last, and
    /// the last too when `followLast` is set. A symlink is only followed when its target is
    /// relative and stays inside the root: an absolute target or one that climbs above the root
    /// is refused, never followed out. Returns the resolved path and whether it exists;
    /// components after the first missing one are appended unresolved.
    func resolve(_ path: String, followLast: Bool) throws(PathProblem) -> (path: String, exists: Bool) {
        var pending: [Substring] = Paths.components(path).reversed()
        var resolved: [Substring] = []
        var hops = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                guard !resolved.isEmpty else {
                    throw PathProblem(kind: .unsafePath, reason: "climbs above the root")
                }
                resolved.removeLast()
                continue
            }
            let candidate = (resolved + [component]).joined(separator: "/")
            guard let node = nodes[candidate] else {
                return ((resolved + [component] + pending.reversed()).joined(separator: "/"), false)
            }
            let isLast = pending.isEmpty
            if node.kind == .symlink && (!isLast || followLast) {
                hops += 1
                guard hops <= Self.maximumSymlinkHops else {
                    throw PathProblem(kind: .unsafePath, reason: "goes through more than \(Self.maximumSymlinkHops) symlinks")
                }
                guard !node.linkTarget.hasPrefix("/") else {
                    throw PathProblem(kind: .unsafePath,
                                      reason: "goes through the symlink \(quoted(candidate)) -> \(quoted(node.linkTarget)), whose absolute target is not followed")
                }
                guard !node.linkTarget.isEmpty else {
                    throw PathProblem(kind: .unsafePath, reason: "goes through the empty symlink \(quoted(candidate))")
                }
                // The target is relative to the symlink's directory, which `resolved` already is.
                pending.append(contentsOf: Paths.components(node.linkTarget).reversed())
                continue
            }
            if node.kind != .directory && !isLast {
                throw PathProblem(kind: .typeConflict, reason: "\(quoted(candidate)) is not a directory")
            }
            resolved.append(component)
        }
        return (resolved.joined(separator: "/"), true)
    }

    /// Resolves `path` and requires an existing directory there (the root counts).
    func resolveDirectory(_ path: String) throws(PathProblem) -> String? {
        if Paths.components(path).isEmpty { return "" }
        let (resolved, exists) = try resolve(path, followLast: true)
        guard exists else { return nil }
        guard nodes[resolved]?.kind == .directory || resolved.isEmpty else {
            throw PathProblem(kind: .typeConflict, reason: "\(quoted(resolved)) is not a directory")
        }
        return resolved
    }

    /// `mkdir -p`: resolves `path` through in-root symlinks and creates every missing directory
    /// with `template`'s metadata. Returns the resolved directory path.
    @discardableResult
    mutating func makeDirectories(_ path: String, template: Node = .directory(),
                                  lastTemplate: Node? = nil) throws(PathProblem) -> String {
        var current = ""
        let components = Paths.components(path)
        for (index, component) in components.enumerated() {
            let candidate = Paths.join(current, String(component))
            let (resolved, exists) = try resolve(candidate, followLast: true)
            if exists {
                guard nodes[resolved]?.kind == .directory else {
                    throw PathProblem(kind: .typeConflict, reason: "\(quoted(resolved)) exists and is not a directory")
                }
                current = resolved
                continue
            }
            // A missing component may be a dangling symlink whose target is several levels deep:
            // create the target's missing parents first, then the target.
            let parent = Paths.parent(resolved)
            if !parent.isEmpty && nodes[parent] == nil {
                try makeDirectories(parent, template: template)
            }
            let isLast = index == components.count - 1
            var node = (isLast ? lastTemplate : nil) ?? template
            node.owner = nil
            node.record = nil
            set(node, at: resolved)
            current = resolved
        }
        return current
    }

    /// Every path at or below `path` (itself first), walk order, without following symlinks.
    func subtree(_ path: String) -> [String] {
        var result: [String] = []
        var stack = [path]
        while let next = stack.popLast() {
            result.append(next)
            if nodes[next]?.kind == .directory {
                for name in sortedChildren(of: next).reversed() { stack.append(Paths.join(next, name)) }
            }
        }
        return result
    }
}

/// Path strings inside the rootfs.
enum Paths {
    /// The `/`-separated components, empty ones dropped.
    static func components(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : directory + "/" + name
    }

    /// Everything before the last `/`, or `""`.
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// The last component.
    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// A path from the configuration (`/etc/foo/`, `etc//foo`) in the tree's form (`etc/foo`).
    /// Refuses `.`/`..` components, control characters and the root itself.
    static func normalize(_ path: String) throws(PathProblem) -> String {
        let parts = components(path)
        guard !parts.isEmpty else {
            throw PathProblem(kind: .unsafePath, reason: "names the root directory")
        }
        let joined = parts.joined(separator: "/")
        if let reason = TarName.unsafeReason(joined) {
            throw PathProblem(kind: .unsafePath, reason: reason)
        }
        return joined
    }
}
