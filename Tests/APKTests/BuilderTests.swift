import APK
import Archive
import DistillCrypto
import Foundation
import Testing
import TestSupport

@Suite struct BuilderTests {
    static let epoch: Int64 = 1_700_000_000

    static func pack(_ scratch: ScratchDirectory, algorithm: SignatureAlgorithm = .rsaSHA1, output: String = "demo.apk",
                     tree: String = "root", scripts: [APKFile.Script] = []) throws -> APKBuilder.Result {
        let root = try Craft.makeTree(in: scratch, named: tree)
        let options = APKBuilder.Options(info: try Craft.info(), scripts: scripts, modificationTime: epoch, key: Craft.key,
                                         signatureAlgorithm: algorithm)
        return try APKBuilder.pack(directory: root, options: options, to: scratch.path(output))
    }

    /// What `pack` writes reads back verified, with the layout abuild gives a package: parents
    /// before children, root-owned entries dated SOURCE_DATE_EPOCH, per-file SHA-1 checksums,
    /// modes kept (setuid included), a hard link for the second name of a file, scripts kept.
    @Test(arguments: [SignatureAlgorithm.rsaSHA1, .rsaSHA256])
    func packedPackageReadsBackVerified(_ algorithm: SignatureAlgorithm) throws {
        let scratch = try ScratchDirectory()
        let script = APKFile.Script(kind: .postInstall, content: Array("#!/bin/sh\necho installed\n".utf8))
        let result = try Self.pack(scratch, algorithm: algorithm, scripts: [script])
        let expanded = MemorySink()
        let file = try APKFile.read(path: scratch.path("demo.apk"), options: APKFile.Options(keyring: Craft.keyring),
                                    expandingDataTo: expanded)
        #expect(file.verdict == .ok)
        #expect(file.signature == .verified(Signer(keyName: "distill-test.rsa.pub", algorithm: algorithm)))
        #expect(file.dataHash == .matches)
        #expect(file.identity == result.info.checksum)
        #expect(file.info.fileSize == result.info.fileSize)
        #expect(file.info.fileSize == UInt64(try scratch.read("demo.apk").count))
        #expect(file.scripts == [script])
        #expect(file.info.name == "demo")
        #expect(file.info.buildTime == Self.epoch)
        #expect(file.info.depends == (try Dependency.parseList("so:libc.musl-x86_64.so.1 /bin/sh")))
        // Installed size: regular files, the hard-linked one counted once.
        #expect(file.info.installedSize == UInt64(21 + 7 + 12 + 100_000))

        let paths = file.dataEntries.map(\.path)
        #expect(paths == ["etc", "etc/demo.conf", "usr", "usr/bin", "usr/bin/hello", "usr/bin/hi", "usr/bin/su-like",
                          "usr/share", "usr/share/doc", "usr/share/doc/demo", "usr/share/doc/demo/README",
                          "usr/share/doc/demo/README.hardlink", "var", "var/empty"])
        for entry in file.dataEntries {
            #expect(entry.uid == 0 && entry.gid == 0 && entry.userName == "root" && entry.groupName == "root")
            #expect(entry.modificationTime == Self.epoch)
            let parent = entry.path.split(separator: "/").dropLast().joined(separator: "/")
            if !parent.isEmpty { #expect(paths.firstIndex(of: parent)! < paths.firstIndex(of: entry.path)!) }
            switch entry.kind {
            case .regular:
                let start = Int(entry.contentOffset)
                let content = expanded.bytes[start..<start + Int(entry.size)]
                #expect(entry.checksum?.bytes == DigestAlgorithm.sha1.hash(content).bytes)
            case .symbolicLink:
                #expect(entry.checksum?.bytes == DigestAlgorithm.sha1.hash(Array(entry.linkTarget.utf8)).bytes)
            default:
                #expect(entry.checksum == nil)
            }
        }
        let byPath = Dictionary(uniqueKeysWithValues: file.dataEntries.map { ($0.path, $0) })
        #expect(byPath["usr/bin/su-like"]?.mode == 0o4755)
        #expect(byPath["usr/bin/hello"]?.mode == 0o755)
        #expect(byPath["var/empty"]?.mode == 0o700)
        #expect(byPath["usr/bin/hi"]?.kind == .symbolicLink && byPath["usr/bin/hi"]?.linkTarget == "hello")
        #expect(byPath["usr/share/doc/demo/README.hardlink"]?.kind == .hardLink)
        #expect(byPath["usr/share/doc/demo/README.hardlink"]?.linkTarget == "usr/share/doc/demo/README")
    }

    /// The same content and SOURCE_DATE_EPOCH give the same bytes, whatever the output is called
    /// and whenever the files were made on disk.
    @Test func packingIsReproducible() throws {
        let scratch = try ScratchDirectory()
        _ = try Self.pack(scratch, output: "one.apk", tree: "first")
        Thread.sleep(forTimeInterval: 1.1)
        _ = try Self.pack(scratch, output: "two.apk", tree: "second")
        #expect(try scratch.read("one.apk") == scratch.read("two.apk"))
        // Nothing but the two packages (and the trees) is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).sorted() == ["first", "one.apk", "second", "two.apk"])
    }

    /// A package with nothing in it is virtual (size 0); with scripts only it is 1, as abuild
    /// counts it, so apk runs them.
    @Test func emptyPackageSizes() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let meta = APKBuilder.Options(info: try Craft.info(name: "meta"), modificationTime: 0, key: nil)
        #expect(try APKBuilder.pack(directory: scratch.path("empty"), options: meta, to: scratch.path("meta.apk")).info.installedSize == 0)
        var scripted = meta
        scripted.scripts = [APKFile.Script(kind: .postInstall, content: Array("#!/bin/sh\n".utf8))]
        #expect(try APKBuilder.pack(directory: scratch.path("empty"), options: scripted, to: scratch.path("s.apk")).info.installedSize == 1)
        let unsigned = try APKFile.read(path: scratch.path("meta.apk"))
        #expect(unsigned.verdict == .unsigned)
        #expect(unsigned.dataHash == .matches)
        #expect(unsigned.signatureSection == nil)
    }

    /// `pack` refuses what apk would silently drop or misread.
    @Test func refusesWhatApkWouldNotInstall() throws {
        let scratch = try ScratchDirectory()
        let root = try Craft.makeTree(in: scratch)
        try Data("x".utf8).write(to: URL(fileURLWithPath: root + "/.hidden"))
        let options = APKBuilder.Options(info: try Craft.info(), modificationTime: 0, key: Craft.key)
        #expect { try APKBuilder.pack(directory: root, options: options, to: scratch.path("x.apk")) } throws: { error in
            (error as? APKError)?.message.contains("'.hidden'") == true
        }
        var badVersion = options
        badVersion.info.version = "1.0-x"
        #expect { try APKBuilder.pack(directory: scratch.path("root/usr"), options: badVersion, to: scratch.path("x.apk")) } throws: {
            ($0 as? APKError)?.kind == .invalidVersion
        }
        var injected = options
        injected.info.description = "one\ndatahash = 0"
        #expect { try APKBuilder.pack(directory: scratch.path("root/usr"), options: injected, to: scratch.path("x.apk")) } throws: {
            ($0 as? APKError)?.kind == .malformedPackageInfo
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("x.apk")))
    }
}

