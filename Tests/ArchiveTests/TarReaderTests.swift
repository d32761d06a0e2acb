import Archive
import Foundation
import Testing
import TestSupport

@Suite struct TarReaderFixtureTests {
    /// Every fixture, read as one tar stream across its gzip members, matches Python's tarfile
    /// field by field and GNU tar's name listing.
    @Test(arguments: GzipFixtures.all)
    func listingMatchesPythonAndGNUTar(_ path: String) throws {
        let file = Fixtures.url(path).path
        let ours = try TarOracle.oursGzip(file)
        #expect(!ours.isEmpty)
        let python = try TarOracle.list(file)
        #expect(ours.count == python.count)
        for (mine, theirs) in zip(ours, python) where mine != theirs {
            Issue.record("\(path): ours \(mine) vs python \(theirs)")
        }
        let reader = TarReader(source: try GzipReader(source: FileDescriptorSource(path: file)))
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.name) }
        let gnu = try Tool.output(["tar", "--quoting-style=literal", "-tzf", file])
        #expect(names == String(decoding: gnu, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    @Test func apkLayoutAndPerFileChecksums() throws {
        let path = Fixtures.url("local-melange-tzdata/x86_64/tzdata-2023c-r0.apk").path
        let gzip = try GzipReader(source: FileDescriptorSource(path: path))
        let reader = TarReader(source: gzip)
        let first = try #require(try reader.next())
        #expect(first.name == ".SIGN.RSA.local-melange.rsa.pub")
        #expect(first.size == 512)  // an RSA-4096 signature
        #expect(try reader.readContent(limit: 4096).count == 512)
        let second = try #require(try reader.next())
        #expect(second.name == ".PKGINFO")
        let pkginfo = String(decoding: try reader.readContent(limit: 1 << 20), as: UTF8.self)
        #expect(pkginfo.contains("pkgname = tzdata"))

        // Dump every checksummed file's content and let Python hash the slices.
        let scratch = try Scratch()
        let dumpPath = scratch.file("contents").path
        let dump = try FileDescriptorSink(creatingFileAt: dumpPath)
        var manifest: [[String]] = []
        var offset: Int64 = 0
        var regularFiles = 0
        var checksums: [String: String] = [:]
        var hardLinks = 0
        while let entry = try reader.next() {
            #expect(!entry.name.hasPrefix("."))
            guard let checksum = entry.paxRecords["APK-TOOLS.checksum.SHA1"] else {
                #expect(entry.kind != .regular && entry.kind != .symbolicLink, "\(entry.name) has no checksum")
                continue
            }
            checksums[entry.name] = checksum
            if entry.kind == .hardLink {
                // melange records the target's checksum on hard links too.
                #expect(checksums[entry.linkName] == checksum, "\(entry.name)")
                hardLinks += 1
                continue
            }
            let length: Int64
            if entry.kind == .symbolicLink {
                try dump.write(entry.linkName)
                length = Int64(entry.linkName.utf8.count)
            } else {
                regularFiles += 1
                length = try reader.copyContent(to: dump)
                #expect(length == entry.size)
            }
            manifest.append([String(offset), String(length), checksum])
            offset += length
        }
        try dump.close()
        #expect(reader.ending == .endBlocks)
        #expect(regularFiles == 707)
        #expect(hardLinks == 460)
        let manifestPath = try scratch.write(Array(try JSONSerialization.data(withJSONObject: manifest)), to: "manifest.json").path
        let check = #"""
        import hashlib, json, sys
        data = open(sys.argv[1], "rb").read()
        bad = [m for m in json.load(open(sys.argv[2])) if hashlib.sha1(data[int(m[0]):int(m[0]) + int(m[1])]).hexdigest() != m[2]]
        print(len(bad))
        """#
        let result = try Tool.output(["python3", "-c", check, dumpPath, manifestPath])
        #expect(String(decoding: result, as: UTF8.self) == "0\n")
        // The end blocks were seen; the rest of the gzip stream (record padding) still verifies.
        try gzip.drainToEnd()
    }

    @Test func contentOffsetsPointIntoTheDecompressedStream() throws {
        let path = Fixtures.url("alpine/packages/x86_64/curl-7.83.1-r1.apk").path
        let whole = try Tool.output(["gzip", "-dc", path])
        let reader = TarReader(source: try GzipReader(source: FileDescriptorSource(path: path)))
        var checked = 0
        while let entry = try reader.next() {
            guard entry.kind == .regular, entry.size > 0 else { continue }
            let content = try reader.readContent(limit: 8 << 20)
            let start = Int(entry.contentOffset)
            #expect(Array(whole[start..<start + content.count]) == content)
            #expect(entry.headerOffset < entry.contentOffset)
            checked += 1
        }
        #expect(checked >= 3)
    }

    @Test func indexHasGNUHeadersAndUnknownRecordsAreKept() throws {
        let path = Fixtures.url("alpine/v3.16-x86_64-main/APKINDEX.tar.gz").path
        let reader = TarReader(source: try GzipReader(source: FileDescriptorSource(path: path)))
        var names: [String] = []
        while let entry = try reader.next() {
            names.append(entry.name)
            if entry.name == "APKINDEX" {
                #expect(entry.userName == "root")
                let text = try reader.readContent(limit: 16 << 20)
                #expect(text.starts(with: Array("C:Q1".utf8)))
            }
        }
        #expect(names.first?.hasPrefix(".SIGN.RSA.") == true)
        #expect(names.suffix(2) == ["DESCRIPTION", "APKINDEX"])
    }
}

/// Archives written by GNU tar in each of its formats.
@Suite struct TarReaderGNUTarTests {
    /// A tree with every entry type GNU tar can archive here.
    static func makeTree(in root: URL, longNames: Bool) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("etc/apk"), withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: root.appendingPathComponent("etc/hostname"))
        try Data().write(to: root.appendingPathComponent("etc/empty"))
        try Data(TestData.semiCompressible(count: 70_000)).write(to: root.appendingPathComponent("etc/apk/blob"))
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("etc/link").path, withDestinationPath: "../usr/lib/os-release")
        try fm.linkItem(at: root.appendingPathComponent("etc/hostname"), to: root.appendingPathComponent("etc/hardlink"))
        try Tool.output(["mkfifo", root.appendingPathComponent("etc/pipe").path])
        try Tool.output(["mknod", root.appendingPathComponent("etc/null").path, "c", "1", "3"])
        try Tool.output(["mknod", root.appendingPathComponent("etc/loop9").path, "b", "7", "9"])
        try Tool.output(["chmod", "4755", root.appendingPathComponent("etc/hostname").path])
        try fm.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        try Tool.output(["chmod", "1777", root.appendingPathComponent("tmp").path])
        // 3 x 60-character directories: over 100 bytes but splittable for ustar's prefix.
        let deep = (0..<3).map { "directory-\($0)-" + String(repeating: "d", count: 47) }.joined(separator: "/")
        try fm.createDirectory(at: root.appendingPathComponent(deep), withIntermediateDirectories: true)
        try Data("deep\n".utf8).write(to: root.appendingPathComponent(deep + "/file"))
        if longNames {
            // A 180-character file name: no split works.
            let long = String(repeating: "n", count: 180)
            try Data("long\n".utf8).write(to: root.appendingPathComponent("etc/" + long))
            try fm.createSymbolicLink(atPath: root.appendingPathComponent("etc/longlink").path,
                                      withDestinationPath: "/" + String(repeating: "t", count: 150))
        }
        try Tool.output(["touch", "-h", "-d", "@1700000000", root.path] + (try fm.subpathsOfDirectory(atPath: root.path)).map { root.appendingPathComponent($0).path })
    }

    static let formats = ["gnu", "posix", "ustar"]

    @Test(arguments: formats)
    func readsGNUTarOutput(format: String) throws {
        let scratch = try Scratch()
        let root = scratch.file("root")
        try Self.makeTree(in: root, longNames: format != "ustar")
        var arguments = ["tar", "--format=\(format)", "--sort=name", "-C", root.path, "-cf", scratch.file("out.tar").path]
        if format == "posix" {
            // Large ids force PAX uid/gid records; xattrs become SCHILY.xattr records.
            try Tool.output(["python3", "-c", "import os,sys; os.setxattr(sys.argv[1], 'user.comment', b'\\x00\\xffbinary=ok\\n')", root.appendingPathComponent("etc/hostname").path])
            arguments += ["--xattrs", "--xattrs-include=user.*", "--owner=builder:3000000", "--group=builders:4000000"]
        } else if format == "gnu" {
            // Base-256 ids.
            arguments += ["--owner=builder:3000000", "--group=builders:4000000"]
        }
        try Tool.output(arguments + ["etc", "tmp", "directory-0-" + String(repeating: "d", count: 47)])
        let tarPath = scratch.file("out.tar").path

        let ours = try TarOracle.ours(FileDescriptorSource(path: tarPath))
        let python = try TarOracle.list(tarPath)
        #expect(ours == python)
        #expect(ours.count == (format == "ustar" ? 15 : 17))
        #expect(ours.contains { $0.name.hasSuffix("directory-2-" + String(repeating: "d", count: 47) + "/file") })

        let byName = Dictionary(ours.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["etc/hostname"]?.mode == 0o4755)
        #expect(byName["tmp"]?.mode == 0o1777)
        #expect(byName["etc/null"]?.type == "chr" && byName["etc/null"]?.devmajor == 1 && byName["etc/null"]?.devminor == 3)
        #expect(byName["etc/loop9"]?.type == "blk" && byName["etc/loop9"]?.devminor == 9)
        #expect(byName["etc/pipe"]?.type == "fifo")
        #expect(byName["etc/link"]?.linkname == "../usr/lib/os-release")
        #expect(byName["etc/hardlink"]?.type == "hardlink" || byName["etc/hostname"]?.type == "hardlink")
        #expect(byName["etc/hostname"]?.mtime == 1_700_000_000)
        if format != "ustar" {
            #expect(byName["etc/" + String(repeating: "n", count: 180)]?.size == 5)
            #expect(byName["etc/longlink"]?.linkname == "/" + String(repeating: "t", count: 150))
            #expect(byName["etc/hostname"]?.uid == 3_000_000)
            #expect(byName["etc/hostname"]?.gid == 4_000_000)
        }
        if format == "posix" {
            // The two names share an inode; the first in name order carries the data and xattrs.
            #expect(byName["etc/hardlink"]?.xattrs["user.comment"] == hexString([0, 0xff] + Array("binary=ok\n".utf8)))
            #expect(byName["etc/hostname"]?.type == "hardlink")
        }

        // Content comes back byte for byte.
        let reader = TarReader(source: try FileDescriptorSource(path: tarPath))
        while let entry = try reader.next() {
            guard entry.kind == .regular else { continue }
            let onDisk = Array(try Data(contentsOf: root.appendingPathComponent(entry.name)))
            #expect(try reader.readContent(limit: 1 << 20) == onDisk, "\(entry.name)")
        }
        #expect(reader.ending == .endBlocks)
    }

    @Test func sparseFilesAreRefused() throws {
        let scratch = try Scratch()
        let sparse = scratch.file("sparse")
        try Tool.output(["truncate", "-s", "4M", sparse.path])
        try Tool.output(["sh", "-c", "printf data | dd of=\(sparse.path) bs=1 seek=1048576 conv=notrunc status=none"])
        try Tool.output(["tar", "--format=gnu", "-S", "-C", scratch.url.path, "-cf", scratch.file("s.tar").path, "sparse"])
        expectArchiveError(.unsupported) { _ = try TarOracle.ours(FileDescriptorSource(path: scratch.file("s.tar").path)) }
    }
}

/// Archives written by Python's tarfile, which can produce what GNU tar will not: PAX global
/// headers, fractional and negative times, arbitrary records.
@Suite struct TarReaderPythonTests {
    @Test func globalHeadersFractionalTimesAndRecords() throws {
        let scratch = try Scratch()
        let path = scratch.file("py.tar").path
        let script = #"""
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT, pax_headers={"comment": "global", "APK-TOOLS.origin": "g"}) as archive:
            info = tarfile.TarInfo("a/file"); info.size = 3; info.mtime = 1700000000.75
            info.pax_headers = {"APK-TOOLS.checksum.SHA1": "a9993e364706816aba3e25717850c26c9cd0d89d", "SCHILY.xattr.security.capability": "\x01\x02"}
            archive.addfile(info, io.BytesIO(b"abc"))
            info = tarfile.TarInfo("a/old"); info.mtime = -1.5
            archive.addfile(info, io.BytesIO(b""))
            info = tarfile.TarInfo("a/override"); info.pax_headers = {"comment": ""}
            archive.addfile(info, io.BytesIO(b""))
        """#
        try Tool.output(["python3", "-c", script, path])
        let reader = TarReader(source: try FileDescriptorSource(path: path))
        let file = try #require(try reader.next())
        #expect(file.name == "a/file")
        #expect(file.modificationTime == 1_700_000_000)
        #expect(file.paxRecords["APK-TOOLS.checksum.SHA1"] == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(file.paxRecords["comment"] == "global")
        #expect(file.paxRecords["APK-TOOLS.origin"] == "g")
        #expect(file.extendedAttributes["security.capability"] == [1, 2])
        #expect(try reader.readContent(limit: 10) == Array("abc".utf8))
        let old = try #require(try reader.next())
        #expect(old.modificationTime == -2)
        #expect(old.paxRecords["APK-TOOLS.checksum.SHA1"] == nil)
        let override = try #require(try reader.next())
        #expect(override.paxRecords["comment"] == nil)
        #expect(override.paxRecords["APK-TOOLS.origin"] == "g")
        #expect(try reader.next() == nil)
        #expect(reader.globalRecords["comment"] == Array("global".utf8))
        #expect(try TarOracle.ours(FileDescriptorSource(path: path)) == (try TarOracle.list(path)))
    }

    @Test func gnuLongNamesAndBase256FromPython() throws {
        let scratch = try Scratch()
        let path = scratch.file("gnu.tar").path
        let script = #"""
        import io, sys, tarfile
        with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as archive:
            info = tarfile.TarInfo("x/" + "L" * 300); info.size = 2; info.uid = 10**10; info.gid = 2**40; info.mtime = 2**40
            archive.addfile(info, io.BytesIO(b"hi"))
            info = tarfile.TarInfo("x/sym"); info.type = tarfile.SYMTYPE; info.linkname = "K" * 200
            archive.addfile(info)
        """#
        try Tool.output(["python3", "-c", script, path])
        let ours = try TarOracle.ours(FileDescriptorSource(path: path))
        #expect(ours == (try TarOracle.list(path)))
        #expect(ours.first?.name == "x/" + String(repeating: "L", count: 300))
        #expect(ours.first?.uid == 10_000_000_000)
        #expect(ours.first?.mtime == 1 << 40)
        #expect(ours.last?.linkname == String(repeating: "K", count: 200))
    }
}

@Suite struct TarReaderRefusalTests {
    static func archive(_ entries: [(TarEntry, [UInt8])], ending: TarWriter.Ending = .endBlocks, checked: Bool = true) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = TarWriter(sink: sink, refusesUnsafeNames: checked)
        for (entry, content) in entries { try writer.append(entry, content: content) }
        try writer.finish(ending)
        return sink.bytes
    }

    static func file(_ name: String, _ text: String = "x") -> (TarEntry, [UInt8]) {
        (TarEntry(name: name, size: Int64(text.utf8.count)), Array(text.utf8))
    }

    @Test func notATarStream() {
        let text = Array(String(repeating: "this is not a tar archive\n", count: 40).utf8)
        expectArchiveError(.malformedHeader) { _ = try TarOracle.ours(MemorySource(text)) }
        expectArchiveError(.truncated) { _ = try TarOracle.ours(MemorySource(Array(text.prefix(100)))) }
    }

    @Test func emptyStreamHasNoEntries() throws {
        let reader = TarReader(source: MemorySource([]))
        #expect(try reader.next() == nil)
        #expect(reader.ending == .endOfStream)
    }

    @Test func badHeaderChecksum() throws {
        var bytes = try Self.archive([Self.file("etc/motd")])
        bytes[3] ^= 0x20  // one letter of the name changes case
        let error = expectArchiveError(.badHeaderChecksum) { _ = try TarOracle.ours(MemorySource(bytes)) }
        #expect(error?.message.contains("offset 0") ?? false)
        var second = try Self.archive([Self.file("a"), Self.file("b")])
        second[1024 + 100] = UInt8(ascii: "7")  // mode digit of the second header
        let later = expectArchiveError(.badHeaderChecksum) { _ = try TarOracle.ours(MemorySource(second)) }
        #expect(later?.message.contains("offset 1024") ?? false)
    }

    @Test(arguments: ["../etc/passwd", "/etc/passwd", "usr/../../x", "usr/lib/..", "./etc", "a/./b", "bad\u{1}name", "new\nline"])
    func unsafeNames(_ name: String) throws {
        let bytes = try Self.archive([Self.file("ok"), Self.file(name)], checked: false)
        expectArchiveError(.unsafeName) { _ = try TarOracle.ours(MemorySource(bytes)) }
        // The same archive reads when the caller opts out.
        #expect(try TarOracle.ours(MemorySource(bytes), refusesUnsafeNames: false).map(\.name) == ["ok", name])
    }

    @Test func unsafeHardLinkTarget() throws {
        let link = TarEntry(name: "etc/shadow", kind: .hardLink, linkName: "../../etc/shadow")
        let bytes = try Self.archive([(link, [])], checked: false)
        expectArchiveError(.unsafeName) { _ = try TarOracle.ours(MemorySource(bytes)) }
        // Symlink targets may point anywhere; they are not names in the archive.
        let symlink = TarEntry(name: "lib/apk", kind: .symbolicLink, linkName: "../usr/lib/apk")
        #expect(try TarOracle.ours(MemorySource(try Self.archive([(symlink, [])]))).first?.linkname == "../usr/lib/apk")
    }

    @Test func oversizedPAXHeader() throws {
        var entry = TarEntry(name: "big", size: 1)
        entry.paxRecords["comment"] = String(repeating: "z", count: 2 << 20)
        let bytes = try Self.archive([(entry, [1])])
        let error = expectArchiveError(.tooLarge) { _ = try TarOracle.ours(MemorySource(bytes)) }
        #expect(error?.message.contains("PAX header") ?? false)
        // A caller may raise the cap.
        let reader = TarReader(source: MemorySource(bytes), limits: .init(maximumExtendedHeaderSize: 4 << 20))
        #expect(try reader.next()?.paxRecords["comment"]?.count == 2 << 20)
    }

    @Test func nameLengthAndEntryCountCaps() throws {
        let long = Self.file(String(repeating: "a/", count: 100) + "z")
        let bytes = try Self.archive([long])
        expectArchiveError(.tooLarge) {
            let reader = TarReader(source: MemorySource(bytes), limits: .init(maximumNameLength: 100))
            _ = try reader.next()
        }
        let many = try Self.archive((0..<5).map { Self.file("f\($0)") })
        expectArchiveError(.tooLarge) {
            let reader = TarReader(source: MemorySource(many), limits: .init(maximumEntryCount: 4))
            while try reader.next() != nil {}
        }
    }

    @Test func truncatedArchives() throws {
        let bytes = try Self.archive([Self.file("etc/a", String(repeating: "q", count: 2000))])
        for length in [100, 512 + 700, 512 + 2000, 512 + 2048 - 1] {
            expectArchiveError(.truncated) {
                let reader = TarReader(source: MemorySource(Array(bytes.prefix(length))))
                while let _ = try reader.next() { _ = try reader.readContent(limit: 1 << 20) }
            }
        }
        // Truncation is also found when the content is skipped rather than read.
        expectArchiveError(.truncated) {
            let reader = TarReader(source: MemorySource(Array(bytes.prefix(512 + 1000))))
            while try reader.next() != nil {}
        }
        var pax = TarEntry(name: String(repeating: "p", count: 200), size: 0)
        pax.paxRecords["comment"] = "dangling"
        let withPAX = try Self.archive([(pax, [])])
        expectArchiveError(.truncated) { _ = try TarOracle.ours(MemorySource(Array(withPAX.prefix(1024)))) }
        var zeroAfterPAX = Array(withPAX.prefix(1024))
        zeroAfterPAX += [UInt8](repeating: 0, count: 1024)
        expectArchiveError(.malformedHeader) { _ = try TarOracle.ours(MemorySource(zeroAfterPAX)) }
    }

    @Test func endings() throws {
        let cut = try Self.archive([Self.file("a"), Self.file("b")], ending: .cut)
        let reader = TarReader(source: MemorySource(cut))
        while try reader.next() != nil {}
        #expect(reader.ending == .endOfStream)
        #expect(reader.entryCount == 2)

        // apk's rule: a lone zero block between entries is tolerated, the second one ends.
        let first = try Self.archive([Self.file("a")], ending: .cut)
        let second = try Self.archive([Self.file("b")], ending: .cut)
        let third = try Self.archive([Self.file("c")], ending: .cut)
        let zero = [UInt8](repeating: 0, count: 512)
        let joined = first + zero + second + zero + third
        #expect(try TarOracle.ours(MemorySource(joined)).map(\.name) == ["a", "b"])

        let oneZero = TarReader(source: MemorySource(first + zero))
        while try oneZero.next() != nil {}
        #expect(oneZero.ending == .endOfStream)

        // Nothing after the end blocks is read.
        let ended = try Self.archive([Self.file("a")]) + Array("trailing".utf8)
        let stopping = TarReader(source: MemorySource(ended))
        while try stopping.next() != nil {}
        #expect(stopping.ending == .endBlocks)
        #expect(stopping.offset == Int64(ended.count - 8))
    }

    @Test func contentAPIs() throws {
        let text = String(repeating: "0123456789", count: 10_000)
        let bytes = try Self.archive([Self.file("big", text), Self.file("small", "s")])
        let reader = TarReader(source: MemorySource(bytes))
        let big = try #require(try reader.next())
        expectArchiveError(.tooLarge) { _ = try reader.readContent(limit: 99_999) }
        let source = reader.contentSource()
        var head = [UInt8](repeating: 0, count: 10)
        #expect(try head.withUnsafeMutableBytes { try source.readFully(into: $0) } == 10)
        #expect(head == Array("0123456789".utf8))
        let sink = MemorySink()
        #expect(try reader.copyContent(to: sink) == big.size - 10)
        #expect(try reader.next()?.name == "small")
        #expect(try source.readAll(limit: 10) == [])  // the old entry's source is spent
        #expect(try reader.readContent(limit: 1) == Array("s".utf8))
    }
}

@Suite struct TarNameTests {
    struct NameCase: Sendable, CustomTestStringConvertible {
        let name: String
        let safe: Bool
        var testDescription: String { "\(TarNameTests.escaped(name)) \(safe ? "safe" : "unsafe")" }
    }

    static func escaped(_ name: String) -> String { name.unicodeScalars.map { $0.value < 0x20 ? "\\\($0.value)" : String($0) }.joined() }

    static let cases: [NameCase] = [
        NameCase(name: "etc/passwd", safe: true), NameCase(name: "usr/lib/", safe: true),
        NameCase(name: ".PKGINFO", safe: true), NameCase(name: "a..b/..c/d..", safe: true),
        NameCase(name: "a//b", safe: true), NameCase(name: "usr/share/zoneinfo/Europe/Zürich", safe: true),
        NameCase(name: "", safe: false), NameCase(name: "/etc", safe: false), NameCase(name: "..", safe: false),
        NameCase(name: "../x", safe: false), NameCase(name: "a/../b", safe: false), NameCase(name: "a/..", safe: false),
        NameCase(name: "a/../", safe: false), NameCase(name: ".", safe: false), NameCase(name: "./a", safe: false),
        NameCase(name: "a/./b", safe: false), NameCase(name: "a\u{0}b", safe: false), NameCase(name: "tab\there", safe: false),
        NameCase(name: "del\u{7f}", safe: false),
    ]

    @Test(arguments: cases)
    func rule(_ testCase: NameCase) {
        #expect(TarName.isSafe(testCase.name) == testCase.safe)
        if testCase.safe {
            #expect(throws: Never.self) { try TarName.validate(testCase.name) }
        } else {
            let error = expectArchiveError(.unsafeName) { try TarName.validate(testCase.name) }
            #expect(!(error?.message.contains("\0") ?? true))
        }
    }
}
