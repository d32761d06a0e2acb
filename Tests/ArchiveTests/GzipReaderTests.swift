import Archive
import Foundation
import Testing
import TestSupport

/// Every .apk and APKINDEX.tar.gz among the fixtures, by path relative to the fixtures folder.
enum GzipFixtures {
    static let all: [String] = {
        let root = Fixtures.root.standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var paths: [String] = []
        for case let url as URL in walker {
            let name = url.lastPathComponent
            guard name.hasSuffix(".apk") || name == "APKINDEX.tar.gz" else { continue }
            paths.append(String(url.standardizedFileURL.path.dropFirst(root.path.count + 1)))
        }
        return paths.sorted()
    }()
}

@Suite struct GzipReaderTests {
    static let tzdata = "local-melange-tzdata/x86_64/tzdata-2023c-r0.apk"

    @Test func tzdataMembersAndRawBytes() throws {
        let file = try Fixtures.data(Self.tzdata)
        let recorder = MemberRecorder()
        let reader = try GzipReader(source: FileDescriptorSource(path: Fixtures.url(Self.tzdata).path), observer: recorder)
        let decompressed = try reader.readAll(limit: 64 << 20)
        #expect(reader.isFinished)

        // PROVENANCE.md: compressed member sizes 662+340+145526+126323+121390+142111.
        let sizes: [Int64] = [662, 340, 145_526, 126_323, 121_390, 142_111]
        #expect(recorder.members.map(\.compressedSize) == sizes)
        var offset: Int64 = 0
        for (index, member) in recorder.members.enumerated() {
            #expect(member.index == index)
            #expect(member.compressedOffset == offset)
            offset += member.compressedSize
        }
        #expect(offset == Int64(file.count))
        #expect(recorder.rawByMember.count == 6)
        #expect(recorder.rawByMember.flatMap { $0 } == Array(file))
        for (index, raw) in recorder.rawByMember.enumerated() {
            #expect(Int64(raw.count) == sizes[index])
        }
        // Bytes and ends strictly alternate per member.
        #expect(recorder.events == (0..<6).flatMap { ["bytes \($0)", "end \($0)"] })
        #expect(recorder.members.map(\.decompressedSize).reduce(0, +) == Int64(decompressed.count))
        #expect(decompressed == (try Tool.output(["gzip", "-dc", Fixtures.url(Self.tzdata).path])))
    }

    @Test(arguments: GzipFixtures.all)
    func everyFixtureDecodesToTheEnd(_ path: String) throws {
        let url = Fixtures.url(path)
        let size = try Fixtures.data(path).count
        let recorder = MemberRecorder()
        let reader = try GzipReader(source: FileDescriptorSource(path: url.path), maximumDecompressedSize: 256 << 20, observer: recorder)
        let counter = CountingSink()
        try reader.copy(to: counter)
        #expect(reader.isFinished)
        #expect(reader.compressedOffset == Int64(size))
        #expect(recorder.members.count >= 2)  // every fixture is signed or has control + data
        #expect(recorder.rawByMember.map(\.count).reduce(0, +) == size)
        let expected = try Tool.output(["gzip", "-dc", url.path])
        #expect(counter.count == Int64(expected.count))
    }

    @Test func fixtureCount() {
        #expect(GzipFixtures.all.count >= 40)
        #expect(GzipFixtures.all.contains(Self.tzdata))
    }

    @Test func memberByMember() throws {
        let url = Fixtures.url(Self.tzdata)
        let whole = try Tool.output(["gzip", "-dc", url.path])
        let recorder = MemberRecorder()
        let reader = try GzipReader(source: FileDescriptorSource(path: url.path), membersAsOneStream: false, observer: recorder)
        // Nothing is read before the first member is started.
        #expect(try reader.readAll(limit: 1) == [])
        var pieces: [[UInt8]] = []
        while try reader.nextMember() {
            pieces.append(try reader.readAll(limit: 16 << 20))
            // Reads stay at 0 until the next member is started.
            #expect(try reader.readAll(limit: 1) == [])
        }
        #expect(pieces.count == 6)
        #expect(pieces.flatMap { $0 } == whole)
        #expect(recorder.members.map { Int64($0.decompressedOffset) } == pieces.indices.map { Int64(pieces[..<$0].map(\.count).reduce(0, +)) })
        #expect(try reader.nextMember() == false)
    }

