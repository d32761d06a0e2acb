import APK
import Archive
public import DistillCrypto

/// What `/etc/os-release` (or `/usr/lib/os-release`) of the rootfs says (os-release(5)).
public struct OperatingSystemRelease: Sendable, Hashable {
    /// `ID` (`alpine`, `wolfi`).
    public var id: String?
    /// `NAME` (`Alpine Linux`).
    public var name: String?
    /// `VERSION_ID` (`3.16.9`).
    public var versionID: String?
    /// `PRETTY_NAME`.
    public var prettyName: String?

    /// Reads `KEY=value` lines; values may be in single or double quotes (backslash escapes in
    /// double quotes); `#` comments and malformed lines are skipped.
    public init(parsing text: String) {
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: [" ", "\t", "\r"])
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            var value = line[line.index(after: equals)...]
            if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote {
                value = value.dropFirst().dropLast()
                if quote == "\"" {
                    var unescaped = ""
                    var escaping = false
                    for character in value {
                        if escaping || character != "\\" {
                            unescaped.append(character)
                            escaping = false
                        } else {
                            escaping = true
                        }
                    }
                    value = Substring(unescaped)
                }
            }
            values[key] = String(value)
        }
        id = values["ID"]
        name = values["NAME"]
        versionID = values["VERSION_ID"]
        prettyName = values["PRETTY_NAME"]
    }
}

/// What the SBOM and the tests need to know about the composed rootfs.
public struct RootfsManifest: Sendable {
    /// One installed package and what its installed-db record lists.
    public struct Package: Sendable, Hashable {
        /// Its metadata, `C:` included.
        public var info: PackageInfo
        /// The repository tag it came from.
        public var repositoryTag: String?
        /// Its files as the installed db lists them (`dir/name`, the package's own spelling, so
        /// `lib/x` for a file that usr-merge placed at `usr/lib/x`); files another package took
        /// over are not listed.
        public var files: [String]
        /// Its `F:` directories in record order (`""` for top-level files).
        public var directories: [String]
    }

    /// The packages in install order.
    public var packages: [Package]
    /// The rootfs's os-release, if it has one.
    public var osRelease: OperatingSystemRelease?
    /// Where the installed db is (`usr/lib/apk/db/installed`; `lib/apk/db/installed` leads there).
    public var installedDatabasePath: String
}

/// How much a layer's tar held.
public struct LayerTarSummary: Sendable, Hashable {
    /// Entries written (missing parent directories and the partial installed db included).
    public var entryCount: Int
    /// Bytes of tar written to the sink, end blocks included.
    public var byteCount: Int64
}

/// What names a layer's tar without its bytes (``Rootfs/layerRecipe(_:)``).
public struct LayerRecipe: Sendable, Hashable {
    /// Changes whenever the description's own encoding changes, so old recipes stop matching.
    static let version = "distill layer recipe 1\n"
    /// SHA-256 of the description.
    public var digest: Digest
    /// The tar the recipe describes: its entry count and exact size in bytes.
    public var summary: LayerTarSummary
}

/// A composed rootfs: the tree of entries (file bytes still in the packages' expanded tars),
/// the layer plan, and the manifest. Immutable and `Sendable`: layers can be written
/// concurrently, each call reading package bytes through its own descriptors.
public struct Rootfs: Sendable {
    /// apk's architecture name.
    public let architecture: String
    /// The layers, in manifest order (base first).
    public let layers: [RootfsLayer]
    /// The installed packages and the os-release.
    public let manifest: RootfsManifest

    let tree: FileTree
    let sources: [String]
    let sourceNames: [String]
    /// What names each package's expanded data for ``layerRecipe(_:)``: `datahash:<hex>`, or
    /// `C:<checksum>` for a package without datahash (its `C:` then covers the data).
    let sourceIdentities: [String?]
    let layerOfPackage: [Int]
    /// The layer of everything no package owns.
    let topLayer: Int
    /// The installed-db text of each package layer (its packages' records only).
    let partialDatabases: [Int: [UInt8]]
    let userNames: [Int: String]
    let groupNames: [Int: String]

