import APK
import Archive

/// Installs packages into the tree with apk-tools 2.14's file rules (reference/apk-format.md §8,
/// reference/apko.md §3.8), recording each package's installed-db entry as it goes.
///
/// - A file's directory must be an earlier entry of the same package ("no dirent in archive");
///   top-level files are fine. A hard link's target must be an earlier file of the same package.
/// - Parent paths resolve through symlinks inside the root (usr-merge: `lib -> usr/lib` puts
///   `lib/x` at `usr/lib/x`); an absolute symlink or one that climbs out of the root is never
///   followed. The last component is never followed: a file replaces a symlink, it does not write
///   through it.
/// - A directory entry merges with an existing directory; the last package's header wins for
///   mode, owner, mtime and xattrs (what apko does; apk keeps the mode of the package that
///   replaces the others). One that lands on a symlink to a directory inside the root is
///   accepted as it is (usr-merge) and changes nothing.
/// - A path another package installed: identical content (same SHA-1 or symlink target) keeps
///   the first package's file (apko; apk-tools itself would refuse); otherwise apk's order: same
///   package name or same origin → overwrite; the old owner replaces the new package with a
///   higher `replaces_priority` → skip the new file; the new package replaces the owner →
///   overwrite; else an error naming both packages and the path. An overwritten file leaves the
///   old owner's record, as apk moves it to the new owner.
/// - Device nodes, fifos and setuid files are tree data; nothing is created on the host.
struct Installer {
    /// The package being installed.
    let index: Int
    let package: RootfsPackage
    /// `name-version` of the packages installed so far, this one last, for messages.
    let names: [String]
    /// The infos of the packages installed so far, this one last: a path's owner is always an
    /// earlier package (its origin and replaces decide conflicts), never a later one.
    let infos: [PackageInfo]

    private var nameVersion: String { names[index] }

    func install(into tree: inout FileTree, records: inout [InstalledRecord]) throws(RootfsError) {
        var record = InstalledRecord(info: package.info, repositoryTag: package.repositoryTag, scripts: package.scripts)
        // Archive path → tree path of this package's regular files, for its hard links.
        var installedFiles: [String: String] = [:]
        // Archive directory → tree directory, so each file does not resolve its path afresh.
        var directories: [String: String] = [:]
        // apk installs nothing of a package whose installed size is 0 (a virtual package) and
        // runs none of its scripts, but still records it.
        guard package.info.installedSize != 0 else {
            record.scripts = []
            records.append(record)
            return
        }
        records.append(record)
        for shipped in package.dataEntries {
            if let reason = TarName.unsafeReason(shipped.path) {
                throw RootfsError(.unsafePath, "\(nameVersion): refusing \(quoted(shipped.path)): \(reason)",
                                  path: shipped.path, packages: [nameVersion])
            }
            // `a//b` is a harmless spelling of `a/b`; the tree and the record use the plain one.
            var entry = shipped
            entry.path = Paths.components(entry.path).joined(separator: "/")
            if entry.kind == .hardLink { entry.linkTarget = Paths.components(entry.linkTarget).joined(separator: "/") }
            if entry.kind == .directory {
                directories[entry.path] = try installDirectory(entry, tree: &tree, record: &record)
            } else {
                try installFile(entry, tree: &tree, record: &record, records: &records, installedFiles: &installedFiles,
                                directories: &directories)
            }
        }
        records[index] = record
    }

    // MARK: Directories

