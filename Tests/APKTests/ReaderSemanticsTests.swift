import APK
import Archive
import DistillCrypto
import Foundation
import Testing
import TestSupport

/// apk-tools' rules that no fixture exercises, on hand-made packages.
@Suite struct ReaderSemanticsTests {
    static func read(_ bytes: [UInt8], keyring: Keyring = Craft.keyring) throws -> APKFile {
        try APKFile.read(from: MemorySource(bytes), name: "crafted.apk", options: APKFile.Options(keyring: keyring))
    }

    static func dataTar() throws -> [UInt8] {
        try Craft.tar([(TarEntry(name: "usr", kind: .directory, mode: 0o755), []), (TarEntry(name: "usr/file"), Array("content\n".utf8))],
                      ending: .endBlocks)
    }

    /// A legacy package (no `datahash`): the signature and `C:` cover control + data.
    @Test func legacyPackageWithoutDatahash() throws {
        let control = try Craft.controlMember("pkgname = old\npkgver = 1.0-r0\narch = x86_64\n")
        let data = try Craft.gzip(try Self.dataTar())
        let package = try Craft.signatureMember(over: control + data) + control + data
        let file = try Self.read(package)
        #expect(file.verdict == .ok)
        #expect(file.dataHash == .absent)
        #expect(file.identity == PackageIdentity.string(DigestAlgorithm.sha1.hash(control + data)))
        #expect(file.warnings.contains { $0.contains("no datahash") })

        let otherData = try Craft.gzip(try Self.dataTar(), level: 1)
        let tampered = try Self.read(Array(package.dropLast(data.count)) + otherData)
        #expect(tampered.verdict == .badSignature)
    }

    /// apk uses the first signature whose key it has, and only that one: a later good signature
    /// does not rescue a bad first one; unknown keys and DSA signatures are passed over.
    @Test func firstUsableSignatureDecides() throws {
        let package = try Craft.package(dataTar: try Self.dataTar(), key: nil)
        let control = try Craft.members(package)[0]
        let data = Array(package.dropFirst(control.count))
        let good = try Craft.key.signature(for: control, algorithm: .rsaSHA256)
        var bad = good
        bad[10] ^= 1
        func member(_ entries: [(String, [UInt8])]) throws -> [UInt8] {
            try Craft.gzip(try Craft.tar(entries.map { (TarEntry(name: $0.0), $0.1) }, ending: .cut))
        }
        let name = Craft.key.keyName
        let unknownThenGood = try member([(".SIGN.RSA.unknown.rsa.pub", [1, 2, 3]), (".SIGN.DSA.\(name)", [4, 5]),
                                          (".SIGN.RSA256.\(name)", good)])
        let file = try Self.read(unknownThenGood + control + data)
        #expect(file.verdict == .ok)
        #expect(file.signature == .verified(Signer(keyName: name, algorithm: .rsaSHA256)))
        #expect(file.signatures.map(\.algorithm) == [.rsaSHA1, .dsa, .rsaSHA256])

        let badThenGood = try member([(".SIGN.RSA256.\(name)", bad), (".SIGN.RSA256.\(name)", good)])
        #expect(try Self.read(badThenGood + control + data).verdict == .badSignature)

        let dsaOnly = try member([(".SIGN.DSA.\(name)", good)])
        let dsa = try Self.read(dsaOnly + control + data)
        #expect(dsa.verdict == .untrusted)

        // Signature members may be several; the control member follows the last one.
        let split = try member([(".SIGN.RSA.unknown.rsa.pub", [1])]) + member([(".SIGN.RSA256.\(name)", good)])
        let twoMembers = try Self.read(split + control + data)
        #expect(twoMembers.verdict == .ok)
        #expect(twoMembers.signatureSection?.length == Int64(split.count))
    }

    /// apk skips data names starting with `.` and `.keep_*` files; both are still in the
    /// expanded tar, but not in the entry list.
    @Test func skippedDataEntries() throws {
        let data = try Craft.tar([
            (TarEntry(name: "etc", kind: .directory, mode: 0o755), []),
            (TarEntry(name: "etc/.keep_etc"), []),
            (TarEntry(name: ".hidden"), Array("x".utf8)),
            (TarEntry(name: "etc/.keep_"), []),
            (TarEntry(name: "etc/.profile"), Array("y".utf8)),
        ], ending: .endBlocks)
        let file = try Self.read(try Craft.package(dataTar: data))
        #expect(file.dataEntries.map(\.path) == ["etc", "etc/.keep_", "etc/.profile"])
        #expect(file.skippedDataEntries == ["etc/.keep_etc", ".hidden"])
    }

    /// Entry offsets point into the expanded tar, which is exactly the decompressed data member.
    @Test func expandedTarIsTheDataMember() throws {
        let dataTar = try Self.dataTar()
        let expanded = MemorySink()
        let file = try APKFile.read(from: MemorySource(try Craft.package(dataTar: dataTar)), name: "x.apk",
                                    options: APKFile.Options(keyring: Craft.keyring), expandingDataTo: expanded)
        #expect(expanded.bytes == dataTar)
        let entry = file.dataEntries[1]
        #expect(entry.headerOffset == 512)
        #expect(entry.contentOffset == 1024)
        #expect(Array(expanded.bytes[1024..<(1024 + 8)]) == Array("content\n".utf8))
    }

    /// Scripts come out with their bytes; `.INSTALL` is ignored with a warning, as apk does.
    @Test func scriptsAreKept() throws {
        let data = try Craft.gzip(try Self.dataTar())
        let pkginfo = "pkgname = s\npkgver = 1-r0\ndatahash = \(DigestAlgorithm.sha256.hash(data).hex)\n"
        let control = try Craft.gzip(try Craft.tar([
            (TarEntry(name: ".PKGINFO"), Array(pkginfo.utf8)),
            (TarEntry(name: ".pre-install", mode: 0o755), Array("#!/bin/sh\npre\n".utf8)),
            (TarEntry(name: ".INSTALL", mode: 0o755), Array("#!/bin/sh\nold\n".utf8)),
            (TarEntry(name: ".trigger", mode: 0o755), Array("#!/bin/sh\ntrigger\n".utf8)),
        ], ending: .cut))
        let file = try Self.read(control + data)
        #expect(file.scripts == [APKFile.Script(kind: .preInstall, content: Array("#!/bin/sh\npre\n".utf8)),
                                 APKFile.Script(kind: .trigger, content: Array("#!/bin/sh\ntrigger\n".utf8))])
        #expect(file.warnings.contains("deprecated .INSTALL script ignored"))
    }

    /// A provide apk cannot parse is dropped with a warning, not fatal (melange writes some).
    @Test func unparsableProvideIsDropped() throws {
        let file = try Self.read(try Craft.package(dataTar: try Self.dataTar(),
                                                   extraPKGINFO: "provides = so:libx.so.0unstable=0unstable\nprovides = cmd:x=1\n"))
        #expect(file.info.provides == [try Dependency(parsing: "cmd:x=1")])
        #expect(file.warnings.contains { $0.contains("0unstable") })
    }
}
