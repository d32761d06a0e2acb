import Archive
import Foundation
import Testing

struct GzipCase: Sendable, CustomTestStringConvertible {
    let size: Int
    let level: Int
    var testDescription: String { "\(size) bytes at level \(level)" }
}

@Suite struct GzipWriterTests {
    static let cases: [GzipCase] = [
        GzipCase(size: 0, level: 6), GzipCase(size: 1, level: 6), GzipCase(size: 5_000, level: 1),
        GzipCase(size: 300_000, level: 6), GzipCase(size: 300_000, level: 9), GzipCase(size: 70_000, level: 0),
    ]

    @Test(arguments: cases)
    func gzipAcceptsAndRestoresOutput(_ testCase: GzipCase) throws {
        let input = TestData.semiCompressible(count: testCase.size, seed: UInt64(testCase.size))
        let compressed = try Streams.gzip(input, level: testCase.level)
        let scratch = try Scratch()
        let file = try scratch.write(compressed, to: "out.gz")
        #expect(try Tool.run(["gzip", "-t", file.path]).status == 0)
        #expect(try Tool.output(["gzip", "-dc", file.path]) == input)
        #expect(try Streams.gunzip(compressed) == input)
    }

    @Test(arguments: [(1, UInt8(4)), (6, UInt8(0)), (9, UInt8(2))])
    func headerIsFixed(level: Int, extraFlags: UInt8) throws {
        let compressed = try Streams.gzip(Array("hello".utf8), level: level)
        #expect(Array(compressed.prefix(10)) == [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, extraFlags, 0xff])
        // Trailer: CRC-32 and ISIZE of "hello", little-endian.
        let crc = CRC32(Array("hello".utf8)).value
        #expect(crc == 0x3610_a686)
        #expect(Array(compressed.suffix(8)) == [0x86, 0xa6, 0x10, 0x36, 5, 0, 0, 0])
    }

    @Test func sameInputGivesSameBytesWhateverTheChunking() throws {
        let input = TestData.semiCompressible(count: 400_000, seed: 7)
        let first = try Streams.gzip(input, chunk: 400_000)
        let second = try Streams.gzip(input, chunk: 1)
        let third = try Streams.gzip(input, chunk: 65_536)
        #expect(first == second)
        #expect(first == third)
    }

    @Test func severalMembersOnOneSink() throws {
        let sink = MemorySink()
        let writer = try GzipWriter(sink: sink, level: 6)
        let parts = [Array("first member\n".utf8), [], TestData.semiCompressible(count: 100_000, seed: 3)]
        var boundaries: [Int64] = []
        for part in parts {
            try writer.write(part)
            try writer.endMember()
            // Everything of the member is in the sink once endMember returns.
            boundaries.append(writer.compressedBytesWritten)
            #expect(Int64(sink.bytes.count) == writer.compressedBytesWritten)
        }
        try writer.finish()
        #expect(writer.completedMemberCount == 3)
        #expect(Int64(sink.bytes.count) == boundaries.last)

        let scratch = try Scratch()
        let file = try scratch.write(sink.bytes, to: "multi.gz")
        #expect(try Tool.output(["gzip", "-dc", file.path]) == parts.flatMap { $0 })

        let recorder = MemberRecorder()
        let reader = try GzipReader(source: MemorySource(sink.bytes), observer: recorder)
        #expect(try reader.readAll(limit: 1 << 20) == parts.flatMap { $0 })
        #expect(recorder.members.map(\.decompressedSize) == parts.map { Int64($0.count) })
        #expect(recorder.members.map { $0.compressedOffset + $0.compressedSize } == boundaries)
    }

    @Test func finishWithoutWritesIsOneEmptyMember() throws {
        let sink = MemorySink()
        let writer = try GzipWriter(sink: sink)
        try writer.finish()
        #expect(try Streams.gunzip(sink.bytes) == [])
        #expect(sink.bytes.count == 10 + 2 + 8)
    }

    @Test func refusesBadLevel() {
        expectArchiveError(.invalidArgument) { _ = try GzipWriter(sink: MemorySink(), level: 10) }
        expectArchiveError(.invalidArgument) { _ = try ParallelGzipWriter(sink: MemorySink(), level: -1) }
        expectArchiveError(.invalidArgument) { _ = try ParallelGzipWriter(sink: MemorySink(), blockSize: 100) }
        expectArchiveError(.invalidArgument) { _ = try ParallelGzipWriter(sink: MemorySink(), threads: 0) }
    }
}

