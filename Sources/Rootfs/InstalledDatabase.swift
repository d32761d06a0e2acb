import APK
import DistillCrypto

/// Owner, group, mode and xattr checksum of an installed-db entry: what apk-tools calls an ACL.
struct InstalledACL: Sendable, Hashable {
    var uid: Int
    var gid: Int
    /// `mode & 0o7777`.
    var mode: UInt32
    /// `Q1` + base64 SHA-1 over the sorted xattrs, or nil without xattrs.
    var xattrChecksum: String?

    /// apk's default for directories (no `M:` line).
    static let defaultDirectory = InstalledACL(uid: 0, gid: 0, mode: 0o755, xattrChecksum: nil)
    /// apk's default for files (no `a:` line).
    static let defaultFile = InstalledACL(uid: 0, gid: 0, mode: 0o644, xattrChecksum: nil)

    init(uid: Int, gid: Int, mode: UInt32, xattrChecksum: String?) {
        self.uid = uid
        self.gid = gid
        self.mode = mode & 0o7777
        self.xattrChecksum = xattrChecksum
    }

    init(_ entry: APKFile.DataEntry) {
        self.init(uid: entry.uid, gid: entry.gid, mode: entry.mode,
                  xattrChecksum: InstalledACL.xattrChecksum(entry.extendedAttributes))
    }

