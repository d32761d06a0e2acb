import APK

/// The state of one composition: the tree, the installed-db records, and a reader for package
/// bytes. Each step of the pipeline is an extension in its own file.
final class Composition {
    let request: RootfsRequest
    var tree = FileTree()
    var records: [InstalledRecord] = []
    /// `name-version` of each package, by install-order index.
    let names: [String]
    let reader: ContentReader

    init(request: RootfsRequest) {
        self.request = request
        self.names = request.packages.map(\.info.nameVersion)
        self.reader = ContentReader(sources: request.packages.map(\.expandedDataPath), sourceNames: names)
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
    public static func compose(_ request: RootfsRequest) throws(RootfsError) -> Rootfs {
        let composition = Composition(request: request)
        try composition.validate()
        try composition.initializeDatabase()
        try composition.installKeys(request.keyring, refusingExisting: false, what: "keyring")
        for (index, package) in request.packages.enumerated() {
            let installer = Installer(index: index, package: package, names: composition.names,
                                      infos: request.packages.map(\.info))
            try installer.install(into: &composition.tree, records: &composition.records)
            guard composition.tree.nodes.count <= Rootfs.maximumEntryCount else {
                throw RootfsError(.tooLarge, "\(package.info.nameVersion): the rootfs holds more than \(Rootfs.maximumEntryCount) entries",
                                  packages: [package.info.nameVersion])
            }
        }
        try composition.completeLibraryLayout()
        try composition.applyAccounts()
        if let apkoJSON = request.apkoJSON {
            try composition.writeFile("etc/apko.json", .bytes(apkoJSON), mode: 0o444, what: "/etc/apko.json")
        }
        try composition.applyPathMutations()
        try composition.installCertificates()
        try composition.writeTrustStoreChecksums()
        try composition.installKeys(request.runtimeKeyring, refusingExisting: true, what: "runtime_keyring")
        try composition.writeServices()
        try composition.installBusyboxLinks()
        try composition.writeLinkerCache()
        try composition.writeApkConfiguration()
        try composition.writeInstalledDatabase()
        return try Rootfs(composition: composition)
    }
}
