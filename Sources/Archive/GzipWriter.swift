/// A streaming gzip encoder with deterministic output.
///
/// Every member starts with the fixed header `1f 8b 08 00 00 00 00 00 XFL ff` (no flags, MTIME 0,
/// OS 255; XFL 2 at level 9, 4 at level 1, else 0), then raw deflate data (window 2^15), then our
/// own CRC-32 and ISIZE trailer. zlib's gzip wrapper is not used, so the bytes do not depend on the
/// OS code zlib was built with. The same input and level give the same bytes everywhere (for one
/// zlib version).
///
/// Several members can go to the same sink, as an .apk needs (signature, control, data):
/// `endMember()` closes the current member and flushes all its bytes to the sink before it returns,
/// so an observer of the sink (e.g. a hasher tee) can be switched right after it. The next
/// `write(_:)` opens a new member.
///
/// Memory is fixed: a 64 KiB output buffer plus zlib's deflate state (~256 KiB at memLevel 8).
public final class GzipWriter: ByteSink {
    /// Where compressed bytes go.
    public let sink: any ByteSink
    /// The deflate level, 0 (store) ... 9 (best).
    public let level: Int
    /// Compressed bytes handed to the sink so far.
    public private(set) var compressedBytesWritten: Int64 = 0
    /// Uncompressed bytes accepted in the current member.
    public private(set) var memberInputSize: Int64 = 0
    /// How many members were completed.
    public private(set) var completedMemberCount = 0

    private let deflater: RawDeflater
    private let outputBuffer: UnsafeMutableRawBufferPointer
    private var outputCount = 0
    private var memberIsOpen = false
    private var memberCRC = CRC32()
    private var isFinished = false

    private static let bufferSize = 64 * 1024

    /// An encoder writing to `sink` at `level` (0...9; 6 is gzip's default).
    public init(sink: any ByteSink, level: Int = 6) throws {
        self.sink = sink
        self.level = level
        self.deflater = try RawDeflater(level: level)
        self.outputBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    deinit {
        outputBuffer.deallocate()
    }

    /// Compresses `bytes` into the current member (opening one if needed).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !isFinished else {
            throw ArchiveError(.invalidArgument, "write after GzipWriter.finish()")
        }
        try openMemberIfNeeded()
        memberCRC.update(bytes)
        memberInputSize += Int64(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<min(bytes.count, offset + zlibMaximumChunk)])
            var consumedOfPiece = 0
            repeat {
                if outputCount == outputBuffer.count { try flushOutput() }
                let step = try deflater.deflate(
                    from: UnsafeRawBufferPointer(rebasing: piece[(piece.startIndex + consumedOfPiece)...]),
                    into: UnsafeMutableRawBufferPointer(rebasing: outputBuffer[outputCount...]),
                    flush: .none)
                consumedOfPiece += step.consumed
                outputCount += step.produced
            } while consumedOfPiece < piece.count
            offset += piece.count
        }
    }

    /// Ends the current member (an empty member if nothing was written since the last one) and
    /// writes all of it to the sink. The next `write(_:)` starts a new member.
    public func endMember() throws {
        guard !isFinished else {
            throw ArchiveError(.invalidArgument, "endMember after GzipWriter.finish()")
        }
        try openMemberIfNeeded()
        var finished = false
        while !finished {
            if outputCount == outputBuffer.count { try flushOutput() }
            let step = try deflater.deflate(
                from: UnsafeRawBufferPointer(start: nil, count: 0),
                into: UnsafeMutableRawBufferPointer(rebasing: outputBuffer[outputCount...]),
                flush: .finish)
            outputCount += step.produced
            finished = step.finished
        }
        try append(gzipTrailer(crc: memberCRC.value, length: memberInputSize))
        try flushOutput()
        try deflater.reset()
        memberIsOpen = false
        completedMemberCount += 1
    }

    /// Ends the open member, if any (or writes one empty member if none was ever written, so the
    /// output is always valid gzip). No writes are accepted afterwards. Does not close the sink.
    public func finish() throws {
        guard !isFinished else { return }
        if memberIsOpen || completedMemberCount == 0 { try endMember() }
        isFinished = true
    }

    private func openMemberIfNeeded() throws {
        guard !memberIsOpen else { return }
        memberIsOpen = true
        memberCRC = CRC32()
        memberInputSize = 0
        try append(deterministicGzipHeader(level: level))
    }

    private func append(_ bytes: [UInt8]) throws {
        if outputBuffer.count - outputCount < bytes.count { try flushOutput() }
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: outputBuffer[outputCount..<outputCount + source.count]).copyMemory(from: source)
        }
        outputCount += bytes.count
    }

    private func flushOutput() throws {
        guard outputCount > 0 else { return }
        try sink.write(UnsafeRawBufferPointer(rebasing: outputBuffer[0..<outputCount]))
        compressedBytesWritten += Int64(outputCount)
        outputCount = 0
    }
}
