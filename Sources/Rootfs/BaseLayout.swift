import Archive
import APK

/// Where apko puts apk's state (reference/apko.md §3.5–§3.6): the database lives in
/// `usr/lib/apk/db` and `lib/apk` links there, unless `lib` itself is a symlink to `usr/lib`.
enum Layout {
    static let databaseDirectory = "usr/lib/apk/db"
    static let installed = "usr/lib/apk/db/installed"
    static let scripts = "usr/lib/apk/db/scripts.tar"
    static let triggers = "usr/lib/apk/db/triggers"
    static let lock = "usr/lib/apk/db/lock"
    static let world = "etc/apk/world"
    static let repositories = "etc/apk/repositories"
    static let arch = "etc/apk/arch"
    static let keys = "etc/apk/keys"

    /// apko's base directories (`InitDB`).
    static let baseDirectories: [(String, UInt32)] = [
        ("tmp", 0o1777), ("dev", 0o755), ("etc", 0o755), ("opt", 0o755), ("proc", 0o555), ("var", 0o755), ("usr", 0o755),
    ]
    /// apko's init directories, parents first.
    static let initDirectories = [
        "etc/apk", "etc/apk/keys", "usr/lib", "usr/lib/apk", "usr/lib/apk/db", "usr/lib/apk/exec",
        "var/cache", "var/cache/apk", "var/cache/misc",
    ]
    /// apko's character devices: path, major, minor, mode.
    static let devices: [(String, UInt32, UInt32, UInt32)] = [
        ("dev/zero", 1, 5, 0o666), ("dev/urandom", 1, 9, 0o666), ("dev/null", 1, 3, 0o666),
        ("dev/random", 1, 8, 0o666), ("dev/console", 5, 1, 0o620),
    ]
}

extension Composition {
    /// Refuses requests the rootfs cannot be built from, before anything is done: the
    /// architecture, the packages known so far (``RootfsRequest/packages``), the key and service
    /// names. `names` collects the packages' names (see ``validate(_:names:)``).
    func validate(names: inout [String: String]) throws(RootfsError) {
        let arch = request.architecture
        guard !arch.isEmpty, !arch.contains("/"), !arch.contains(where: { $0.isNewline || $0.isWhitespace }) else {
            throw RootfsError(.invalidInput, "architecture \(quoted(arch)) is not an apk architecture name")
        }
        for package in request.packages {
            try Self.validate(package, names: &names)
        }
        for key in request.keyring + request.runtimeKeyring {
            try Self.requireFileName(key.name, what: "key")
        }
        for service in request.services {
            try Self.requireFileName(service.name, what: "service")
        }
    }

    /// Refuses a package the installed database cannot record: no `C:`, a name that an earlier
    /// package already has (`names`: name → `name-version` of the packages before it, which this
    /// adds to), or metadata with a line break.
    static func validate(_ package: RootfsPackage, names: inout [String: String]) throws(RootfsError) {
        let info = package.info
        guard let checksum = info.checksum, !checksum.isEmpty else {
            throw RootfsError(.invalidInput, "\(info.nameVersion): no C: checksum, which the installed database needs",
                              packages: [info.nameVersion])
        }
        if let other = names[info.name] {
            throw RootfsError(.invalidInput, "\(info.nameVersion) and \(other) are both in the package list; apk installs one package per name",
                              packages: [info.nameVersion, other])
        }
        names[info.name] = info.nameVersion
        let text = [info.name, info.version, info.arch ?? "", info.description ?? "", info.url ?? "", info.license ?? "",
                    info.origin ?? "", info.maintainer ?? "", info.commit ?? "", checksum, package.repositoryTag ?? ""]
        if text.contains(where: { $0.contains(where: \.isNewline) }) {
            throw RootfsError(.invalidInput, "\(info.nameVersion): a metadata value contains a line break, which would forge installed-db lines",
                              packages: [info.nameVersion])
        }
    }

    /// Whether `package` ships `lib` itself as a symlink (usr-merge), which changes the base
    /// layout (see ``initializeDatabase(libIsShipped:)``).
    static func shipsLibrarySymlink(_ package: RootfsPackage) -> Bool {
        package.dataEntries.contains { $0.path == "lib" && $0.kind == .symbolicLink }
    }

