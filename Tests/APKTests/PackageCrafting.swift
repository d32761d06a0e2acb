import APK
import Archive
import DistillCrypto
import Foundation
import TestSupport

/// Building blocks for hand-made packages and indexes: the tests take real ones apart and put
/// them back together with one part changed.
enum Craft {
    /// One RSA key for every test that only needs "some key" (generating one costs ~100 ms).
    static let key: SigningKey = {
        let privateKey = try! RSAPrivateKey.generate(bitCount: 2048)
        return SigningKey(privateKey: privateKey, keyName: "distill-test.rsa.pub")
    }()

    /// A second key, for signatures by the wrong key.
    static let otherKey: SigningKey = {
        let privateKey = try! RSAPrivateKey.generate(bitCount: 2048)
        return SigningKey(privateKey: privateKey, keyName: "distill-test.rsa.pub")
    }()

    /// A keyring trusting `key`.
    static var keyring: Keyring {
        var keyring = Keyring()
        keyring.add(key.publicKey, named: key.keyName)
        return keyring
    }

    static func gzip(_ bytes: [UInt8], level: Int = 9) throws -> [UInt8] {
        let memory = MemorySink()
        let writer = try GzipWriter(sink: memory, level: level)
        try writer.write(bytes)
        try writer.finish()
        return memory.bytes
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try GzipReader(source: MemorySource(bytes)).readAll(limit: 1 << 30)
    }

    /// A tar of `entries` (content given for regular files).
    static func tar(_ entries: [(TarEntry, [UInt8])], ending: TarWriter.Ending, safeNamesOnly: Bool = true) throws -> [UInt8] {
        let memory = MemorySink()
        let writer = TarWriter(sink: memory, refusesUnsafeNames: safeNamesOnly)
        for (entry, content) in entries {
            var entry = entry
            entry.size = Int64(content.count)
            try writer.append(entry, content: content)
        }
        try writer.finish(ending)
        return memory.bytes
    }

    /// The gzip members of a file, as stored.
    static func members(_ bytes: [UInt8]) throws -> [[UInt8]] {
        final class Boundaries: GzipMemberObserver {
            var ranges: [Range<Int>] = []
            func gzipReaderDidEnd(_ member: GzipMember) throws {
                ranges.append(Int(member.compressedOffset)..<Int(member.compressedOffset + member.compressedSize))
            }
        }
        let boundaries = Boundaries()
        let reader = try GzipReader(source: MemorySource(bytes), observer: boundaries)
        try reader.drainToEnd()
        return boundaries.ranges.map { Array(bytes[$0]) }
    }

    /// A signature member over `signed`, with the signature bytes passed through `alter`.
    static func signatureMember(over signed: [UInt8], key: SigningKey = Craft.key, algorithm: SignatureAlgorithm = .rsaSHA1,
                                alter: ([UInt8]) -> [UInt8] = { $0 }) throws -> [UInt8] {
        let signature = alter(try key.signature(for: signed, algorithm: algorithm))
        let entry = TarEntry(name: key.entryName(algorithm))
        return try gzip(try tar([(entry, signature)], ending: .cut))
    }

    /// A control member holding `pkginfo` (and nothing else).
    static func controlMember(_ pkginfo: String) throws -> [UInt8] {
        try gzip(try tar([(TarEntry(name: ".PKGINFO"), Array(pkginfo.utf8))], ending: .cut))
    }

    /// A complete package from a data tar: `.PKGINFO` with a matching datahash, signed by `key`
    /// (unsigned when nil).
    static func package(name: String = "crafted", dataTar: [UInt8], key: SigningKey? = Craft.key,
                        extraPKGINFO: String = "") throws -> [UInt8] {
        let data = try gzip(dataTar)
        let pkginfo = "pkgname = \(name)\npkgver = 1.0-r0\narch = x86_64\nsize = 1\n\(extraPKGINFO)datahash = \(DigestAlgorithm.sha256.hash(data).hex)\n"
        let control = try controlMember(pkginfo)
        let signature = try key.map { try signatureMember(over: control, key: $0) } ?? []
        return signature + control + data
    }

    /// A directory tree to pack: files, an executable, a setuid file, symlinks, a hard link, an
    /// empty directory and nested directories.
    static func makeTree(in scratch: ScratchDirectory, named name: String = "root") throws -> String {
        let root = scratch.url.appendingPathComponent(name)
        let manager = FileManager.default
        for folder in ["usr/bin", "usr/share/doc/demo", "etc", "var/empty"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try Data("#!/bin/sh\necho hello\n".utf8).write(to: root.appendingPathComponent("usr/bin/hello"))
        try manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.appendingPathComponent("usr/bin/hello").path)
        try Data("setuid\n".utf8).write(to: root.appendingPathComponent("usr/bin/su-like"))
        try manager.setAttributes([.posixPermissions: 0o4755], ofItemAtPath: root.appendingPathComponent("usr/bin/su-like").path)
        try manager.createSymbolicLink(atPath: root.appendingPathComponent("usr/bin/hi").path, withDestinationPath: "hello")
        try Data("key = value\n".utf8).write(to: root.appendingPathComponent("etc/demo.conf"))
        try Data(repeating: 0x41, count: 100_000).write(to: root.appendingPathComponent("usr/share/doc/demo/README"))
        try manager.linkItem(atPath: root.appendingPathComponent("usr/share/doc/demo/README").path,
                             toPath: root.appendingPathComponent("usr/share/doc/demo/README.hardlink").path)
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root.appendingPathComponent("var/empty").path)
        return root.path
    }

    /// Metadata for `pack`.
    static func info(name: String = "demo") throws -> PackageInfo {
        PackageInfo(name: name, version: "1.2.3-r4", arch: "x86_64", description: "a demo package",
                    url: "https://example.invalid/", license: "MIT", origin: name,
                    depends: try Dependency.parseList("so:libc.musl-x86_64.so.1 /bin/sh"),
                    provides: try Dependency.parseList("cmd:hello=1.2.3-r4"))
    }
}
