extension Composition {
    /// The `paths` section, in order (reference/apko.md §1.5). Paths are normalized (a leading
    /// or trailing `/` does not matter, `..` is refused) and resolved through symlinks inside
    /// the root. Differences from apko, on purpose:
    /// - without `permissions`, what a mutation creates gets 0755 (directories) or 0644 (files)
    ///   and existing paths keep their mode; apko writes mode 0000;
    /// - a symlink keeps mode 0777 (apko's chmod follows the link and changes its target);
    /// - `recursive` changes files and directories but never follows or changes symlinks.
    /// Ownership: neither `uid` nor `gid` leaves it alone; one of them sets the other to 0.
    func applyPathMutations() throws(RootfsError) {
        for mutation in request.paths {
            try apply(mutation)
        }
    }

    private func apply(_ mutation: PathMutation) throws(RootfsError) {
        let what = "paths: \(mutation.kind.rawValue)"
        let path = try configured(what, mutation.path) { () throws(PathProblem) -> String in try Paths.normalize(mutation.path) }
        let owner: (uid: Int, gid: Int)? = mutation.uid == nil && mutation.gid == nil
            ? nil : (Int(mutation.uid ?? 0), Int(mutation.gid ?? 0))
        let permissions = mutation.permissions.map { $0 & 0o7777 }
        switch mutation.kind {
        case .directory:
            let template = Node.directory(mode: permissions ?? 0o755, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0)
            let resolved = try configured(what, mutation.path) { () throws(PathProblem) -> String in
                try tree.makeDirectories(path, template: template)
            }
            setAttributes(resolved, permissions: permissions, owner: owner, recursive: mutation.recursive)

        case .emptyFile:
            let target = try configured(what, mutation.path) { () throws(PathProblem) -> String in
                let resolved = try tree.resolve(path, followLast: true)
                if resolved.exists { return resolved.path }
                let parent = try tree.makeDirectories(Paths.parent(resolved.path))
                return Paths.join(parent, Paths.baseName(resolved.path))
            }
            if let existing = tree[target] {
                guard existing.kind == .regular else {
                    throw RootfsError(.typeConflict, "\(what) \(quoted(mutation.path)): /\(target) exists and is not a regular file", path: target)
                }
                modify(target) { $0.content = .empty }
                for other in hardLinks(of: existing.inode) where other != target {
                    modify(other) { $0.content = .empty }
                }
            } else {
                tree.set(.file(.empty, mode: permissions ?? 0o644, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0,
                               inode: tree.newInode()), at: target)
            }
            setAttributes(target, permissions: permissions, owner: owner, recursive: false)

        case .hardlink:
            guard let sourceText = mutation.source, !sourceText.isEmpty else {
                throw RootfsError(.invalidInput, "\(what) \(quoted(mutation.path)): no source to link to", path: path)
            }
            let source = try configured(what, sourceText) { () throws(PathProblem) -> String in
                let resolved = try tree.resolve(try Paths.normalize(sourceText), followLast: true)
                guard resolved.exists else { throw PathProblem(kind: .invalidInput, reason: "does not exist") }
                return resolved.path
            }
            guard let sourceNode = tree[source], sourceNode.kind == .regular else {
                throw RootfsError(.typeConflict, "\(what) \(quoted(mutation.path)): the source /\(source) is not a regular file", path: source)
            }
            let target = try configured(what, mutation.path) { () throws(PathProblem) -> String in
                let parent = try tree.makeDirectories(Paths.parent(path))
                return Paths.join(parent, Paths.baseName(path))
            }
            if tree[target]?.kind == .directory {
                throw RootfsError(.typeConflict, "\(what) \(quoted(mutation.path)): /\(target) is a directory", path: target)
            }
            if target != source {
                var link = sourceNode
                link.owner = nil
                link.record = nil
                tree.set(link, at: target)
            }
            setAttributes(target, permissions: permissions, owner: owner, recursive: false)

        case .symlink:
            guard let source = mutation.source, !source.isEmpty, !source.utf8.contains(0), !source.contains(where: \.isNewline) else {
                throw RootfsError(.invalidInput, "\(what) \(quoted(mutation.path)): no usable link target", path: path)
            }
            let target = try configured(what, mutation.path) { () throws(PathProblem) -> String in
                let parent = try tree.makeDirectories(Paths.parent(path))
                return Paths.join(parent, Paths.baseName(path))
            }
            if tree[target] != nil {
                throw RootfsError(.typeConflict, "\(what) \(quoted(mutation.path)): /\(target) already exists", path: target)
            }
            tree.set(.symlink(source, uid: owner?.uid ?? 0, gid: owner?.gid ?? 0), at: target)

        case .permissions:
            let target = try configured(what, mutation.path) { () throws(PathProblem) -> String in
                let resolved = try tree.resolve(path, followLast: true)
                guard resolved.exists else { throw PathProblem(kind: .invalidInput, reason: "does not exist") }
                return resolved.path
            }
            setAttributes(target, permissions: permissions, owner: owner, recursive: mutation.recursive)
        }
    }

    /// Sets mode and ownership on `path` (and everything below it when `recursive`, symlinks
    /// excepted); a regular file's hard links share the change, as they share the inode.
    private func setAttributes(_ path: String, permissions: UInt32?, owner: (uid: Int, gid: Int)?, recursive: Bool) {
        guard permissions != nil || owner != nil else { return }
        var linked: [Int: [String]]?
        for target in recursive ? tree.subtree(path) : [path] {
            guard let node = tree[target] else { continue }
            if node.kind == .symlink && target != path { continue }
            var paths = [target]
            if node.kind == .regular {
                if linked == nil { linked = inodeIndex() }
                paths = linked?[node.inode] ?? [target]
            }
            for each in paths {
                modify(each) { node in
                    if let permissions, node.kind != .symlink { node.mode = permissions }
                    if let owner {
                        node.uid = owner.uid
                        node.gid = owner.gid
                    }
                }
            }
        }
    }

    /// Paths of every regular file sharing `inode`.
    private func hardLinks(of inode: Int) -> [String] {
        inodeIndex()[inode] ?? []
    }

    /// Regular files by inode.
    private func inodeIndex() -> [Int: [String]] {
        var index: [Int: [String]] = [:]
        for (path, node) in tree.nodes where node.kind == .regular {
            index[node.inode, default: []].append(path)
        }
        return index
    }
}