struct ParallelCase: Sendable, CustomTestStringConvertible {
    let size: Int
    let blockSize: Int
    let level: Int
    var testDescription: String { "\(size) bytes, blocks of \(blockSize), level \(level)" }
}

@Suite struct ParallelGzipWriterTests {
    static let cases: [ParallelCase] = [
        ParallelCase(size: 0, blockSize: 128 * 1024, level: 6),
        ParallelCase(size: 1, blockSize: 128 * 1024, level: 6),
        ParallelCase(size: 128 * 1024, blockSize: 128 * 1024, level: 6),
        // Exactly one batch for 1 and 2 threads (8 and 16 blocks): the final block is full.
        ParallelCase(size: 16 * 32 * 1024, blockSize: 32 * 1024, level: 6),
        ParallelCase(size: 16 * 32 * 1024 + 1, blockSize: 32 * 1024, level: 1),
        ParallelCase(size: 3_000_000, blockSize: 128 * 1024, level: 9),
        // Blocks smaller than the window: dictionaries span several earlier blocks.
        ParallelCase(size: 200_000, blockSize: 4 * 1024, level: 6),
    ]

    @Test(arguments: cases)
    func identicalForAnyThreadCountAndValidGzip(_ testCase: ParallelCase) throws {
        let input = TestData.semiCompressible(count: testCase.size, seed: UInt64(testCase.size) + 11)
        let single = try Streams.parallelGzip(input, level: testCase.level, blockSize: testCase.blockSize, threads: 1)
        let two = try Streams.parallelGzip(input, level: testCase.level, blockSize: testCase.blockSize, threads: 2, chunk: 1000)
        let four = try Streams.parallelGzip(input, level: testCase.level, blockSize: testCase.blockSize, threads: 4, chunk: 1 << 20)
        #expect(single == two)
        #expect(single == four)
        #expect(Array(single.prefix(4)) == [0x1f, 0x8b, 0x08, 0x00])
        #expect(single[9] == 0xff)

        let scratch = try Scratch()
        let file = try scratch.write(single, to: "parallel.gz")
        #expect(try Tool.run(["gzip", "-t", file.path]).status == 0)
        #expect(try Tool.output(["gzip", "-dc", file.path]) == input)
        #expect(try Streams.gunzip(single) == input)
    }

    @Test func abandonedWriterStopsItsThreads() throws {
        let input = TestData.semiCompressible(count: 3_000_000, seed: 2)
        for _ in 0..<20 {
            let writer = try ParallelGzipWriter(sink: CountingSink(), blockSize: 16 * 1024, threads: 4)
            try writer.write(input)
            // Released without finish(): deinit must stop and join the workers (no hang, no leak).
        }
    }

    @Test func sinkErrorsReachTheCaller() throws {
        struct DiskFull: Error {}
        var written = 0
        let failing = ClosureSink { bytes in
            written += bytes.count
            if written > 100_000 { throw DiskFull() }
        }
        let writer = try ParallelGzipWriter(sink: failing, blockSize: 32 * 1024, threads: 2)
        let input = TestData.semiCompressible(count: 2_000_000, seed: 4)
        #expect(throws: DiskFull.self) {
            try writer.write(input)
            try writer.finish()
        }
    }

    @Test func compressesAboutAsWellAsOneStream() throws {
        let input = TestData.semiCompressible(count: 2_000_000, seed: 5)
        let serial = try Streams.gzip(input, level: 6)
        let parallel = try Streams.parallelGzip(input, level: 6, threads: 2)
        // Dictionaries keep the loss to the sync markers and restarted block statistics.
        #expect(Double(parallel.count) < Double(serial.count) * 1.01)
    }
}

/// Records what a GzipReader reports.
final class MemberRecorder: GzipMemberObserver {
    var members: [GzipMember] = []
    var rawByMember: [[UInt8]] = []
    var events: [String] = []

    func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws {
        while rawByMember.count <= member { rawByMember.append([]) }
        rawByMember[member].append(contentsOf: bytes)
        if events.last != "bytes \(member)" { events.append("bytes \(member)") }
    }

    func gzipReaderDidEnd(_ member: GzipMember) throws {
        members.append(member)
        events.append("end \(member.index)")
    }
}
