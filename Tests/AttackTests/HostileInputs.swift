import APK
import Archive
import DistillCrypto
import Foundation
import TestSupport

/// The keys the attack suite signs with, generated once per test process.
enum AttackKeys {
    /// The key the configs trust (`attack.rsa.pub`).
    static let trusted = SigningKey(privateKey: try! RSAPrivateKey.generate(bitCount: 2048), keyName: "attack.rsa.pub")
    /// A key nobody trusts, under its own name.
    static let stranger = SigningKey(privateKey: try! RSAPrivateKey.generate(bitCount: 2048), keyName: "stranger.rsa.pub")
    /// A different key that claims the trusted key's name.
    static let impostor = SigningKey(privateKey: try! RSAPrivateKey.generate(bitCount: 2048), keyName: "attack.rsa.pub")
}

/// One entry of a crafted package's data section.
struct DataItem: Sendable {
    var entry: TarEntry
    var content: [UInt8]

    static func directory(_ path: String, mode: UInt32 = 0o755) -> DataItem {
        DataItem(entry: TarEntry(name: path + "/", kind: .directory, mode: mode), content: [])
    }

    static func file(_ path: String, _ text: String = "content\n", mode: UInt32 = 0o644) -> DataItem {
        let bytes = Array(text.utf8)
        return DataItem(entry: TarEntry(name: path, mode: mode, size: Int64(bytes.count)), content: bytes)
    }

    static func bytes(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o644) -> DataItem {
        DataItem(entry: TarEntry(name: path, mode: mode, size: Int64(bytes.count)), content: bytes)
    }

    static func symlink(_ path: String, to target: String) -> DataItem {
        DataItem(entry: TarEntry(name: path, kind: .symbolicLink, mode: 0o777, linkName: target), content: [])
    }

    static func hardLink(_ path: String, to target: String) -> DataItem {
        DataItem(entry: TarEntry(name: path, kind: .hardLink, mode: 0o644, linkName: target), content: [])
    }

    static func device(_ path: String, kind: TarEntry.Kind, major: UInt32 = 0, minor: UInt32 = 0) -> DataItem {
        DataItem(entry: TarEntry(name: path, kind: kind, mode: 0o666, deviceMajor: major, deviceMinor: minor), content: [])
    }
}

/// A package assembled member by member, so a test can corrupt exactly one part of it.
struct CraftedPackage: Sendable {
    var name: String
    var version: String
    var signatureMember: [UInt8]
    var controlMember: [UInt8]
    var dataMembers: [[UInt8]]
    /// What its `.PKGINFO` depends on and replaces; its index record says the same by default.
    var depends: [String] = []
    var replaces: [String] = []

    /// The whole `.apk`.
    var bytes: [UInt8] { signatureMember + controlMember + dataMembers.flatMap { $0 } }

    /// `C:`: SHA-1 of the control member as stored.
    var checksum: String { PackageIdentity.string(DigestAlgorithm.sha1.hash(controlMember)) }

    /// The 40 hex digits the cache names this package's files by.
    var cacheName: String { DigestAlgorithm.sha1.hash(controlMember).hex }

    var fileName: String { "\(name)-\(version).apk" }

    /// The index record apk would write for it.
    func record(depends: [String]? = nil, provides: [String] = [], replaces: [String]? = nil) throws -> PackageInfo {
        let depends = depends ?? self.depends
        let replaces = replaces ?? self.replaces
        return PackageInfo(name: name, version: version, arch: "x86_64", checksum: checksum, fileSize: UInt64(bytes.count),
                    installedSize: 1, description: "attack suite package", license: "MIT", origin: name,
                    depends: try Dependency.parseList(depends.joined(separator: " ")),
                    provides: try Dependency.parseList(provides.joined(separator: " ")),
                    replaces: try Dependency.parseList(replaces.joined(separator: " ")))
    }
}

/// Builds hostile (and benign) packages, indexes and configs with the APK and Archive writers.
enum Craft {
    static func gzip(_ bytes: [UInt8], level: Int = 6) throws -> [UInt8] {
        let memory = MemorySink()
        let writer = try GzipWriter(sink: memory, level: level)
        try writer.write(bytes)
        try writer.finish()
        return memory.bytes
    }

    /// A tar of `items`; names are written as given (unsafe ones too).
    static func tar(_ items: [DataItem], ending: TarWriter.Ending) throws -> [UInt8] {
        let memory = MemorySink()
        let writer = TarWriter(sink: memory, refusesUnsafeNames: false)
        for item in items {
            try writer.append(item.entry, content: item.content)
        }
        try writer.finish(ending)
        return memory.bytes
    }

