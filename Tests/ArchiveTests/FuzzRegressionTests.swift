import Archive
import Foundation
import Testing

/// Inputs that trapped the tar reader (found while writing the fuzz-tar target and reproduced
/// through it), minimized and kept so each fix stays fixed. The bytes are stored gzip-compressed
/// in base64 because they are mostly zero blocks; each must now throw an `ArchiveError`.
@Suite struct ArchiveFuzzRegressionTests {
    /// The input bytes of a regression case.
    static func input(_ base64: String) throws -> [UInt8] {
        let compressed = try #require(Data(base64Encoded: base64))
        let reader = try GzipReader(source: MemorySource([UInt8](compressed)))
        return try reader.readAll(limit: 1 << 20)
    }

    /// One ustar header whose base-256 size field holds 2^63 - 1: skipping that content added its
    /// padding and overflowed Int64 (a trap in `skipContent` on the next `next()`).
    @Test func base256SizeNearInt64MaxIsRefused() throws {
        let bytes = try Self.input("H4sIAAAAAAACA0vKTGegNTAAAjMTEzANBHC6AShX/x8CDBCAwcDQ0NjMnEHBgIEOoLS4JLEI6CSGkQkAwZ+MlwACAAA=")
        #expect(bytes.count == 512)
        let reader = TarReader(source: MemorySource(bytes))
        #expect(throws: ArchiveError.self) {
            while try reader.next() != nil {}
        }
        do {
            _ = try TarReader(source: MemorySource(bytes)).next()
            Issue.record("a 2^63 - 1 byte entry was returned")
        } catch let error as ArchiveError {
            #expect(error.kind == .tooLarge)
            #expect(error.message.contains("9223372036854775807"))
        }
    }

    /// A PAX `mtime=-9223372036854775808.5`: rounding the fraction down subtracted one from
    /// Int64.min (a trap while building the entry).
    @Test func paxTimeBelowInt64MinIsRefused() throws {
        let bytes = try Self.input("H4sIAAAAAAACA9PT19N3CEis8EhNTEktYqAJMIAAXLSBgQkSGyRuaGBkYM6gUMFAB1BaXJJYBLSeYWQCYyOF3JLM3FRbXUsjI2NjcyMDYzMLUxNzc1MLAws9Uy6GUTCsQSId7ABlajMTE9z5H4NtZmBuxqBgMJr/aQ4AVesD8gAGAAA=")
        let reader = TarReader(source: MemorySource(bytes))
        do {
            _ = try reader.next()
            Issue.record("an mtime below Int64.min was accepted")
        } catch let error as ArchiveError {
            #expect(error.kind == .malformedHeader)
            #expect(error.message.contains("mtime"))
        }
    }

    /// The largest content size still believed reads normally up to the point where the stream
    /// ends (it is the cap, not the arithmetic, that refuses the case above).
    @Test func largestBelievedSizeEndsAsTruncated() throws {
        var header = try Self.input("H4sIAAAAAAACA0vKTGegNTAAAjMTEzANBHC6AShX/x8CDBCAwcDQ0NjMnEHBgIEOoLS4JLEI6CSGkQkAwZ+MlwACAAA=")
        // Size field: base-256 2^62, then the checksum recomputed.
        let size: [UInt8] = [0x80, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0]
        header.replaceSubrange(124..<136, with: size)
        header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        header.replaceSubrange(148..<156, with: [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, 0x20])
        let reader = TarReader(source: MemorySource(header))
        let entry = try #require(try reader.next())
        #expect(entry.size == 1 << 62)
        #expect(throws: ArchiveError(.truncated, "tar stream ends inside the content of 'big' at offset 512")) {
            _ = try reader.next()
        }
    }
}
