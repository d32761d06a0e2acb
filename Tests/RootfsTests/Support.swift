import APK
import Archive
import DistillCrypto
import Foundation
import Rootfs
import TestSupport
import Testing

/// Real packages, loaded the way the build loads them: the signed APKINDEX is verified with the
/// repository's key, and each `.apk` is read with `.installing(checksum:)` (C: and datahash must
/// hold) while its data tar is expanded into the scratch directory.
enum FixturePackages {
    static func fromRepository(_ repository: String, arch: String, key: String, names: [String],
                               scratch: ScratchDirectory) throws -> [RootfsPackage] {
        var keyring = Keyring()
        try keyring.addKey(file: Fixtures.url("\(repository)/\(key)").path)
        let index = try APKIndexFile.read(path: Fixtures.url("\(repository)/\(arch)/APKINDEX.tar.gz").path, keyring: keyring)
        return try names.map { name in
            let record = try #require(index.packages.first { $0.name == name }, "\(name) is not in \(repository)")
            let expanded = scratch.path("\(arch)-\(name).data.tar")
            let sink = try FileDescriptorSink(creatingFileAt: expanded)
            let file = try APKFile.read(path: Fixtures.url("\(repository)/\(arch)/\(record.fileName)").path,
                                        options: .installing(checksum: try #require(record.checksum)), expandingDataTo: sink)
            try sink.close()
            return RootfsPackage(file: file, expandedDataPath: expanded)
        }
    }

    /// A package without an index, verified by its own signature.
    static func standalone(_ path: String, key: String, scratch: ScratchDirectory) throws -> RootfsPackage {
        var keyring = Keyring()
        try keyring.addKey(file: Fixtures.url(key).path)
        let expanded = scratch.path(URL(fileURLWithPath: path).lastPathComponent + ".data.tar")
        let sink = try FileDescriptorSink(creatingFileAt: expanded)
        let file = try APKFile.read(path: Fixtures.url(path).path,
                                    options: APKFile.Options(keyring: keyring, stopsAtFirstFailure: true), expandingDataTo: sink)
        try sink.close()
        return RootfsPackage(file: file, expandedDataPath: expanded)
    }
}

/// One entry of a hand-made package.
struct Item: Sendable {
    var entry: TarEntry
    var content: [UInt8] = []
    /// Whether the PAX `APK-TOOLS.checksum.SHA1` record is written (files and symlinks).
    var hasChecksum = true

    static func directory(_ path: String, mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0, time: Int64 = 1_700_000_000) -> Item {
        Item(entry: TarEntry(name: path, kind: .directory, mode: mode, uid: uid, gid: gid, modificationTime: time))
    }

    static func file(_ path: String, _ text: String, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                     time: Int64 = 1_700_000_000, xattrs: [String: [UInt8]] = [:]) -> Item {
        file(path, bytes: Array(text.utf8), mode: mode, uid: uid, gid: gid, time: time, xattrs: xattrs)
    }

    static func file(_ path: String, bytes: [UInt8], mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                     time: Int64 = 1_700_000_000, xattrs: [String: [UInt8]] = [:]) -> Item {
        Item(entry: TarEntry(name: path, mode: mode, uid: uid, gid: gid, size: Int64(bytes.count), modificationTime: time,
                             extendedAttributes: xattrs), content: bytes)
    }

    static func symlink(_ path: String, to target: String, time: Int64 = 1_700_000_000) -> Item {
        Item(entry: TarEntry(name: path, kind: .symbolicLink, mode: 0o777, modificationTime: time, linkName: target))
    }

    static func hardlink(_ path: String, to target: String, mode: UInt32 = 0o644) -> Item {
        Item(entry: TarEntry(name: path, kind: .hardLink, mode: mode, modificationTime: 1_700_000_000, linkName: target))
    }

    static func device(_ path: String, block: Bool = false, major: UInt32, minor: UInt32, mode: UInt32 = 0o660) -> Item {
        Item(entry: TarEntry(name: path, kind: block ? .blockDevice : .characterDevice, mode: mode,
                             modificationTime: 1_700_000_000, deviceMajor: major, deviceMinor: minor))
    }

    static func fifo(_ path: String) -> Item {
        Item(entry: TarEntry(name: path, kind: .fifo, mode: 0o600, modificationTime: 1_700_000_000))
    }
}

/// Hand-made packages in apk's real layout — an unsigned `.apk` (control member + data member,
/// PAX checksums, datahash) read back through `APKFile`, so the rootfs gets exactly what the
/// APK module gives it for a downloaded package.
enum Synthetic {
    static func package(_ name: String, version: String = "1.0-r0", origin: String? = nil, replaces: [String] = [],
                        replacesPriority: Int? = nil, installedSize: UInt64? = nil, provides: [String] = [],
                        scripts: [APKFile.Script] = [], triggers: [String] = [], items: [Item],
                        scratch: ScratchDirectory, configure: (inout PackageInfo) throws -> Void = { _ in }) throws -> RootfsPackage {
        let data = MemorySink()
        let tar = TarWriter(sink: data, refusesUnsafeNames: false)
        for item in items {
            var entry = item.entry
            if item.hasChecksum && entry.kind == .regular {
                entry.paxRecords["APK-TOOLS.checksum.SHA1"] = DigestAlgorithm.sha1.hash(item.content).hex
            } else if item.hasChecksum && entry.kind == .symbolicLink {
                entry.paxRecords["APK-TOOLS.checksum.SHA1"] = DigestAlgorithm.sha1.hash(Array(entry.linkName.utf8)).hex
            }
            if entry.kind == .regular {
                try tar.append(entry, content: item.content)
            } else {
                try tar.append(entry)
            }
        }
        try tar.finish(.endBlocks)
        let dataMember = try gzip(data.bytes)

        var info = PackageInfo(name: name, version: version, arch: "x86_64", description: "\(name) test package",
                               url: "https://example.invalid/", license: "MIT", origin: origin ?? name,
                               buildTime: 1_700_000_000,
                               provides: try provides.map { try Dependency(parsing: $0) },
                               replaces: try replaces.map { try Dependency(parsing: $0) }, replacesPriority: replacesPriority,
                               triggers: triggers)
        info.installedSize = installedSize ?? UInt64(max(1, items.reduce(0) { $0 + $1.content.count }))
        try configure(&info)
        info.dataHash = DigestAlgorithm.sha256.hash(dataMember).hex

        let control = MemorySink()
        let controlTar = TarWriter(sink: control)
        let pkginfo = Array(PKGINFO.write(info).utf8)
        try controlTar.append(TarEntry(name: ".PKGINFO", size: Int64(pkginfo.count)), content: pkginfo)
        for script in scripts {
            try controlTar.append(TarEntry(name: script.kind.fileName, mode: 0o755, size: Int64(script.content.count)),
                                  content: script.content)
        }
        try controlTar.finish(.cut)
        let apk = try gzip(control.bytes) + dataMember

        let apkPath = scratch.path("\(name)-\(version).apk")
        try scratch.write("\(name)-\(version).apk", apk)
        let expanded = scratch.path("\(name)-\(version).data.tar")
        let sink = try FileDescriptorSink(creatingFileAt: expanded)
        // Link escapes reach the installer, whose own refusal is what these tests check.
        let file = try APKFile.read(path: apkPath, options: APKFile.Options(requiresSignature: false, stopsAtFirstFailure: true,
                                                                            refusesLinkEscapes: false),
                                    expandingDataTo: sink)
        try sink.close()
        return RootfsPackage(file: file, expandedDataPath: expanded)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let memory = MemorySink()
        let writer = try GzipWriter(sink: memory, level: 6)
        try writer.write(bytes)
        try writer.finish()
        return memory.bytes
    }
}

/// One entry of a written layer, with its content.
struct LayerEntry: Sendable {
    var entry: TarEntry
    var content: [UInt8]
}

enum LayerFiles {
    /// Writes layer `index` to `name` in the scratch directory and returns its path.
    @discardableResult
    static func write(_ rootfs: Rootfs, layer index: Int = 0, to name: String, in scratch: ScratchDirectory) throws -> String {
        let path = scratch.path(name)
        let sink = try FileDescriptorSink(creatingFileAt: path)
        try rootfs.writeLayer(index, to: sink)
        try sink.close()
        return path
    }

    /// The layer's bytes.
    static func bytes(_ rootfs: Rootfs, layer index: Int = 0) throws -> [UInt8] {
        let memory = MemorySink()
        try rootfs.writeLayer(index, to: memory)
        return memory.bytes
    }

    /// The entries of a tar, read with the Archive reader.
    static func entries(_ bytes: [UInt8]) throws -> [LayerEntry] {
        let reader = TarReader(source: MemorySource(bytes))
        var result: [LayerEntry] = []
        while let entry = try reader.next() {
            result.append(LayerEntry(entry: entry, content: entry.kind == .regular ? try reader.readContent(limit: 64 << 20) : []))
        }
        return result
    }
}

/// Parses an installed db into (package name → file paths with their Z:), for the rootfs check.
struct InstalledDatabaseText {
    struct Record {
        var name: String
        var files: [(path: String, checksum: String?)] = []
        var directories: [String] = []
        var lines: [String] = []
    }

    var records: [Record] = []

    init(_ text: String) {
        var current: Record?
        var directory = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                if let record = current { records.append(record) }
                current = nil
                continue
            }
            if current == nil { current = Record(name: "") }
            current!.lines.append(String(line))
            let value = String(line.dropFirst(2))
            switch line.prefix(2) {
            case "P:": current!.name = value
            case "F:":
                directory = value
                current!.directories.append(value)
            case "R:": current!.files.append((directory.isEmpty ? value : directory + "/" + value, nil))
            case "Z:": current!.files[current!.files.count - 1].checksum = value
            default: break
            }
        }
        if let record = current { records.append(record) }
    }
}

/// `Q1` + base64 SHA-1, the installed db's checksum spelling.
func q1(_ bytes: [UInt8]) -> String {
    "Q1" + DigestAlgorithm.sha1.hash(bytes).base64
}