/// Each of the three parts of a packed package, changed, is caught with the right verdict.
@Suite struct TamperTests {
    static func packed() throws -> (ScratchDirectory, [[UInt8]]) {
        let scratch = try ScratchDirectory()
        _ = try BuilderTests.pack(scratch)
        return (scratch, try Craft.members(try scratch.read("demo.apk")))
    }

    static func read(_ bytes: [UInt8]) throws -> APKFile {
        try APKFile.read(from: MemorySource(bytes), name: "tampered.apk", options: APKFile.Options(keyring: Craft.keyring))
    }

    @Test func untouchedPackageIsOK() throws {
        let (_, members) = try Self.packed()
        #expect(members.count == 3)
        #expect(try Self.read(members.joined().map { $0 }).verdict == .ok)
    }

    /// One flipped bit in the signature bytes (re-wrapped in a valid member).
    @Test func alteredSignature() throws {
        let (_, members) = try Self.packed()
        let signature = try Craft.signatureMember(over: members[1]) { bytes in
            var bytes = bytes
            bytes[100] ^= 0x01
            return bytes
        }
        let file = try Self.read(signature + members[1] + members[2])
        #expect(file.verdict == .badSignature)
        #expect(file.dataHash == .matches)
        // A signature by another key under the trusted name is just as bad.
        let forged = try Craft.signatureMember(over: members[1], key: Craft.otherKey)
        #expect(try Self.read(forged + members[1] + members[2]).verdict == .badSignature)
    }