    @Test func skippingMembersStillVerifiesAndReportsThem() throws {
        let url = Fixtures.url(Self.tzdata)
        let recorder = MemberRecorder()
        let reader = try GzipReader(source: FileDescriptorSource(path: url.path), membersAsOneStream: false, observer: recorder)
        #expect(try reader.nextMember())
        #expect(try reader.nextMember())
        try reader.drainToEnd()
        #expect(recorder.members.count == 6)
        #expect(recorder.rawByMember.flatMap { $0 } == Array(try Fixtures.data(Self.tzdata)))
    }

    @Test func drainAfterPartialRead() throws {
        let url = Fixtures.url(Self.tzdata)
        let recorder = MemberRecorder()
        let reader = try GzipReader(source: FileDescriptorSource(path: url.path), observer: recorder)
        var small = [UInt8](repeating: 0, count: 700)
        _ = try small.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        try reader.drainToEnd()
        #expect(reader.isFinished)
        #expect(recorder.members.count == 6)
    }

    /// Short reads from the source (a slow pipe) change nothing: same bytes, same boundaries.
    @Test(arguments: [1, 7, 4099])
    func shortReadsFromTheSource(_ piece: Int) throws {
        let bytes = Array(try Fixtures.data("apko-testrepo/x86_64/replayout-1.0.0-r0.apk"))
        let recorder = MemberRecorder()
        let reader = try GzipReader(source: TrickleSource(bytes, piece: piece), observer: recorder)
        let trickled = TrickleSource(try reader.readAll(limit: 1 << 20), piece: piece)
        #expect(recorder.members.map(\.compressedSize) == [647, 1014, 1300])
        #expect(recorder.rawByMember.flatMap { $0 } == bytes)
        let names = try TarOracle.ours(trickled).map(\.name)
        #expect(names == (try TarOracle.ours(GzipReader(source: MemorySource(bytes)))).map(\.name))
        #expect(names.count > 3)
    }

    @Test func observerErrorsPassThrough() throws {
        final class Refuser: GzipMemberObserver {
            struct Stop: Error {}
            func gzipReaderDidEnd(_ member: GzipMember) throws { if member.index == 1 { throw Stop() } }
        }
        let reader = try GzipReader(source: FileDescriptorSource(path: Fixtures.url(Self.tzdata).path), observer: Refuser())
        #expect(throws: Refuser.Stop.self) { try reader.drainToEnd() }
    }

    @Test func headerWithNameCommentExtraAndHeaderCRC() throws {
        let payload = Array("optional header fields\n".utf8)
        let plain = try Streams.gzip(payload)
        var header: [UInt8] = [0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3]
        header += [4, 0, 0xaa, 0xbb, 0xcc, 0xdd]  // FEXTRA
        header += Array("name.txt".utf8) + [0]  // FNAME
        header += Array("a comment".utf8) + [0]  // FCOMMENT
        let headerCRC = CRC32(header).value
        header += [UInt8(headerCRC & 0xff), UInt8((headerCRC >> 8) & 0xff)]
        let member = header + plain[10...]
        #expect(try Streams.gunzip(member) == payload)
        let scratch = try Scratch()
        #expect(try Tool.output(["gzip", "-dc", try scratch.write(member, to: "h.gz").path]) == payload)

        var badHeaderCRC = member
        badHeaderCRC[header.count - 1] ^= 0xff
        expectArchiveError(.checksumMismatch) { _ = try Streams.gunzip(badHeaderCRC) }
    }

    @Test func readsGzipToolOutputWithStoredName() throws {
        let scratch = try Scratch()
        let input = TestData.semiCompressible(count: 50_000)
        let file = try scratch.write(input, to: "named.txt")
        try Tool.output(["gzip", "-k", "-9", file.path])  // keeps the name (FNAME) and mtime
        let compressed = Array(try Data(contentsOf: scratch.file("named.txt.gz")))
        #expect(compressed[3] & 0x08 != 0)
        #expect(try Streams.gunzip(compressed) == input)
    }
}

