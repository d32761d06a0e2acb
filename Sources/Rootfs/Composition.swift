import APK

/// The state of one composition: the tree, the installed-db records, and a reader for package
/// bytes. Each step of the pipeline is an extension in its own file.
final class Composition {
    /// What to compose; `buildEpoch` and `certificates` may change until the packages are in.
    var request: RootfsRequest
    var tree = FileTree()
    var records: [InstalledRecord] = []
    /// `name-version` of each installed package, by install-order index.
    private(set) var names: [String] = []
    /// The `.PKGINFO` of each installed package, by install-order index (owners' origin and
    /// replaces, for the installer's conflict rules).
    private(set) var infos: [PackageInfo] = []
    /// The expanded data tar of each installed package, by install-order index.
    private(set) var sources: [String] = []
    /// Reads the installed packages' file bytes; opened by ``openContents()`` once every package
    /// is in, for the steps after them.
    private(set) var reader = ContentReader(sources: [], sourceNames: [])

    init(request: RootfsRequest) {
        self.request = request
    }

    /// Installs `package` after the ones installed so far (see ``Installer``).
    func install(_ package: RootfsPackage) throws(RootfsError) {
        let index = names.count
        names.append(package.info.nameVersion)
        infos.append(package.info)
        sources.append(package.expandedDataPath)
        // The installer shares these arrays' storage; they are not copied per package.
        let installer = Installer(index: index, package: package, names: names, infos: infos)
        try installer.install(into: &tree, records: &records)
        guard tree.nodes.count <= Rootfs.maximumEntryCount else {
            throw RootfsError(.tooLarge, "\(package.info.nameVersion): the rootfs holds more than \(Rootfs.maximumEntryCount) entries",
                              packages: [package.info.nameVersion])
        }
    }

    /// Makes the installed packages' bytes readable for the steps after installation.
    func openContents() {
        reader = ContentReader(sources: sources, sourceNames: names)
    }

    /// Runs a path operation for a configuration step and turns what it throws into an error
    /// that names the step and the path.
    func configured<T>(_ what: String, _ path: String, _ body: () throws(PathProblem) -> T) throws(RootfsError) -> T {
        do {
            return try body()
        } catch {
            throw RootfsError(error.kind, "\(what) \(quoted(path)): \(error.reason)", path: path)
        }
    }

    /// The node at `path` following symlinks (inside the root only), with its resolved path.
    func lookup(_ path: String) -> (path: String, node: Node)? {
        guard let resolved = try? tree.resolve(path, followLast: true), resolved.exists,
              let node = tree[resolved.path] else { return nil }
        return (resolved.path, node)
    }

    /// The bytes of the regular file at `path` (symlinks followed), or nil when there is none.
    func readFile(_ path: String, limit: Int = 16 << 20) throws(RootfsError) -> [UInt8]? {
        guard let found = lookup(path), found.node.kind == .regular else { return nil }
        return try reader.bytes(of: found.node.content, limit: limit, path: found.path)
    }

    /// Writes a file the rootfs generates: missing parents become 0755 root directories dated 0,
    /// an existing file or link at the path is replaced (a directory is an error), and the new
    /// file belongs to no package.
    @discardableResult
    func writeFile(_ path: String, _ content: FileContent, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                   modificationTime: Int64 = 0, what: String) throws(RootfsError) -> String {
        let target = try configured(what, path) { () throws(PathProblem) -> String in
            let parent = try tree.makeDirectories(Paths.parent(path))
            return Paths.join(parent, Paths.baseName(path))
        }
        if let existing = tree[target], existing.kind == .directory {
            throw RootfsError(.typeConflict, "\(what) \(quoted(path)): a directory is in the way", path: target)
        }
        tree.set(.file(content, mode: mode, uid: uid, gid: gid, modificationTime: modificationTime, inode: tree.newInode()),
                 at: target)
        return target
    }

    /// Changes a node the configuration touches. A package's file that is changed afterwards no
    /// longer belongs to the package for layering (it goes to the top layer); its installed-db
    /// record keeps what the package shipped, as apk's would after a local edit.
    func modify(_ path: String, _ body: (inout Node) -> Void) {
        tree.update(path) { node in
            body(&node)
            node.owner = nil
        }
    }
}

extension Rootfs {
    /// The most entries a rootfs may hold (each costs memory until the layers are written); the
    /// APK module already caps one package at a million.
    public static let maximumEntryCount = 10_000_000

    /// Builds the rootfs for `request`, in apko's order (reference/apko.md §3.1): base layout and
    /// apk's state files, keys, the packages, accounts, `/etc/apko.json`, `paths`, certificates
    /// and their checksums, the runtime keyring, the s6 tree, busybox links, `ld.so.cache`, and
    /// last the world, repositories and installed-db files.
    ///
    /// Nothing is read from the packages' bytes except the few files these steps inspect
    /// (account files, certificates, busybox path lists, ELF headers for `ld.so.cache`).
    ///
    /// The same steps as a ``RootfsComposer`` given all of `request.packages` up front.
    public static func compose(_ request: RootfsRequest) throws(RootfsError) -> Rootfs {
        let composer = try RootfsComposer(request)
        for package in request.packages {
            try composer.install(package)
        }
        return try composer.finish()
    }
}
