/// One gzip member, as reported when the reader has consumed all of it.
public struct GzipMember: Sendable, Equatable, CustomStringConvertible {
    /// 0 for the first member of the stream.
    public var index: Int
    /// Where the member's first header byte is, counted from the first byte the reader consumed.
    public var compressedOffset: Int64
    /// The member's size on the wire: header, deflate data and 8-byte trailer.
    public var compressedSize: Int64
    /// Where the member's decompressed bytes start in the concatenated decompressed stream.
    public var decompressedOffset: Int64
    /// How many bytes the member decompressed to.
    public var decompressedSize: Int64

    /// Creates a member record (the reader makes these; tests compare against them).
    public init(index: Int, compressedOffset: Int64, compressedSize: Int64, decompressedOffset: Int64, decompressedSize: Int64) {
        self.index = index
        self.compressedOffset = compressedOffset
        self.compressedSize = compressedSize
        self.decompressedOffset = decompressedOffset
        self.decompressedSize = decompressedSize
    }

    /// "member 2 at 1002+145526 -> 10240 bytes".
    public var description: String {
        "member \(index) at \(compressedOffset)+\(compressedSize) -> \(decompressedSize) bytes"
    }
}

/// Watches a `GzipReader` consume its input: the raw compressed bytes of each member, and each
/// member's end. This is how an .apk's signature, control and data members are hashed exactly as
/// stored while one tar parser reads their decompressed contents.
///
/// Ordering guarantees (what a verifier can rely on):
/// - every raw byte of member *k* (header, deflate data, trailer) is passed to
///   `gzipReader(consumed:member:)` with `member == k`, in stream order, before any of the
///   decompressed bytes it produced are returned by `read(into:)`;
/// - `gzipReaderDidEnd(_:)` for member *k* comes after its trailer was checked and after **all** of
///   its decompressed bytes were returned to the reader's caller (so a tar parser has already seen
///   every entry the member holds), and before any raw byte of member *k + 1* is reported.
///
/// A throwing observer aborts the read; its error reaches the reader's caller unchanged.
public protocol GzipMemberObserver: AnyObject {
    /// Raw bytes of member `member`, as they are consumed.
    func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws
    /// Member `member.index` ended and its CRC-32 and size were verified.
    func gzipReaderDidEnd(_ member: GzipMember) throws
}

extension GzipMemberObserver {
    /// Ignores raw bytes by default.
    public func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws {}
    /// Ignores member ends by default.
    public func gzipReaderDidEnd(_ member: GzipMember) throws {}
}

/// A streaming gzip decoder that understands concatenated members the way apk does.
///
/// Two ways to read:
/// - **One stream** (`membersAsOneStream: true`, the default): `read(into:)` returns the decompressed
///   bytes of every member back to back, as `gunzip` and apk's `apk_istream_gunzip_mpart` do; the
///   observer still sees each member's raw bytes and end. One tar parser can run across all members
///   of an .apk.
/// - **Member by member** (`membersAsOneStream: false`): call `nextMember()` to start each member;
///   `read(into:)` returns 0 at the end of the current member until `nextMember()` is called again.
///
/// Every member's CRC-32 and ISIZE are checked; header flags FEXTRA/FNAME/FCOMMENT are skipped and
/// FHCRC is verified. Refused, each with its own `ArchiveError.Kind`: input that does not start
/// with a gzip header (`.notGzip`), input ending inside a member (`.truncated`), undecodable
/// deflate data (`.corrupt`), a wrong CRC/ISIZE (`.checksumMismatch`), anything after the last
/// member that is not another member (`.trailingGarbage`), and more decompressed bytes in total than
/// `maximumDecompressedSize` (`.tooLarge`, thrown before any byte beyond the cap is returned).
///
/// Memory is fixed: a 64 KiB input buffer, a 64 KiB output buffer and zlib's ~44 KiB state,
/// whatever the size of the input. Reads of 16 KiB or more are decompressed straight into the
/// caller's buffer.
///
/// When a consumer stops early (a tar reader that saw its end-of-archive blocks), call
/// `drainToEnd()` so the rest is still verified and hashed by the observer. After any error the
/// reader's position is undefined: discard it.
public final class GzipReader: ByteSource {
    /// Where the compressed bytes come from.
    public let source: any ByteSource
    /// Whether members are presented as one continuous stream.
    public let membersAsOneStream: Bool
    /// The most decompressed bytes accepted over the whole stream (`nil`: unlimited). It may be
    /// changed between reads, e.g. to allow a larger data section after a small control section.
    public var maximumDecompressedSize: Int64?
    /// Who is told about raw bytes and member ends (held strongly; must not hold the reader).
    public var observer: (any GzipMemberObserver)?

