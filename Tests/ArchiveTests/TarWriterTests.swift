import Archive
import Foundation
import Testing

@Suite struct TarWriterTests {
    static let longDirectory = (0..<3).map { "level-\($0)-" + String(repeating: "x", count: 50) }.joined(separator: "/")
    static let unsplittable = "usr/share/" + String(repeating: "y", count: 150)

    /// A layer-like set of entries covering every type, long names, big ids and xattrs.
    static func sampleEntries() -> [(TarEntry, [UInt8])] {
        let blob = TestData.semiCompressible(count: 100_000, seed: 9)
        var entries: [(TarEntry, [UInt8])] = []
        func add(_ entry: TarEntry, _ content: [UInt8] = []) { entries.append((entry, content)) }
        add(TarEntry(name: "dev", kind: .directory, mode: 0o755, modificationTime: 1_600_000_000))
        add(TarEntry(name: "dev/null", kind: .characterDevice, mode: 0o666, deviceMajor: 1, deviceMinor: 3))
        add(TarEntry(name: "dev/loop0", kind: .blockDevice, mode: 0o660, gid: 6, deviceMajor: 7, deviceMinor: 0))
        add(TarEntry(name: "dev/fifo", kind: .fifo, mode: 0o600))
        add(TarEntry(name: "etc", kind: .directory, mode: 0o755, userName: "root", groupName: "root", modificationTime: 1_700_000_000))
        add(TarEntry(name: "etc/motd", mode: 0o644, userName: "root", groupName: "root", size: 6, modificationTime: 1_700_000_001), Array("hello\n".utf8))
        add(TarEntry(name: "etc/empty", mode: 0o600, uid: 1000, gid: 1000, userName: "nonroot", groupName: "nonroot", modificationTime: 1_700_000_002))
        add(TarEntry(name: "etc/blob", mode: 0o4755, size: Int64(blob.count), modificationTime: 1_700_000_003,
                     extendedAttributes: ["user.note": [0, 1, 2, 0xff], "security.capability": Array("cap".utf8)],
                     paxRecords: ["APK-TOOLS.checksum.SHA1": "0123456789abcdef0123456789abcdef01234567"]), blob)
        add(TarEntry(name: "etc/motd.link", kind: .hardLink, mode: 0o644, modificationTime: 1_700_000_001, linkName: "etc/motd"))
        add(TarEntry(name: "lib", kind: .symbolicLink, mode: 0o777, modificationTime: 1_700_000_004, linkName: "usr/lib"))
        add(TarEntry(name: "tmp", kind: .directory, mode: 0o1777, modificationTime: 1_700_000_005))
        add(TarEntry(name: "usr", kind: .directory, mode: 0o755))
        add(TarEntry(name: "usr/share", kind: .directory, mode: 0o755))
        add(TarEntry(name: unsplittable, size: 4, modificationTime: 1_700_000_006), Array("long".utf8))
        add(TarEntry(name: "usr/share/far", kind: .symbolicLink, mode: 0o777, linkName: "../" + String(repeating: "z", count: 120)))
        add(TarEntry(name: "big-ids", uid: 3_000_000, gid: 10_000_000, userName: String(repeating: "u", count: 40), groupName: "g", modificationTime: 1_700_000_007))
        add(TarEntry(name: "old", modificationTime: -86_400))
        // A long directory chain (splits into prefix + name) with a file inside.
        let parts = longDirectory.split(separator: "/")
        for depth in 1...parts.count {
            add(TarEntry(name: parts[0..<depth].joined(separator: "/"), kind: .directory, mode: 0o755))
        }
        add(TarEntry(name: longDirectory + "/file", size: 5, modificationTime: 1_700_000_008), Array("deep\n".utf8))
        return entries
    }