    /// Installs a directory entry; returns where the directory is in the tree.
    private func installDirectory(_ entry: APKFile.DataEntry, tree: inout FileTree,
                                  record: inout InstalledRecord) throws(RootfsError) -> String {
        let directoryIndex = record.directory(entry.path)
        record.directories[directoryIndex].acl = InstalledACL(entry)
        let reference = RecordReference(package: index, directory: directoryIndex, file: nil)
        // apk creates a directory's missing parents in its db; apko does `mkdir -p`.
        let parent = try named(entry.path) { () throws(PathProblem) -> String in
            try tree.makeDirectories(Paths.parent(entry.path), template: .directory(modificationTime: entry.modificationTime))
        }
        let path = Paths.join(parent, Paths.baseName(entry.path))
        if let existing = tree[path] {
            switch existing.kind {
            case .directory:
                tree.update(path) { node in
                    node.mode = entry.mode
                    node.uid = entry.uid
                    node.gid = entry.gid
                    node.modificationTime = entry.modificationTime
                    node.extendedAttributes = entry.extendedAttributes
                    node.owner = index
                    node.record = reference
                }
            case .symlink:
                let target: (path: String, exists: Bool)
                do {
                    target = try tree.resolve(path, followLast: true)
                } catch {
                    throw RootfsError(error.kind, "\(nameVersion): directory \(quoted(entry.path)) \(error.reason)",
                                      path: entry.path, packages: [nameVersion])
                }
                guard target.exists, tree[target.path]?.kind == .directory || target.path.isEmpty else {
                    throw RootfsError(.typeConflict,
                                      "\(nameVersion): directory \(quoted(entry.path)) is a symlink to \(quoted(existing.linkTarget)), which is not a directory in the image",
                                      path: entry.path, packages: [nameVersion])
                }
                return target.path
            default:
                throw RootfsError(.typeConflict,
                                  "\(nameVersion): directory \(quoted(entry.path)) would replace a file\(ownerText(existing))",
                                  path: entry.path, packages: [nameVersion] + ownerNames(existing))
            }
        } else {
            var node = Node.directory(mode: entry.mode, uid: entry.uid, gid: entry.gid, modificationTime: entry.modificationTime)
            node.extendedAttributes = entry.extendedAttributes
            node.owner = index
            node.record = reference
            tree.set(node, at: path)
        }
        return path
    }

    // MARK: Files, links, devices

    private func installFile(_ entry: APKFile.DataEntry, tree: inout FileTree, record: inout InstalledRecord,
                             records: inout [InstalledRecord], installedFiles: inout [String: String],
                             directories: inout [String: String]) throws(RootfsError) {
        let archiveDirectory = Paths.parent(entry.path)
        let name = Paths.baseName(entry.path)
        guard let directoryIndex = archiveDirectory.isEmpty ? record.directory("") : record.directoryIndex[archiveDirectory] else {
            throw RootfsError(.missingDirectory, "\(nameVersion): \(quoted(entry.path)): no dirent in archive",
                              path: entry.path, packages: [nameVersion])
        }
        let parent: String
        if let known = directories[archiveDirectory] {
            parent = known
        } else {
            parent = try named(entry.path) { () throws(PathProblem) -> String in
                guard let directory = try tree.resolveDirectory(archiveDirectory) else {
                    throw PathProblem(kind: .missingDirectory, reason: "has no directory \(quoted(archiveDirectory)) in the image")
                }
                return directory
            }
            directories[archiveDirectory] = parent
        }
        let path = Paths.join(parent, name)

        var node: Node
        var checksum = entry.checksum?.installedDatabaseForm
        switch entry.kind {
        case .regular:
            node = .file(FileContent(pieces: entry.size > 0 ? [.stored(source: index, offset: entry.contentOffset, length: entry.size)] : []),
                         mode: entry.mode, uid: entry.uid, gid: entry.gid, modificationTime: entry.modificationTime,
                         inode: tree.newInode())
            node.checksum = entry.checksum?.algorithm == .sha1 ? entry.checksum?.bytes : nil
        case .hardLink:
            guard let targetPath = installedFiles[entry.linkTarget], let target = tree[targetPath], target.kind == .regular else {
                throw RootfsError(.hardLinkTarget,
                                  "\(nameVersion): \(quoted(entry.path)): no hard link target (\(quoted(entry.linkTarget))) in archive",
                                  path: entry.path, packages: [nameVersion])
            }
            node = target
            checksum = targetChecksum(targetPath: entry.linkTarget, record: record) ?? checksum
        case .symbolicLink:
            node = .symlink(entry.linkTarget, uid: entry.uid, gid: entry.gid, modificationTime: entry.modificationTime)
            node.mode = entry.mode
            node.checksum = entry.checksum?.algorithm == .sha1 ? entry.checksum?.bytes : nil
        case .characterDevice, .blockDevice:
            node = Node(kind: entry.kind == .characterDevice ? .characterDevice : .blockDevice, mode: entry.mode,
                        uid: entry.uid, gid: entry.gid, modificationTime: entry.modificationTime,
                        deviceMajor: entry.deviceMajor, deviceMinor: entry.deviceMinor)
        case .fifo:
            node = Node(kind: .fifo, mode: entry.mode, uid: entry.uid, gid: entry.gid, modificationTime: entry.modificationTime)
        case .directory, .other:
            throw RootfsError(.typeConflict, "\(nameVersion): \(quoted(entry.path)) has an entry type apk does not install",
                              path: entry.path, packages: [nameVersion])
        }
        if entry.kind != .hardLink { node.extendedAttributes = entry.extendedAttributes }

        if let existing = tree[path] {
            switch try decide(entry: entry, new: node, existing: existing, path: path) {
            case .keepExisting:
                // The identical file stays with its first owner; a hard link may still point at it.
                if existing.kind == .regular { installedFiles[entry.path] = path }
                return
            case .skip:
                return
            case .overwrite:
                // A symlink that is replaced may have led cached directories elsewhere.
                if existing.kind == .symlink { directories.removeAll() }
                if let old = existing.record, let file = old.file {
                    if old.package == index {
                        record.directories[old.directory].files[file].isRemoved = true
                    } else {
                        records[old.package].directories[old.directory].files[file].isRemoved = true
                    }
                }
            }
        }

        let acl = InstalledACL(entry)
        record.directories[directoryIndex].files.append(.init(name: name, acl: acl, checksum: checksum))
        if checksum == nil { record.hasFileWithoutChecksum = true }
        node.owner = index
        node.record = RecordReference(package: index, directory: directoryIndex,
                                      file: record.directories[directoryIndex].files.count - 1)
        tree.set(node, at: path)
        if node.kind == .regular { installedFiles[entry.path] = path }
    }