    /// apk-tools' `apk_fileinfo_hash_xattr_array`: SHA-1 over the xattrs sorted by name, each as
    /// big-endian 32-bit name length, name, big-endian 32-bit value length, value.
    static func xattrChecksum(_ attributes: [String: [UInt8]]) -> String? {
        guard !attributes.isEmpty else { return nil }
        var hasher = DigestHasher(.sha1)
        for name in attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let nameBytes = Array(name.utf8)
            let value = attributes[name]!
            hasher.update(bigEndian32(nameBytes.count) + nameBytes + bigEndian32(value.count) + value)
        }
        return PackageIdentity.string(hasher.finalize())
    }

    private static func bigEndian32(_ value: Int) -> [UInt8] {
        let value = UInt32(truncatingIfNeeded: value)
        return [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    /// `M:`/`a:` line body: `uid:gid:mode[:xattr checksum]`, the mode octal without leading zeros.
    var line: String {
        var text = "\(uid):\(gid):\(String(mode, radix: 8))"
        if let xattrChecksum { text += ":" + xattrChecksum }
        return text
    }
}

/// One package's entry in `lib/apk/db/installed`, built while the package is installed.
struct InstalledRecord: Sendable {
    struct File: Sendable {
        var name: String
        var acl: InstalledACL
        /// The `Z:` value (`Q1…`), nil when the package carried no checksum for the entry.
        var checksum: String?
        /// Set when another package took the path over: apk moves the file to the new owner, so
        /// it leaves this record.
        var isRemoved = false
    }

    struct Directory: Sendable {
        /// The directory as the package names it (`usr/lib`, `""` for top-level files).
        var path: String
        var acl: InstalledACL
        var files: [File] = []
    }

    var info: PackageInfo
    var repositoryTag: String?
    var scripts: [APKFile.Script]
    /// `F:` directories in order of first appearance in the package's data tar.
    var directories: [Directory] = []
    var directoryIndex: [String: Int] = [:]
    /// apk's `f:f`: an installed file had no checksum in the package.
    var hasFileWithoutChecksum = false

    init(info: PackageInfo, repositoryTag: String?, scripts: [APKFile.Script]) {
        self.info = info
        self.repositoryTag = repositoryTag
        self.scripts = scripts
    }

    /// The index of directory `path`, adding it (with apk's default ACL) on first use.
    mutating func directory(_ path: String) -> Int {
        if let index = directoryIndex[path] { return index }
        directories.append(Directory(path: path, acl: .defaultDirectory))
        directoryIndex[path] = directories.count - 1
        return directories.count - 1
    }

    /// Every file still listed, as `dir/name` paths in record order.
    var filePaths: [String] {
        directories.flatMap { directory in
            directory.files.filter { !$0.isRemoved }.map { Paths.join(directory.path, $0.name) }
        }
    }

    /// The record in apk-tools 2.14's byte format (`apk_db_write_fdb`): the index header
    /// (`C P V A S I T U L` always, `o m t c k` when set, `D p i` when not empty), then `r: q: s: f:`,
    /// then each directory's `F:` (+ `M:` unless 0:0:0755) with its files' `R:` (+ `a:` unless
    /// 0:0:0644) and `Z:`, and the blank line that ends the record.
    var text: String {
        var text = "C:\(info.checksum ?? "")\n"
        text += "P:\(info.name)\nV:\(info.version)\n"
        if let arch = info.arch { text += "A:\(arch)\n" }
        text += "S:\(info.fileSize ?? 0)\nI:\(info.installedSize ?? 0)\n"
        text += "T:\(info.description ?? "")\nU:\(info.url ?? "")\nL:\(info.license ?? "")\n"
        if let origin = info.origin { text += "o:\(origin)\n" }
        if let maintainer = info.maintainer { text += "m:\(maintainer)\n" }
        if let buildTime = info.buildTime, buildTime != 0 { text += "t:\(buildTime)\n" }
        if let commit = info.commit { text += "c:\(commit)\n" }
        if let priority = info.providerPriority, priority != 0 { text += "k:\(priority)\n" }
        for (letter, list) in [("D", info.depends), ("p", info.provides), ("i", info.installIf)] where !list.isEmpty {
            text += letter + ":" + list.map(\.description).joined(separator: " ") + "\n"
        }
        if !info.replaces.isEmpty { text += "r:" + info.replaces.map(\.description).joined(separator: " ") + "\n" }
        if let priority = info.replacesPriority, priority != 0 { text += "q:\(priority)\n" }
        if let tag = repositoryTag, !tag.isEmpty { text += "s:\(tag)\n" }
        if hasFileWithoutChecksum { text += "f:f\n" }
        for directory in directories {
            text += "F:\(directory.path)\n"
            if directory.acl != .defaultDirectory { text += "M:\(directory.acl.line)\n" }
            for file in directory.files where !file.isRemoved {
                text += "R:\(file.name)\n"
                if file.acl != .defaultFile { text += "a:\(file.acl.line)\n" }
                if let checksum = file.checksum { text += "Z:\(checksum)\n" }
            }
        }
        return text + "\n"
    }
}

/// The installed-state files apk keeps under `lib/apk/db` (reference/apk-format.md §4).
enum InstalledDatabase {
    /// The records in apk-tools 2.14's order: by package name (bytes), then version.
    static func sorted(_ records: [InstalledRecord]) -> [InstalledRecord] {
        records.sorted { a, b in
            if a.info.name != b.info.name { return a.info.name.utf8.lexicographicallyPrecedes(b.info.name.utf8) }
            return a.info.apkVersion < b.info.apkVersion
        }
    }

    /// `installed`: every record, sorted.
    static func installed(_ records: [InstalledRecord]) -> [UInt8] {
        Array(sorted(records).map(\.text).joined().utf8)
    }

    /// `triggers`: `Q1<identity> <glob> …` for each package with triggers, in install order.
    static func triggers(_ records: [InstalledRecord]) -> [UInt8] {
        var text = ""
        for record in records where !record.info.triggers.isEmpty {
            text += (record.info.checksum ?? "") + record.info.triggers.map { " " + $0 }.joined() + "\n"
        }
        return Array(text.utf8)
    }

    /// `scripts.tar`, as apk's own tar writer makes it (`apk_tar_write_entry`): one entry per
    /// script named `<name>-<version>.<Q1 identity>.<type>` (truncated to 99 bytes as apk's
    /// `strlcpy` does), GNU magic, `root`/`root`, 0:0, mode 0755, then two zero blocks.
    /// apk dates entries with its own run time; here that is the build epoch.
    static func scriptsArchive(_ records: [InstalledRecord], modificationTime: Int64) -> [UInt8] {
        var archive: [UInt8] = []
        for record in sorted(records) {
            for kind in APKFile.ScriptKind.allCases {
                for script in record.scripts where script.kind == kind {
                    let name = "\(record.info.name)-\(record.info.version).\(record.info.checksum ?? "").\(kind.rawValue)"
                    archive += apkTarHeader(name: name, size: script.content.count, modificationTime: modificationTime)
                    archive += script.content
                    archive += [UInt8](repeating: 0, count: (512 - script.content.count % 512) % 512)
                }
            }
        }
        return archive + [UInt8](repeating: 0, count: 1024)
    }

    /// A ustar header the way apk-tools fills one: numbers right-aligned octal with leading
    /// zeros, mode/uid/gid/checksum ending in NUL, size and mtime using the whole field.
    private static func apkTarHeader(name: String, size: Int, modificationTime: Int64) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: some Collection<UInt8>, at offset: Int, limit: Int) {
            for (index, byte) in bytes.prefix(limit).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int, terminated: Bool) {
            var digits = width - (terminated ? 1 : 0)
            var value = max(value, 0)
            var position = offset + digits - 1
            while digits > 0 {
                block[position] = UInt8(ascii: "0") + UInt8(value % 8)
                value /= 8
                position -= 1
                digits -= 1
            }
            if terminated { block[offset + width - 1] = 0 }
        }
        put(name.utf8, at: 0, limit: 99)
        octal(0o755, at: 100, width: 8, terminated: true)
        octal(0, at: 108, width: 8, terminated: true)
        octal(0, at: 116, width: 8, terminated: true)
        octal(Int64(size), at: 124, width: 12, terminated: false)
        octal(modificationTime, at: 136, width: 12, terminated: false)
        block[156] = UInt8(ascii: "0")
        put("ustar  ".utf8, at: 257, limit: 8)
        put("root".utf8, at: 265, limit: 31)
        put("root".utf8, at: 297, limit: 31)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int64($1) }
        octal(sum, at: 148, width: 8, terminated: true)
        return block
    }
}