@Suite struct GzipReaderRefusalTests {
    static let tzdataBytes: [UInt8] = (try? Array(Fixtures.data(GzipReaderTests.tzdata))) ?? []

    @Test(arguments: [5, 662 + 4, 662 + 340 + 100, 662 + 340 + 145_526 - 3, 536_352 - 1])
    func truncatedInput(at length: Int) throws {
        let cut = Array(Self.tzdataBytes.prefix(length))
        let error = expectArchiveError(.truncated) { _ = try Streams.gunzip(cut) }
        #expect(error?.message.contains("offset") ?? false || length < 10)
    }

    @Test func emptyInput() {
        expectArchiveError(.truncated) { _ = try Streams.gunzip([]) }
    }

    @Test(arguments: [[UInt8(0)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Array("garbage after the end".utf8), [0x1f]])
    func trailingGarbage(_ garbage: [UInt8]) throws {
        let padded = Self.tzdataBytes + garbage
        if garbage == [0x1f] {
            // Could be the start of another member: it is an incomplete header.
            expectArchiveError(.truncated) { _ = try Streams.gunzip(padded) }
        } else {
            let error = expectArchiveError(.trailingGarbage) { _ = try Streams.gunzip(padded) }
            #expect(error?.message.contains("536352") ?? false)
        }
    }

    @Test func notGzip() {
        expectArchiveError(.notGzip) { _ = try Streams.gunzip(Array("plain text, not compressed".utf8)) }
        expectArchiveError(.notGzip) { _ = try Streams.gunzip([0x1f, 0x8c, 8, 0, 0, 0, 0, 0, 0, 0, 0]) }
    }

    @Test func unsupportedMethodAndFlags() throws {
        var member = try Streams.gzip(Array("x".utf8))
        member[2] = 7
        expectArchiveError(.unsupported) { _ = try Streams.gunzip(member) }
        member[2] = 8
        member[3] = 0x20
        expectArchiveError(.unsupported) { _ = try Streams.gunzip(member) }
    }

    @Test func corruptDeflateData() throws {
        var member = try Streams.gzip(TestData.semiCompressible(count: 10_000))
        member[10] = 0x07  // BFINAL=1, BTYPE=11: a reserved block type
        expectArchiveError(.corrupt) { _ = try Streams.gunzip(member) }
    }

    @Test func wrongCRCAndSize() throws {
        let member = try Streams.gzip(TestData.semiCompressible(count: 10_000))
        var badCRC = member
        badCRC[badCRC.count - 8] ^= 1
        expectArchiveError(.checksumMismatch) { _ = try Streams.gunzip(badCRC) }
        var badSize = member
        badSize[badSize.count - 1] ^= 1
        expectArchiveError(.checksumMismatch) { _ = try Streams.gunzip(badSize) }
    }

    @Test func gzipBombStopsAtTheCap() throws {
        // 100 MB of zeros deflate to about 100 KB.
        let sink = MemorySink()
        let writer = try GzipWriter(sink: sink, level: 9)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<100 { try writer.write(zeros) }
        try writer.finish()
        #expect(sink.bytes.count < 200_000)

        let cap: Int64 = 10_000_000
        let reader = try GzipReader(source: MemorySource(sink.bytes), maximumDecompressedSize: cap)
        var delivered: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        let error = expectArchiveError(.tooLarge) {
            while true {
                let count = try reader.read(into: buffer)
                if count == 0 { break }
                delivered += Int64(count)
            }
        }
        #expect(delivered <= cap)
        #expect(error?.message.contains("10000000") ?? false)
        // drainToEnd enforces the same cap.
        let drainer = try GzipReader(source: MemorySource(sink.bytes), maximumDecompressedSize: cap)
        expectArchiveError(.tooLarge) { try drainer.drainToEnd() }
    }
}

/// Serves at most `piece` bytes per read.
final class TrickleSource: ByteSource {
    private let bytes: [UInt8]
    private let piece: Int
    private var position = 0

    init(_ bytes: [UInt8], piece: Int) {
        self.bytes = bytes
        self.piece = piece
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(piece, buffer.count, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + count])) }
        position += count
        return count
    }
}