    /// The same control tar compressed differently: the signature and `C:` no longer match.
    @Test func alteredControl() throws {
        let (_, members) = try Self.packed()
        let recompressed = try Craft.gzip(try Craft.gunzip(members[1]), level: 1)
        #expect(recompressed != members[1])
        let file = try Self.read(members[0] + recompressed + members[2])
        #expect(file.verdict == .badSignature)
        #expect(file.identity == PackageIdentity.string(DigestAlgorithm.sha1.hash(recompressed)))
        #expect(file.dataHash == .matches)
        // Installing from an index that lists the original `C:` fails on the checksum.
        let original = PackageIdentity.string(DigestAlgorithm.sha1.hash(members[1]))
        #expect { try APKFile.read(from: MemorySource(members[0] + recompressed + members[2]), name: "t.apk",
                                   options: .installing(checksum: original)) } throws: {
            ($0 as? APKError)?.kind == .checksumMismatch
        }
    }

    /// The same data tar compressed differently: the signature holds, datahash does not.
    @Test func alteredData() throws {
        let (_, members) = try Self.packed()
        let recompressed = try Craft.gzip(try Craft.gunzip(members[2]), level: 1)
        let file = try Self.read(members[0] + members[1] + recompressed)
        #expect(file.verdict == .badDataHash)
        #expect(file.signature == .verified(Signer(keyName: Craft.key.keyName, algorithm: .rsaSHA1)))
        // Verifying while installing throws at the end, after the data was seen.
        var options = APKFile.Options(keyring: Craft.keyring)
        options.stopsAtFirstFailure = true
        #expect { try APKFile.read(from: MemorySource(members[0] + members[1] + recompressed), name: "t.apk", options: options) } throws: {
            ($0 as? APKError)?.kind == .badDataHash
        }
    }

    /// Without the signature member the package is unsigned; its identity does not change.
    @Test func removedSignature() throws {
        let (_, members) = try Self.packed()
        let file = try Self.read(members[1] + members[2])
        #expect(file.verdict == .unsigned)
        #expect(file.identity == (try Self.read(members.joined().map { $0 })).identity)
    }

    /// A flipped byte inside compressed data is a broken archive, not a verdict.
    @Test func corruptedDeflateStream() throws {
        let (_, members) = try Self.packed()
        var data = members[2]
        data[data.count / 2] ^= 0xff
        #expect { try Self.read(members[0] + members[1] + data) } throws: { ($0 as? APKError)?.kind == .malformedPackage }
    }
}

@Suite struct IndexWriterTests {
    /// An index built from packed packages verifies, lists them sorted with their `C:` and
    /// sizes, carries the description, and uses the GNU tar layout apk writes.
    @Test(arguments: [SignatureAlgorithm.rsaSHA1, .rsaSHA256])
    func builtIndexReadsBack(_ algorithm: SignatureAlgorithm) throws {
        let scratch = try ScratchDirectory()
        var infos: [PackageInfo] = []
        for name in ["zeta", "Alpha", "alpha", "mid"] {
            try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent(name + "/usr"), withIntermediateDirectories: true)
            let options = APKBuilder.Options(info: try Craft.info(name: name), modificationTime: 1, key: Craft.key)
            infos.append(try APKBuilder.pack(directory: scratch.path(name), options: options, to: scratch.path(name + ".apk")).info)
        }
        try APKIndexWriter.write(packages: infos, description: "test repo", modificationTime: 1_700_000_000, key: Craft.key,
                                 algorithm: algorithm, to: scratch.path("APKINDEX.tar.gz"))
        let index = try APKIndexFile.read(path: scratch.path("APKINDEX.tar.gz"), keyring: Craft.keyring)
        #expect(index.signature == .verified([Signer(keyName: Craft.key.keyName, algorithm: algorithm)]))
        #expect(index.description == "test repo")
        #expect(index.packages.map(\.name) == ["Alpha", "alpha", "mid", "zeta"])
        for package in index.packages {
            let file = try APKFile.read(path: scratch.path(package.name + ".apk"), options: .installing(checksum: package.checksum!))
            var expected = file.info
            expected.dataHash = nil  // .PKGINFO only; an index record has no datahash
            #expect(package == expected)
        }

        let members = try Craft.members(try scratch.read("APKINDEX.tar.gz"))
        #expect(members.count == 2)
        let body = try Craft.gunzip(members[1])
        let tar = TarReader(source: MemorySource(body))
        var names: [String] = []
        while let entry = try tar.next() {
            names.append(entry.name)
            #expect(entry.mode == 0o644 && entry.userName == "root" && entry.groupName == "root")
            #expect(entry.modificationTime == 1_700_000_000)
        }
        #expect(names == ["DESCRIPTION", "APKINDEX"])
        #expect(Array(body[257..<265]) == Array("ustar  \0".utf8))
        #expect(tar.ending == .endBlocks)
    }
}