    static func write(_ entries: [(TarEntry, [UInt8])], format: TarWriter.Format = .pax, ending: TarWriter.Ending = .endBlocks) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = TarWriter(sink: sink, format: format)
        for (entry, content) in entries {
            if content.isEmpty { try writer.append(entry) } else { try writer.append(entry, content: content) }
        }
        try writer.finish(ending)
        #expect(writer.bytesWritten == Int64(sink.bytes.count))
        return sink.bytes
    }

    @Test(arguments: [TarWriter.Format.pax, .gnu])
    func pythonAndOurReaderSeeWhatWasWritten(format: TarWriter.Format) throws {
        let entries = Self.sampleEntries()
        let bytes = try Self.write(entries, format: format)
        let scratch = try Scratch()
        let path = try scratch.write(bytes, to: "out.tar").path
        let expected = entries.map { ListedEntry($0.0) }
        let python = try TarOracle.list(path)
        #expect(python.count == expected.count)
        for (theirs, wanted) in zip(python, expected) where theirs != wanted {
            Issue.record("python \(theirs) vs written \(wanted): \(theirs.records) \(theirs.xattrs) uid \(theirs.uid) \(theirs.uname)")
        }
        #expect(try TarOracle.ours(MemorySource(bytes)) == expected)

        let reader = TarReader(source: MemorySource(bytes))
        for (entry, content) in entries {
            let read = try #require(try reader.next())
            #expect(read.name == entry.name)
            #expect(try reader.readContent(limit: 1 << 20) == content)
        }
        #expect(try reader.next() == nil)
        #expect(reader.ending == .endBlocks)
    }

    @Test func gnuTarListsAndExtractsIt() throws {
        let entries = Self.sampleEntries()
        let scratch = try Scratch()
        let path = try scratch.write(try Self.write(entries), to: "out.tar").path

        let listing = String(decoding: try Tool.output(["tar", "--quoting-style=literal", "--numeric-owner", "-tvf", path]), as: UTF8.self)
        let lines = listing.split(separator: "\n")
        #expect(lines.count == entries.count)
        #expect(lines.contains { $0.hasPrefix("crw-rw-rw- 0/0") && $0.contains("1,3") && $0.hasSuffix(" dev/null") })
        #expect(lines.contains { $0.hasPrefix("-rwsr-xr-x 0/0") && $0.contains(" 100000 ") && $0.hasSuffix(" etc/blob") })
        #expect(lines.contains { $0.hasPrefix("hrw-r--r--") && $0.hasSuffix(" etc/motd.link link to etc/motd") })
        #expect(lines.contains { $0.hasPrefix("drwxrwxrwt") && $0.hasSuffix(" tmp") })
        #expect(lines.contains { $0.contains(" 3000000/10000000 ") && $0.hasSuffix(" big-ids") })
        #expect(lines.contains { $0.hasSuffix(" " + Self.unsplittable) })
        #expect(lines.contains { $0.hasSuffix(" " + Self.longDirectory + "/file") })

        let target = scratch.file("x")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Tool.output(["tar", "--xattrs", "--xattrs-include=user.*", "-xf", path, "-C", target.path])
        let inspect = #"""
        import json, os, stat, sys
        root = sys.argv[1]; out = {}
        for path in sys.argv[2:]:
            st = os.lstat(os.path.join(root, path))
            item = {"mode": stat.S_IMODE(st.st_mode), "mtime": int(st.st_mtime), "uid": st.st_uid, "gid": st.st_gid}
            if stat.S_ISLNK(st.st_mode): item["link"] = os.readlink(os.path.join(root, path))
            if stat.S_ISREG(st.st_mode): item["data"] = open(os.path.join(root, path), "rb").read().hex(); item["links"] = st.st_nlink
            if stat.S_ISCHR(st.st_mode): item["dev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
            if stat.S_ISFIFO(st.st_mode): item["fifo"] = True
            try: item["xattr"] = os.getxattr(os.path.join(root, path), "user.note", follow_symlinks=False).hex()
            except OSError: pass
            out[path] = item
        print(json.dumps(out))
        """#
        let names = entries.map(\.0.name)
        let json = try Tool.output(["python3", "-c", inspect, target.path] + names)
        let disk = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: [String: Any]])
        for (entry, content) in entries {
            let item = try #require(disk[entry.name], "\(entry.name) was not extracted")
            #expect(item["mode"] as? Int == Int(entry.mode), "\(entry.name) mode")
            #expect(item["uid"] as? Int == entry.uid, "\(entry.name) uid")
            #expect(item["gid"] as? Int == entry.gid, "\(entry.name) gid")
            switch entry.kind {
            case .regular:
                #expect(item["data"] as? String == hexString(content), "\(entry.name) content")
                #expect(item["mtime"] as? Int == Int(entry.modificationTime), "\(entry.name) mtime")
            case .hardLink:
                #expect(item["links"] as? Int == 2)
                #expect(item["data"] as? String == hexString(Array("hello\n".utf8)))
            case .symbolicLink:
                #expect(item["link"] as? String == entry.linkName)
                #expect(item["mtime"] as? Int == Int(entry.modificationTime), "\(entry.name) mtime")
            case .characterDevice:
                #expect(item["dev"] as? [Int] == [1, 3])
            case .fifo:
                #expect(item["fifo"] as? Bool == true)
            case .directory where entry.name == "tmp" || entry.name == "etc":
                // (Directories that later entries write into get a new mtime on extraction.)
                #expect(item["mode"] as? Int == Int(entry.mode))
            default:
                break
            }
        }
        #expect((disk["etc/blob"]?["xattr"] as? String) == "000102ff")
    }

    @Test func deterministicBytes() throws {
        let first = try Self.write(Self.sampleEntries())
        let second = try Self.write(Self.sampleEntries())
        #expect(first == second)
        // Only the entries that need one get a PAX header.
        let plain = try Self.write([(TarEntry(name: "etc/motd", size: 2), [1, 2])])
        #expect(plain.count == 512 + 512 + 1024)
        #expect(plain[156] == UInt8(ascii: "0"))
        #expect(Array(plain[257..<265]) == Array("ustar".utf8) + [0] + Array("00".utf8))
        // Fixed field encodings, pinned: mode, uid, size, mtime, checksum layout.
        #expect(Array(plain[100..<108]) == Array("0000644".utf8) + [0])
        #expect(Array(plain[124..<136]) == Array("00000000002".utf8) + [0])
        #expect(Array(plain[136..<148]) == Array("00000000000".utf8) + [0])
        #expect(plain[154] == 0 && plain[155] == UInt8(ascii: " "))
        #expect(plain.suffix(1024).allSatisfy { $0 == 0 })
    }

    /// A description has the real headers where the archive has them, the stand-ins where it
    /// has content, and counts the archive's size, not its own.
    @Test func descriptionHasTheHeadersAndCountsTheArchive() throws {
        let entries = Self.sampleEntries()
        let archive = try Self.write(entries)
        let description = MemorySink()
        let writer = TarWriter(sink: description)
        var expected: [UInt8] = []
        var offset = 0
        let reader = TarReader(source: MemorySource(archive))
        for (entry, content) in entries {
            guard try reader.next() != nil else { Issue.record("the archive ends early"); return }
            let headerEnd = Int(reader.offset)  // next() stops right after the entry's headers
            let standIn = Array("<\(content.count)>".utf8)
            if entry.kind == .regular {
                try writer.appendDescription(of: entry, standIn: standIn)
                expected += archive[offset..<headerEnd] + standIn
                offset = headerEnd + (content.count + 511) / 512 * 512
            } else {
                try writer.append(entry)
                expected += archive[offset..<headerEnd]
                offset = headerEnd
            }
            try reader.skipContent()
        }
        try writer.finish(.endBlocks)
        expected += archive[offset...]
        #expect(description.bytes == expected)
        #expect(writer.archiveSize == Int64(archive.count))
        #expect(writer.bytesWritten == Int64(description.bytes.count))
    }

    @Test func paxRecordsComeInAStableOrder() throws {
        var entry = TarEntry(name: String(repeating: "n", count: 120), uid: 9_999_999, size: 1)
        entry.extendedAttributes = ["user.b": [2], "user.a": [1]]
        entry.paxRecords = ["zeta": "1", "APK-TOOLS.checksum.SHA1": "abc", "alpha": "2"]
        let bytes = try Self.write([(entry, [7])])
        #expect(bytes[156] == UInt8(ascii: "x"))
        let size = Int(String(decoding: bytes[124..<135], as: UTF8.self), radix: 8)!
        let data = String(decoding: bytes[512..<(512 + size)], as: UTF8.self)
        let keys = data.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1)[1].split(separator: "=")[0] }
        #expect(keys == ["path", "uid", "SCHILY.xattr.user.a", "SCHILY.xattr.user.b", "APK-TOOLS.checksum.SHA1", "alpha", "zeta"])
        // Each record's length prefix counts the whole record.
        for line in data.split(separator: "\n") {
            #expect(Int(line.split(separator: " ")[0]) == line.utf8.count + 1)
        }
    }

    @Test func gnuFormatMatchesApkIndexConventions() throws {
        let bytes = try Self.write(
            [(TarEntry(name: "APKINDEX", userName: "root", groupName: "root", size: 3, modificationTime: 1_669_068_240), Array("C:x".utf8))],
            format: .gnu)
        #expect(Array(bytes[257..<265]) == Array("ustar  ".utf8) + [0])
        let scratch = try Scratch()
        let path = try scratch.write(bytes, to: "index.tar").path
        let listing = String(decoding: try Tool.output(["tar", "-tvf", path]), as: UTF8.self)
        #expect(listing.hasPrefix("-rw-r--r-- root/root         3 "))
        #expect(listing.hasSuffix(" APKINDEX\n"))
    }

    @Test func cutTarsHaveNoEndBlocksAndConcatenate() throws {
        let signature = try Self.write([(TarEntry(name: ".SIGN.RSA.key.rsa.pub", size: 4), [1, 2, 3, 4])], ending: .cut)
        #expect(signature.count == 1024)
        #expect(!signature.suffix(512).allSatisfy { $0 == 0 })
        let control = try Self.write([(TarEntry(name: ".PKGINFO", size: 3), Array("a=b".utf8))], ending: .cut)
        let data = try Self.write([(TarEntry(name: "usr", kind: .directory, mode: 0o755), [])])
        let joined = signature + control + data
        let reader = TarReader(source: MemorySource(joined))
        var names: [String] = []
        while let entry = try reader.next() { names.append(entry.name) }
        #expect(names == [".SIGN.RSA.key.rsa.pub", ".PKGINFO", "usr"])
        #expect(reader.ending == .endBlocks)
        // GNU tar reads the concatenation as one archive.
        let scratch = try Scratch()
        let path = try scratch.write(joined, to: "joined.tar").path
        #expect(String(decoding: try Tool.output(["tar", "-tf", path]), as: UTF8.self) == ".SIGN.RSA.key.rsa.pub\n.PKGINFO\nusr\n")
        // A cut tar alone reads to the end of its stream.
        let alone = TarReader(source: MemorySource(signature))
        while try alone.next() != nil {}
        #expect(alone.ending == .endOfStream)
    }

    @Test func tarThroughGzipIsReadBackByGNUTar() throws {
        let entries = Self.sampleEntries()
        let compressed = MemorySink()
        let gzip = try ParallelGzipWriter(sink: compressed, level: 6, threads: 2)
        let writer = TarWriter(sink: gzip)
        for (entry, content) in entries {
            if content.isEmpty { try writer.append(entry) } else { try writer.append(entry, content: MemorySource(content)) }
        }
        try writer.finish()
        try gzip.finish()
        let scratch = try Scratch()
        let path = try scratch.write(compressed.bytes, to: "layer.tar.gz").path
        let names = String(decoding: try Tool.output(["tar", "--quoting-style=literal", "-tzf", path]), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        #expect(names == entries.map(\.0.name))
    }

    @Test func refusals() throws {
        let writer = TarWriter(sink: MemorySink())
        expectArchiveError(.unsafeName) { try writer.append(TarEntry(name: "../escape")) }
        expectArchiveError(.unsafeName) { try writer.append(TarEntry(name: "/abs")) }
        expectArchiveError(.unsafeName) { try writer.append(TarEntry(name: "x", kind: .hardLink, linkName: "/etc/shadow")) }
        expectArchiveError(.sizeMismatch) { try writer.append(TarEntry(name: "short", size: 10), content: [1, 2, 3]) }
        let other = TarWriter(sink: MemorySink())
        expectArchiveError(.sizeMismatch) { try other.append(TarEntry(name: "long", size: 2), content: [1, 2, 3]) }
        let fresh = TarWriter(sink: MemorySink())
        expectArchiveError(.invalidArgument) { try fresh.append(TarEntry(name: "d", kind: .directory, size: 5), content: [1, 2, 3, 4, 5]) }
        expectArchiveError(.invalidArgument) { try fresh.append(TarEntry(name: "f", size: 5)) }
        expectArchiveError(.invalidArgument) { try fresh.append(TarEntry(name: "p", paxRecords: ["path": "other"])) }
        expectArchiveError(.invalidArgument) { try fresh.append(TarEntry(name: "q", paxRecords: ["a=b": "c"])) }
        expectArchiveError(.invalidArgument) { try fresh.append(TarEntry(name: "v", kind: .other(UInt8(ascii: "V")))) }
        // A refused entry writes nothing, even when it needed an extended header first.
        let sink = MemorySink()
        let untouched = TarWriter(sink: sink)
        expectArchiveError(.invalidArgument) {
            try untouched.append(TarEntry(name: String(repeating: "l", count: 200), kind: .characterDevice, deviceMajor: 1 << 30))
        }
        #expect(sink.bytes.isEmpty)
        let clean = TarWriter(sink: MemorySink())
        #expect(sink.bytes.isEmpty)
        try clean.finish(.cut)
        expectArchiveError(.invalidArgument) { try clean.append(TarEntry(name: "late")) }
    }
}
