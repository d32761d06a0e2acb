import Archive
import FuzzSupport

// Feeds arbitrary bytes to GzipReader in both of its modes. Thrown errors are the expected
// outcome for nearly every input; only crashes, traps, sanitizer reports and hangs are findings.

/// Small enough that a gzip bomb ends within milliseconds, large enough for real members.
let decompressedCap: Int64 = 256 * 1024

/// Counts the raw bytes and member ends the reader reports, and checks they add up.
final class CountingObserver: GzipMemberObserver {
    var consumed: Int64 = 0
    var members: [GzipMember] = []

    func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws {
        precondition(member == members.count, "raw bytes reported for member \(member) while member \(members.count) is open")
        consumed += Int64(bytes.count)
    }

    func gzipReaderDidEnd(_ member: GzipMember) throws {
        precondition(member.index == members.count, "member \(member.index) ended out of order")
        precondition(member.compressedOffset + member.compressedSize == consumed, "member end does not match the bytes consumed")
        members.append(member)
    }
}

/// One stream: read everything with a buffer size chosen by the input, so both the buffered
/// path and the direct path (reads of 16 KiB or more) are exercised.
func readAsOneStream(_ bytes: [UInt8]) {
    let observer = CountingObserver()
    let sizes = [13, 511, 4096, 16 * 1024, 70_000]
    let size = sizes[(bytes.count / 4) % sizes.count]
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    defer { buffer.deallocate() }
    do {
        let reader = try GzipReader(source: MemorySource(bytes), maximumDecompressedSize: decompressedCap, observer: observer)
        var total: Int64 = 0
        while true {
            let count = try reader.read(into: buffer)
            if count == 0 { break }
            precondition(count <= size)
            total += Int64(count)
        }
        precondition(reader.isFinished)
        precondition(total == reader.decompressedOffset && total <= decompressedCap)
        precondition(reader.compressedOffset == Int64(bytes.count), "a finished reader consumed every input byte")
        precondition(observer.consumed == Int64(bytes.count))
    } catch {
        // Refused input: fine.
    }
}

/// Member by member, reading part of each member and letting `nextMember()` finish it.
func readMemberByMember(_ bytes: [UInt8]) {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 16)
    defer { buffer.deallocate() }
    do {
        let reader = try GzipReader(source: MemorySource(bytes), membersAsOneStream: false, maximumDecompressedSize: decompressedCap)
        var members = 0
        while try reader.nextMember() {
            members += 1
            _ = try reader.read(into: buffer)
        }
        precondition(reader.isFinished && reader.completedMemberCount == members)
        try reader.drainToEnd()
    } catch {
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGzip(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    // One mode per input (the length picks it) keeps the exec rate up; both see every input shape.
    if bytes.count % 4 == 3 {
        readMemberByMember(bytes)
    } else {
        readAsOneStream(bytes)
    }
    return 0
}