    /// A single path component: not empty, not `.`/`..`, no `/` and no control characters.
    static func requireFileName(_ name: String, what: String) throws(RootfsError) {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"),
              !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw RootfsError(.invalidInput, "\(what) name \(quoted(name)) is not a plain file name")
        }
    }

    /// apko's `InitDB` (reference/apko.md §3.6): base and init directories, `/dev` nodes, and
    /// apk's state files (filled in at the end). `lib` becomes a directory with
    /// `lib/apk -> ../usr/lib/apk` unless a package ships `lib` itself as a symlink (usr-merge),
    /// which is then installed as it comes: `libIsShipped` says whether one of the packages does.
    func initializeDatabase(libIsShipped: Bool) throws(RootfsError) {
        for (path, mode) in Layout.baseDirectories {
            tree.set(.directory(mode: mode), at: path)
        }
        for path in Layout.initDirectories {
            tree.set(.directory(), at: path)
        }
        if !libIsShipped {
            tree.set(.directory(), at: "lib")
            tree.set(.symlink("../usr/lib/apk"), at: "lib/apk")
        }
        for (path, major, minor, mode) in Layout.devices {
            tree.set(Node(kind: .characterDevice, mode: mode, uid: 0, gid: 0, modificationTime: 0,
                          deviceMajor: major, deviceMinor: minor), at: path)
        }
        try writeFile(Layout.arch, .bytes(Array((request.architecture + "\n").utf8)), what: "/etc/apk/arch")
        try writeFile(Layout.lock, .empty, mode: 0o600, what: "the apk lock file")
        for path in [Layout.installed, Layout.triggers, Layout.scripts] {
            try writeFile(path, .empty, what: "the apk database")
        }
    }

    /// Writes key files to `/etc/apk/keys`; the runtime keyring may not replace a key.
    func installKeys(_ keys: [KeyFile], refusingExisting: Bool, what: String) throws(RootfsError) {
        for key in keys {
            let path = Paths.join(Layout.keys, key.name)
            if refusingExisting, let resolved = lookup(path)?.path {
                throw RootfsError(.invalidInput, "\(what): key \(quoted(key.name)) already exists at /\(resolved)", path: resolved)
            }
            try writeFile(path, .bytes(key.content), what: "\(what) key")
        }
    }

    /// Makes sure `lib/apk/db` reaches the database after the packages are installed: a `lib`
    /// the packages did not create after all becomes apko's directory and link.
    func completeLibraryLayout() throws(RootfsError) {
        if tree["lib"] == nil {
            tree.set(.directory(), at: "lib")
        }
        if tree["lib"]?.kind == .directory, tree["lib/apk"] == nil {
            tree.set(.symlink("../usr/lib/apk"), at: "lib/apk")
        }
        let resolved = try? tree.resolve("lib/apk/db", followLast: true)
        guard let resolved, resolved.exists, resolved.path == Layout.databaseDirectory else {
            throw RootfsError(.typeConflict,
                              "lib/apk/db leads to \(quoted(resolved?.path ?? "nowhere")) instead of \(Layout.databaseDirectory), so apk would not find its database",
                              path: "lib/apk/db")
        }
    }

    /// `/etc/apk/world` (sorted by name, case-insensitive first) and `/etc/apk/repositories`
    /// (sorted, unique), each line newline-terminated; apko writes a lone newline when empty.
    func writeApkConfiguration() throws(RootfsError) {
        let world = request.world.sorted { a, b in
            let (left, right) = (a.lowercased(), b.lowercased())
            if left != right { return left.utf8.lexicographicallyPrecedes(right.utf8) }
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        let repositories = Set(request.repositories).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (path, lines) in [(Layout.world, world), (Layout.repositories, repositories)] {
            if let bad = lines.first(where: { $0.contains(where: \.isNewline) || $0.isEmpty }) {
                throw RootfsError(.invalidInput, "/\(path): line \(quoted(bad)) is empty or contains a line break", path: path)
            }
            let text = lines.isEmpty ? "\n" : lines.map { $0 + "\n" }.joined()
            try writeFile(path, .bytes(Array(text.utf8)), what: "/\(path)")
        }
    }

    /// Fills in `installed`, `scripts.tar` and `triggers`, keeping the files' metadata.
    func writeInstalledDatabase() throws(RootfsError) {
        let contents: [(String, [UInt8])] = [
            (Layout.installed, InstalledDatabase.installed(records)),
            (Layout.scripts, InstalledDatabase.scriptsArchive(records, modificationTime: request.buildEpoch)),
            (Layout.triggers, InstalledDatabase.triggers(records)),
        ]
        for (path, bytes) in contents {
            if tree[path]?.kind == .regular {
                modify(path) { $0.content = .bytes(bytes) }
            } else {
                try writeFile(path, .bytes(bytes), what: "the apk database")
            }
        }
    }
}