    init(composition: Composition) throws(RootfsError) {
        architecture = composition.request.architecture
        tree = composition.tree
        sources = composition.reader.sources
        sourceNames = composition.reader.sourceNames
        // The installed packages' infos, not `request.packages`: a streaming composition gets
        // its packages one by one through `install`.
        sourceIdentities = composition.infos.map { info in
            if let dataHash = info.dataHash, !dataHash.isEmpty { return "datahash:" + dataHash }
            if let checksum = info.checksum, !checksum.isEmpty { return "C:" + checksum }
            return nil
        }
        let records = composition.records
        switch composition.request.layering {
        case .single:
            layers = [RootfsLayer(kind: .complete, packages: [], installedSize: 0)]
            layerOfPackage = [Int](repeating: 0, count: records.count)
            topLayer = 0
            partialDatabases = [:]
        case .origin(let budget):
            let plan = LayerPlanner.plan(records.map(\.info), budget: budget)
            layers = plan.layers
            layerOfPackage = plan.layerOfPackage
            topLayer = plan.layers.count - 1
            var partial: [Int: [UInt8]] = [:]
            for layer in 0..<topLayer {
                partial[layer] = InstalledDatabase.installed(records.indices.filter { plan.layerOfPackage[$0] == layer }.map { records[$0] })
            }
            partialDatabases = partial
        }
        var osRelease: OperatingSystemRelease?
        for path in ["etc/os-release", "usr/lib/os-release"] {
            if let bytes = try composition.readFile(path, limit: 1 << 20) {
                osRelease = OperatingSystemRelease(parsing: String(decoding: bytes, as: UTF8.self))
                break
            }
        }
        manifest = RootfsManifest(
            packages: records.map { record in
                RootfsManifest.Package(info: record.info, repositoryTag: record.repositoryTag, files: record.filePaths,
                                       directories: record.directories.map(\.path))
            },
            osRelease: osRelease, installedDatabasePath: Layout.installed)
        userNames = try Self.names(in: "etc/passwd", composition)
        groupNames = try Self.names(in: "etc/group", composition)
    }

    /// id → name from a passwd or group file of the rootfs (the first line naming an id wins).
    private static func names(in path: String, _ composition: Composition) throws(RootfsError) -> [Int: String] {
        guard let bytes = try composition.readFile(path) else { return [:] }
        var names: [Int: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let id = Int(fields[2]), !fields[0].isEmpty, names[id] == nil else { continue }
            names[id] = String(fields[0])
        }
        return names
    }

    // MARK: Reading

    /// The bytes of the regular file at `path` (symlinks inside the root followed), nil when
    /// there is no such file; more than `limit` bytes is an error.
    public func contents(of path: String, limit: Int = 16 << 20) throws(RootfsError) -> [UInt8]? {
        guard let normalized = try? Paths.normalize(path), let resolved = try? tree.resolve(normalized, followLast: true),
              resolved.exists, let node = tree[resolved.path], node.kind == .regular else { return nil }
        return try ContentReader(sources: sources, sourceNames: sourceNames).bytes(of: node.content, limit: limit, path: resolved.path)
    }

    /// The names in the directory at `path` (symlinks followed), sorted; nil when it is not a
    /// directory.
    public func names(inDirectory path: String) -> [String]? {
        let normalized = Paths.components(path).joined(separator: "/")
        guard let directory = try? tree.resolveDirectory(normalized) else { return nil }
        return tree.sortedChildren(of: directory)
    }

    // MARK: Layers

    /// Streams layer `index` as a tar into `sink` (which it does not close or finish): entries in
    /// walk order (each directory's names in byte order, directories before their contents), no
    /// `./` and no trailing `/`, ustar with a PAX header only where a field needs one (long
    /// names, `SCHILY.xattr.*`), owners and modes as the packages have them (setuid, setgid and
    /// sticky included), user and group names from the rootfs's own `/etc/passwd` and
    /// `/etc/group` (empty when an id is not listed), no `APK-TOOLS.*` records, two zero blocks
    /// at the end. File bytes are read from the expanded package tars by offset.
    ///
    /// A package layer also gets each missing parent directory (dated like the child that needed
    /// it, as apko does, so identical package layers stay identical across images) and a partial
    /// `usr/lib/apk/db/installed` listing only its packages. Files that are hard links of each
    /// other become one file and links to it within the layer.
    @discardableResult
    public func writeLayer(_ index: Int, to sink: any ByteSink) throws(RootfsError) -> LayerTarSummary {
        let reader = ContentReader(sources: sources, sourceNames: sourceNames)
        let tar = TarWriter(sink: sink)
        let count = try walkLayer(index, tar: tar) { entry, content in
            try tar.append(entry, content: ContentSource(content, reader: reader))
        }
        return LayerTarSummary(entryCount: count, byteCount: tar.bytesWritten)
    }

    /// The recipe of layer `index`: SHA-256 over the tar ``writeLayer(_:to:)`` would write, with
    /// every file's bytes replaced by what identifies them — for bytes from a package, the
    /// package's verified identity (its `datahash`, or `C:` for a legacy package whose `C:`
    /// covers the data) with the offset and length in its expanded data; bytes the rootfs made
    /// itself are included as they are. Nothing is read from the expanded tars, so the recipe
    /// costs a walk of the tree instead of a pass over every byte of the layer.
    ///
    /// Equal recipes mean equal tars as long as each package's expanded data is what its identity
    /// says (the fetch stage verifies that on every build): the recipe of a layer whose tar was
    /// hashed once can name that diff_id for later builds without hashing the tar again. It also
    /// covers the writer's own framing (headers, PAX records, end blocks), so a change in how
    /// tars are written changes every recipe. Nil when a file comes from a package without an
    /// identity (a ``RootfsPackage`` made without `datahash` or `C:`).
    public func layerRecipe(_ index: Int) throws(RootfsError) -> LayerRecipe? {
        final class Hasher: ByteSink {
            var digest = DigestHasher(.sha256)
            func write(_ bytes: UnsafeRawBufferPointer) throws { digest.update(bytes) }
        }
        let hasher = Hasher()
        hasher.digest.update(Array(LayerRecipe.version.utf8))
        let tar = TarWriter(sink: hasher)
        var complete = true
        let count = try walkLayer(index, tar: tar) { entry, content in
            guard let standIn = standIn(for: content) else {
                complete = false
                return
            }
            try tar.appendDescription(of: entry, standIn: standIn)
        }
        guard complete else { return nil }
        return LayerRecipe(digest: hasher.digest.finalize(),
                           summary: LayerTarSummary(entryCount: count, byteCount: tar.archiveSize))
    }