    /// Compressed bytes consumed so far (bytes read ahead into the buffer are not counted).
    public private(set) var compressedOffset: Int64 = 0
    /// Decompressed bytes produced so far, over all members.
    public private(set) var decompressedOffset: Int64 = 0
    /// How many members have ended (and were verified).
    public private(set) var completedMemberCount = 0
    /// The last member that ended.
    public private(set) var lastMember: GzipMember?

    private enum Phase {
        case header, body, trailer, memberDone, betweenMembers, finished
    }

    private var phase: Phase
    private let inflater: RawInflater
    private let inputBuffer: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private var sourceEnded = false
    private let outputBuffer: UnsafeMutableRawBufferPointer
    private var outputStart = 0
    private var outputEnd = 0

    private var memberStartCompressed: Int64 = 0
    private var memberStartDecompressed: Int64 = 0
    private var memberCRC = CRC32()
    private var memberSize: Int64 = 0
    private var headerCRC = CRC32()

    private static let bufferSize = 64 * 1024
    private static let directReadThreshold = 16 * 1024

    /// A decoder over `source`. `maximumDecompressedSize` caps the decompressed total (gzip bombs);
    /// `observer` sees each member's raw bytes and end.
    public init(
        source: any ByteSource,
        membersAsOneStream: Bool = true,
        maximumDecompressedSize: Int64? = nil,
        observer: (any GzipMemberObserver)? = nil
    ) throws {
        self.source = source
        self.membersAsOneStream = membersAsOneStream
        self.maximumDecompressedSize = maximumDecompressedSize
        self.observer = observer
        self.inflater = try RawInflater()
        self.inputBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        self.outputBuffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
        self.phase = membersAsOneStream ? .header : .betweenMembers
    }

    deinit {
        inputBuffer.deallocate()
        outputBuffer.deallocate()
    }

    /// The index of the member being read (or about to be read).
    public var currentMemberIndex: Int { completedMemberCount }

    /// Whether the whole input was consumed and verified.
    public var isFinished: Bool { phase == .finished }

    // MARK: Reading