    /// The `Z:` of an earlier file of this package (a hard link inherits its target's).
    private func targetChecksum(targetPath: String, record: InstalledRecord) -> String? {
        guard let directory = record.directoryIndex[Paths.parent(targetPath)] else { return nil }
        let name = Paths.baseName(targetPath)
        return record.directories[directory].files.last { $0.name == name && !$0.isRemoved }?.checksum
    }

    private enum Decision {
        case keepExisting, skip, overwrite
    }

    /// apk's answer for a path that is already taken (`apk_db_install_file`), with apko's
    /// identical-content rule first.
    private func decide(entry: APKFile.DataEntry, new: Node, existing: Node, path: String) throws(RootfsError) -> Decision {
        if existing.kind == .directory {
            throw RootfsError(.typeConflict,
                              "\(nameVersion): \(quoted(entry.path)) would replace the directory \(quoted(path))\(ownerText(existing))",
                              path: entry.path, packages: [nameVersion] + ownerNames(existing))
        }
        guard let ownerIndex = existing.owner, ownerIndex != index else {
            // What the rootfs itself created, or this package's own earlier entry: replaced.
            return .overwrite
        }
        if isIdentical(new, existing) { return .keepExisting }
        let owner = infos[ownerIndex]
        let info = package.info
        if owner.name == info.name { return .overwrite }
        if let origin = info.origin, owner.origin == origin { return .overwrite }
        let ownerPriority = owner.replaces.contains { Self.materializes($0, info) } ? (owner.replacesPriority ?? 0) : -1
        let newPriority = info.replaces.contains { Self.materializes($0, owner) } ? (info.replacesPriority ?? 0) : -1
        if ownerPriority > newPriority { return .skip }
        if newPriority >= 0 { return .overwrite }
        throw RootfsError(.fileConflict,
                          "\(nameVersion): trying to overwrite \(entry.path) owned by \(names[ownerIndex])",
                          path: entry.path, packages: [nameVersion, names[ownerIndex]])
    }

    /// Whether `dependency` names `package` at a version it accepts (apk's `apk_dep_is_materialized`).
    static func materializes(_ dependency: Dependency, _ package: PackageInfo) -> Bool {
        !dependency.isConflict && dependency.name == package.name && dependency.versionMatches(package.apkVersion)
    }

    private func isIdentical(_ a: Node, _ b: Node) -> Bool {
        guard a.kind == b.kind else { return false }
        switch a.kind {
        case .regular:
            if a.inode == b.inode { return true }
            guard let left = a.checksum, let right = b.checksum else { return false }
            return left == right && a.content.size == b.content.size
        case .symlink:
            return a.linkTarget == b.linkTarget
        case .characterDevice, .blockDevice:
            return a.deviceMajor == b.deviceMajor && a.deviceMinor == b.deviceMinor
        case .fifo:
            return true
        case .directory:
            return false
        }
    }

    private func ownerNames(_ node: Node) -> [String] {
        node.owner.map { [names[$0]] } ?? []
    }

    private func ownerText(_ node: Node) -> String {
        node.owner.map { " owned by \(names[$0])" } ?? ""
    }

    /// Runs a path operation and names the package and entry in what it throws.
    private func named<T>(_ entryPath: String, _ body: () throws(PathProblem) -> T) throws(RootfsError) -> T {
        do {
            return try body()
        } catch {
            throw RootfsError(error.kind, "\(nameVersion): \(quoted(entryPath)) \(error.reason)", path: entryPath, packages: [nameVersion])
        }
    }
}