    /// A package signed by `key` whose `.PKGINFO` carries `pkginfoExtra` lines and a datahash over
    /// `dataMembers` (by default one member holding `items`).
    static func package(name: String, version: String = "1.0-r0", items: [DataItem] = [], dataMembers: [[UInt8]]? = nil,
                        depends: [String] = [], replaces: [String] = [], pkginfoExtra: String = "",
                        controlExtra: [DataItem] = [], key: SigningKey = AttackKeys.trusted) throws -> CraftedPackage {
        let data = try dataMembers ?? [gzip(tar(items, ending: .endBlocks))]
        let hash = DigestAlgorithm.sha256.hash(data.flatMap { $0 }).hex
        var pkginfo = "pkgname = \(name)\npkgver = \(version)\narch = x86_64\nsize = 1\npkgdesc = attack suite package\nlicense = MIT\norigin = \(name)\n"
        for dependency in depends { pkginfo += "depend = \(dependency)\n" }
        for replaced in replaces { pkginfo += "replaces = \(replaced)\n" }
        pkginfo += pkginfoExtra
        pkginfo += "datahash = \(hash)\n"
        let control = try gzip(tar([DataItem.bytes(".PKGINFO", Array(pkginfo.utf8))] + controlExtra, ending: .cut))
        return CraftedPackage(name: name, version: version, signatureMember: try signatureMember(over: control, key: key),
                              controlMember: control, dataMembers: data, depends: depends, replaces: replaces)
    }

    /// The `.SIGN.RSA.<key>` member over `signed`.
    static func signatureMember(over signed: [UInt8], key: SigningKey) throws -> [UInt8] {
        let signature = try key.signature(for: signed, algorithm: .rsaSHA1)
        return try gzip(tar([DataItem.bytes(key.entryName(.rsaSHA1), signature)], ending: .cut))
    }

    /// A signed `APKINDEX.tar.gz` listing `records`.
    static func index(_ records: [PackageInfo], key: SigningKey? = AttackKeys.trusted) throws -> [UInt8] {
        let body = try APKIndexWriter.unsignedArchive(packages: records, description: "attack", modificationTime: 0)
        guard let key else { return body }
        return try signatureMember(over: body, key: key) + body
    }

    /// A signed index whose APKINDEX is `text` exactly as given.
    static func index(text: String, key: SigningKey = AttackKeys.trusted) throws -> [UInt8] {
        let memory = MemorySink()
        let gzip = try GzipWriter(sink: memory, level: 9)
        let tar = TarWriter(sink: gzip, format: .gnu)
        let bytes = Array(text.utf8)
        try tar.append(TarEntry(name: "APKINDEX", size: Int64(bytes.count)), content: bytes)
        try tar.finish(.endBlocks)
        try gzip.finish()
        return try signatureMember(over: memory.bytes, key: key) + memory.bytes
    }

    /// The usual small directory skeleton a package installs into.
    static let skeleton: [DataItem] = [.directory("usr"), .directory("usr/share")]
}

/// Tar blocks written by hand, for what no well-behaved writer produces.
enum RawTar {
    /// A ustar header block for `name` (ASCII, under 100 bytes) of `kind` with `size` bytes.
    static func header(name: String, typeFlag: UInt8, size: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { block[offset + index] = byte }
        }
        put(name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        put(String(format: "%011o", size), at: 124)
        put("00000000000", at: 136)
        block[156] = typeFlag
        put("ustar", at: 257)
        put("00", at: 263)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o", sum), at: 148)
        block[154] = 0
        return block
    }

    /// `content` padded to whole blocks.
    static func padded(_ content: [UInt8]) -> [UInt8] {
        content + [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }

    /// A PAX extended header (`x`) carrying `key=value` (any bytes, NUL included), then a
    /// regular file entry with `content` whose ustar name is `placeholder`.
    static func paxFile(key: String, value: [UInt8], placeholder: String, content: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [0x0a]
        var length = body.count + 1
        while String(length).utf8.count + body.count != length { length = String(length).utf8.count + body.count }
        let record = Array(String(length).utf8) + body
        return header(name: "PaxHeader/\(placeholder)", typeFlag: UInt8(ascii: "x"), size: record.count) + padded(record)
            + header(name: placeholder, typeFlag: UInt8(ascii: "0"), size: content.count) + padded(content)
    }
}

/// Byte-level damage.
enum Corrupt {
    /// Flips one bit in the middle of `bytes`.
    static func flip(_ bytes: [UInt8], at fraction: Double = 0.5) -> [UInt8] {
        var copy = bytes
        let position = min(copy.count - 1, max(0, Int(Double(copy.count) * fraction)))
        copy[position] ^= 0x01
        return copy
    }
}