    /// Returns decompressed bytes; 0 at the end of the stream (or, member by member, at the end of
    /// the current member).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if outputStart < outputEnd {
                let count = min(buffer.count, outputEnd - outputStart)
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: outputBuffer[outputStart..<outputStart + count]))
                outputStart += count
                return count
            }
            switch phase {
            case .header:
                phase = try beginMember() ? .body : .finished
            case .body:
                if buffer.count >= Self.directReadThreshold {
                    let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, zlibMaximumChunk)])
                    let produced = try inflateSome(into: target)
                    if produced > 0 { return produced }
                } else {
                    let produced = try inflateSome(into: outputBuffer)
                    outputStart = 0
                    outputEnd = produced
                }
            case .trailer:
                try readTrailer()
                phase = .memberDone
            case .memberDone:
                try endMember()
                phase = membersAsOneStream ? .header : .betweenMembers
            case .betweenMembers, .finished:
                return 0
            }
        }
    }

    /// Member by member: finishes the current member (its remaining output is decoded, verified and
    /// discarded) and starts the next one; the first call starts member 0. Returns false when the
    /// input holds no further member. Only for `membersAsOneStream: false` (otherwise it throws
    /// `.invalidArgument`).
    @discardableResult
    public func nextMember() throws -> Bool {
        guard !membersAsOneStream else {
            throw ArchiveError(.invalidArgument, "nextMember() needs a GzipReader made with membersAsOneStream: false")
        }
        switch phase {
        case .finished: return false
        case .betweenMembers: break
        default: try finishCurrentMember()
        }
        if try beginMember() {
            phase = .body
            return true
        }
        phase = .finished
        return false
    }

    /// Reads and discards everything left, verifying every remaining member (and letting the
    /// observer see its raw bytes and ends), up to the end of the input.
    public func drainToEnd() throws {
        outputStart = 0
        outputEnd = 0
        while phase != .finished {
            switch phase {
            case .betweenMembers:
                _ = try nextMember()
            case .header:
                phase = try beginMember() ? .body : .finished
            default:
                try finishCurrentMember()
            }
        }
    }

    /// Decodes the rest of the current member into the internal buffer and drops it, until the
    /// member's end has been reported.
    private func finishCurrentMember() throws {
        outputStart = 0
        outputEnd = 0
        while true {
            switch phase {
            case .body:
                _ = try inflateSome(into: outputBuffer)
            case .trailer:
                try readTrailer()
                phase = .memberDone
            case .memberDone:
                try endMember()
                phase = membersAsOneStream ? .header : .betweenMembers
                return
            case .header, .betweenMembers, .finished:
                return
            }
        }
    }

    // MARK: Member framing

    /// Parses the next member's header. Returns false at a clean end of input (only possible after
    /// at least one member).
    private func beginMember() throws -> Bool {
        let index = completedMemberCount
        let available = try fillInput(minimum: 10)
        if available < 10 {
            let bytes = UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<inputEnd])
            let looksLikeHeader = (bytes.count < 1 || bytes[0] == 0x1f) && (bytes.count < 2 || bytes[1] == 0x8b)
            if index == 0 {
                if available == 0 {
                    throw ArchiveError(.truncated, "input is empty, expected a gzip header")
                }
                if !looksLikeHeader { throw notGzip(bytes) }
                throw ArchiveError(.truncated, "input ends inside the gzip header of member 0 (\(available) bytes)")
            }
            if available == 0 { return false }
            if !looksLikeHeader { throw trailingGarbage(index) }
            throw ArchiveError(.truncated, "input ends inside the gzip header of member \(index) at offset \(compressedOffset)")
        }
        let fixed = UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<inputStart + 10])
        if fixed[0] != 0x1f || fixed[1] != 0x8b {
            throw index == 0 ? notGzip(fixed) : trailingGarbage(index)
        }
        if fixed[2] != 8 {
            throw ArchiveError(.unsupported, "gzip member \(index) at offset \(compressedOffset) uses compression method \(fixed[2]), not deflate")
        }
        let flags = fixed[3]
        if flags & 0xe0 != 0 {
            throw ArchiveError(.unsupported, "gzip member \(index) at offset \(compressedOffset) sets reserved header flags 0x\(String(flags, radix: 16))")
        }
        memberStartCompressed = compressedOffset
        memberStartDecompressed = decompressedOffset
        memberCRC = CRC32()
        memberSize = 0
        headerCRC = CRC32()
        try consumeHeader(10)
        if flags & 0x04 != 0 {  // FEXTRA: 2-byte little-endian length, then that many bytes
            guard try fillInput(minimum: 2) >= 2 else { throw truncatedHeader(index) }
            let length = Int(inputBuffer[inputStart]) | Int(inputBuffer[inputStart + 1]) << 8
            try consumeHeader(2)
            var remaining = length
            while remaining > 0 {
                guard try fillInput(minimum: 1) > 0 else { throw truncatedHeader(index) }
                let count = min(remaining, inputEnd - inputStart)
                try consumeHeader(count)
                remaining -= count
            }
        }
        if flags & 0x08 != 0 { try skipZeroTerminatedField(index) }  // FNAME
        if flags & 0x10 != 0 { try skipZeroTerminatedField(index) }  // FCOMMENT
        if flags & 0x02 != 0 {  // FHCRC: low 16 bits of the CRC-32 of the header so far
            guard try fillInput(minimum: 2) >= 2 else { throw truncatedHeader(index) }
            let stored = UInt16(inputBuffer[inputStart]) | UInt16(inputBuffer[inputStart + 1]) << 8
            if stored != UInt16(truncatingIfNeeded: headerCRC.value) {
                throw ArchiveError(.checksumMismatch, "gzip member \(index) at offset \(memberStartCompressed) has a bad header CRC")
            }
            try consume(2)
        }
        try inflater.reset()
        return true
    }

    private func skipZeroTerminatedField(_ index: Int) throws {
        while true {
            guard try fillInput(minimum: 1) > 0 else { throw truncatedHeader(index) }
            let bytes = UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<inputEnd])
            if let zero = bytes.firstIndex(of: 0) {
                try consumeHeader(zero - bytes.startIndex + 1)
                return
            }
            try consumeHeader(bytes.count)
        }
    }

    private func readTrailer() throws {
        let index = completedMemberCount
        guard try fillInput(minimum: 8) >= 8 else {
            throw ArchiveError(.truncated, "input ends inside the trailer of gzip member \(index) at offset \(compressedOffset)")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<inputStart + 8])
        let storedCRC = bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian
        let storedSize = bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian
        try consume(8)
        if storedCRC != memberCRC.value {
            throw ArchiveError(.checksumMismatch, "gzip member \(index) at offset \(memberStartCompressed): CRC-32 of the decompressed data is \(hex(memberCRC.value)), trailer says \(hex(storedCRC))")
        }
        if storedSize != UInt32(truncatingIfNeeded: memberSize) {
            throw ArchiveError(.checksumMismatch, "gzip member \(index) at offset \(memberStartCompressed) decompressed to \(memberSize) bytes, trailer says \(storedSize) (mod 2^32)")
        }
    }

    private func endMember() throws {
        let member = GzipMember(
            index: completedMemberCount,
            compressedOffset: memberStartCompressed,
            compressedSize: compressedOffset - memberStartCompressed,
            decompressedOffset: memberStartDecompressed,
            decompressedSize: memberSize
        )
        completedMemberCount += 1
        lastMember = member
        try observer?.gzipReaderDidEnd(member)
    }

    // MARK: Deflate data

    /// Inflates into `target` until at least one byte is produced or the member's deflate stream
    /// ends (then the phase moves on to the trailer). Returns the bytes produced.
    private func inflateSome(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if inputStart == inputEnd, try fillInput(minimum: 1) == 0 {
                throw ArchiveError(.truncated, "input ends inside the deflate data of gzip member \(completedMemberCount) at offset \(compressedOffset)")
            }
            let input = UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<min(inputEnd, inputStart + zlibMaximumChunk)])
            let step: RawInflater.Step
            do {
                step = try inflater.inflate(from: input, into: target)
            } catch let failure as InflateDataError {
                throw ArchiveError(.corrupt, "corrupt deflate data in gzip member \(completedMemberCount) near offset \(compressedOffset): \(failure.message)")
            }
            try consume(step.consumed)
            if step.produced > 0 {
                try account(UnsafeRawBufferPointer(rebasing: target[0..<step.produced]))
            }
            if step.reachedEnd {
                phase = .trailer
                return step.produced
            }
            if step.produced > 0 { return step.produced }
            if step.consumed == 0 {
                // zlib made no progress although it had input and room: cannot happen with a
                // healthy stream, but never spin on it.
                throw ArchiveError(.zlib, "inflate made no progress in gzip member \(completedMemberCount) at offset \(compressedOffset)")
            }
        }
    }

    /// Checksums freshly decompressed bytes and enforces the cap before they are handed out.
    private func account(_ produced: UnsafeRawBufferPointer) throws {
        memberCRC.update(produced)
        memberSize += Int64(produced.count)
        decompressedOffset += Int64(produced.count)
        if let maximumDecompressedSize, decompressedOffset > maximumDecompressedSize {
            throw ArchiveError(.tooLarge, "gzip stream decompresses to more than the \(maximumDecompressedSize)-byte limit (member \(completedMemberCount))")
        }
    }

    // MARK: Input buffer

    /// Makes at least `minimum` unconsumed bytes available if the source has them (compacting the
    /// buffer and reading as needed); returns how many are available.
    private func fillInput(minimum: Int) throws -> Int {
        if inputEnd - inputStart >= minimum || sourceEnded { return inputEnd - inputStart }
        if inputStart > 0 {
            let pending = inputEnd - inputStart
            if pending > 0 {
                inputBuffer.baseAddress!.copyMemory(from: inputBuffer.baseAddress! + inputStart, byteCount: pending)
            }
            inputStart = 0
            inputEnd = pending
        }
        while inputEnd < minimum {
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: inputBuffer[inputEnd...]))
            if count == 0 {
                sourceEnded = true
                break
            }
            inputEnd += count
        }
        return inputEnd - inputStart
    }

    /// Marks `count` buffered bytes as consumed and shows them to the observer.
    private func consume(_ count: Int) throws {
        guard count > 0 else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<inputStart + count])
        inputStart += count
        compressedOffset += Int64(count)
        try observer?.gzipReader(consumed: bytes, member: completedMemberCount)
    }

    /// Consumes header bytes, folding them into the header CRC used by FHCRC.
    private func consumeHeader(_ count: Int) throws {
        headerCRC.update(UnsafeRawBufferPointer(rebasing: inputBuffer[inputStart..<inputStart + count]))
        try consume(count)
    }

    // MARK: Errors

    private func notGzip(_ bytes: UnsafeRawBufferPointer) -> ArchiveError {
        let shown = bytes.prefix(4).map { hexByte($0) }.joined(separator: " ")
        return ArchiveError(.notGzip, "input is not gzip: it starts with \(shown), expected 1f 8b")
    }

    private func trailingGarbage(_ index: Int) -> ArchiveError {
        ArchiveError(.trailingGarbage, "unexpected bytes after gzip member \(index - 1), at offset \(compressedOffset): not another gzip member")
    }

    private func truncatedHeader(_ index: Int) -> ArchiveError {
        ArchiveError(.truncated, "input ends inside the gzip header of member \(index) at offset \(compressedOffset)")
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

private func hexByte(_ value: UInt8) -> String {
    value < 16 ? "0" + String(value, radix: 16) : String(value, radix: 16)
}