    /// A self-delimiting description of `content`: the piece count, then per piece a kind byte,
    /// its length, and the package identity with the offset, or the bytes themselves.
    private func standIn(for content: FileContent) -> [UInt8]? {
        var bytes: [UInt8] = []
        func append(_ number: Int64) { withUnsafeBytes(of: UInt64(bitPattern: number).littleEndian) { bytes += $0 } }
        append(Int64(content.pieces.count))
        for piece in content.pieces {
            switch piece {
            case .stored(let source, let offset, let length):
                guard sourceIdentities.indices.contains(source), let identity = sourceIdentities[source] else { return nil }
                bytes.append(1)
                append(length)
                append(Int64(identity.utf8.count))
                bytes += identity.utf8
                append(offset)
            case .bytes(let literal):
                bytes.append(2)
                append(Int64(literal.count))
                bytes += literal
            }
        }
        return bytes
    }

    /// Every entry of layer `index` in order through `tar`; regular files with content go to
    /// `appendFile` (which writes them, or their description). Returns the number of entries.
    private func walkLayer(_ index: Int, tar: TarWriter,
                           appendFile: (TarEntry, FileContent) throws -> Void) throws(RootfsError) -> Int {
        guard layers.indices.contains(index) else {
            throw RootfsError(.invalidInput, "there is no layer \(index); the rootfs has \(layers.count)")
        }
        var written: [String] = []  // directories on the current path already in this layer
        var firstPathOfInode: [Int: String] = [:]
        var count = 0
        let partial = partialDatabases[index]
        do {
            try tree.walk { path, node in
                let layer = node.owner.map { layerOfPackage[$0] } ?? topLayer
                let isPartialDatabase = partial != nil && path == Layout.installed
                guard layer == index || isPartialDatabase else { return }
                let ancestors = Self.ancestors(of: path)
                var common = 0
                while common < min(written.count, ancestors.count), written[common] == ancestors[common] { common += 1 }
                written.removeSubrange(common...)
                for ancestor in ancestors[common...] {
                    guard let directory = tree[ancestor] else { continue }
                    var entry = tarEntry(ancestor, directory)
                    entry.modificationTime = node.modificationTime
                    try tar.append(entry)
                    written.append(ancestor)
                    count += 1
                }
                if let partial, isPartialDatabase {
                    var entry = tarEntry(path, node)
                    entry.size = Int64(partial.count)
                    try appendFile(entry, .bytes(partial))
                    count += 1
                    return
                }
                var entry = tarEntry(path, node)
                if node.kind == .regular {
                    if let first = firstPathOfInode[node.inode] {
                        entry.kind = .hardLink
                        entry.linkName = first
                        entry.size = 0
                        try tar.append(entry)
                    } else {
                        firstPathOfInode[node.inode] = path
                        entry.size = node.content.size
                        try appendFile(entry, node.content)
                    }
                } else {
                    try tar.append(entry)
                }
                count += 1
                if node.kind == .directory { written.append(path) }
            }
            try tar.finish(.endBlocks)
        } catch let error as RootfsError {
            throw error
        } catch let error as ArchiveError {
            throw RootfsError(.io, "layer \(index): \(error.message)")
        } catch {
            throw RootfsError(.io, "layer \(index): \(error)")
        }
        return count
    }

    private static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var index = path.startIndex
        while let slash = path[index...].firstIndex(of: "/") {
            result.append(String(path[..<slash]))
            index = path.index(after: slash)
        }
        return result
    }

    private func tarEntry(_ path: String, _ node: Node) -> TarEntry {
        let kind: TarEntry.Kind = switch node.kind {
        case .directory: .directory
        case .regular: .regular
        case .symlink: .symbolicLink
        case .characterDevice: .characterDevice
        case .blockDevice: .blockDevice
        case .fifo: .fifo
        }
        return TarEntry(name: path, kind: kind, mode: node.mode, uid: node.uid, gid: node.gid,
                        userName: userNames[node.uid] ?? "", groupName: groupNames[node.gid] ?? "",
                        modificationTime: node.modificationTime, linkName: node.linkTarget,
                        deviceMajor: node.deviceMajor, deviceMinor: node.deviceMinor,
                        extendedAttributes: node.extendedAttributes)
    }
}
