/// The 512-byte ustar header: field positions, numeric encodings, checksum, PAX records.
/// Shared by the reader and the writer; nothing here is public.
enum TarHeader {
    static let blockSize = 512

    // Field ranges (POSIX ustar; GNU keeps the same positions up to `devminor`).
    static let name = 0..<100
    static let mode = 100..<108
    static let uid = 108..<116
    static let gid = 116..<124
    static let size = 124..<136
    static let mtime = 136..<148
    static let checksum = 148..<156
    static let typeFlag = 156
    static let linkName = 157..<257
    static let magic = 257..<263
    static let version = 263..<265
    static let userName = 265..<297
    static let groupName = 297..<329
    static let deviceMajor = 329..<337
    static let deviceMinor = 337..<345
    static let prefix = 345..<500

    /// POSIX ustar magic `ustar\0` and version `00`.
    static let posixMagic: [UInt8] = Array("ustar".utf8) + [0] + Array("00".utf8)
    /// GNU magic `ustar  \0` (the version bytes are part of it).
    static let gnuMagic: [UInt8] = Array("ustar  ".utf8) + [0]

    /// Bytes of padding after `size` bytes of content.
    static func padding(_ size: Int64) -> Int {
        Int((Int64(blockSize) - size % Int64(blockSize)) % Int64(blockSize))
    }

    // MARK: Reading fields

    /// The bytes of a string field up to its first NUL.
    static func stringBytes(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> ArraySlice<UInt8> {
        let field = block[range]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return ArraySlice(field[field.startIndex..<end])
    }

    /// A numeric field: octal digits (leading spaces allowed, ended by NUL, space or the field's
    /// end) or GNU base-256 (first byte 0x80 for positive, 0xff for negative two's complement).
    /// Returns nil when the field cannot be read as either.
    static func number(_ block: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty else { return 0 }
        let first = block[range.lowerBound]
        if first & 0x80 != 0 {
            let field = block[range]
            // Base-256: big-endian two's complement over the field, with the marker bit masked
            // for positive values.
            let negative = first == 0xff
            guard negative || first == 0x80 else { return nil }
            var value: Int64 = negative ? -1 : 0
            for (index, byte) in field.enumerated() {
                let digit = index == 0 ? (negative ? byte : byte & 0x7f) : byte
                // Refuse values that do not fit 63 bits (the top 8 bits must be pure sign).
                let top = value >> 55
                guard top == 0 || top == -1 else { return nil }
                value = value << 8 | Int64(digit)
            }
            return value
        }
        // Indexing the block directly (not the generic slice) keeps this cheap in debug builds,
        // where it runs several times per entry.
        var index = range.lowerBound
        let end = range.upperBound
        while index < end, block[index] == UInt8(ascii: " ") { index += 1 }
        var value: Int64 = 0
        var digits = 0
        while index < end {
            let byte = block[index]
            if byte == 0 || byte == UInt8(ascii: " ") { break }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7") else { return nil }
            digits += 1
            guard digits <= 21 else { return nil }  // 21 octal digits = 63 bits
            value = value * 8 + Int64(byte - UInt8(ascii: "0"))
            index += 1
        }
        return value
    }

    /// The stored checksum matches the unsigned byte sum (or, as some historic writers did, the
    /// signed sum) of the block with the checksum field read as spaces.
    static func checksumMatches(_ block: UnsafeRawBufferPointer) -> Bool {
        guard let stored = number(block, checksum) else { return false }
        // A plain loop over the bytes: this runs once per entry, and a tar bomb has millions of
        // entries, so it must stay cheap even in a debug build (no generic iterators).
        let bytes = block
        let checksumStart = checksum.lowerBound, checksumEnd = checksum.upperBound, count = bytes.count
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        var index = 0
        while index < count {
            let value = index >= checksumStart && index < checksumEnd ? UInt8(ascii: " ") : bytes[index]
            unsigned &+= Int64(value)
            signed &+= Int64(Int8(bitPattern: value))
            index += 1
        }
        return stored == unsigned || stored == signed
    }

    static func isZeroBlock(_ block: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index < block.count {
            if block[index] != 0 { return false }
            index += 1
        }
        return true
    }

    // MARK: Writing fields

    /// A new all-zero header block.
    static func emptyBlock() -> [UInt8] {
        [UInt8](repeating: 0, count: blockSize)
    }

    /// Copies `bytes` into a string field (no terminator when it fills the field exactly).
    static func put(_ bytes: some Collection<UInt8>, into block: inout [UInt8], _ range: Range<Int>) {
        precondition(bytes.count <= range.count)
        for (offset, byte) in bytes.enumerated() { block[range.lowerBound + offset] = byte }
    }

    /// The largest value an octal field of `width` bytes holds (width-1 digits and a NUL).
    static func octalLimit(_ width: Int) -> Int64 {
        (Int64(1) << (3 * Int64(width - 1))) - 1
    }

    /// Writes `value` as zero-padded octal digits ending in NUL; the value must fit.
    static func putOctal(_ value: Int64, into block: inout [UInt8], _ range: Range<Int>) {
        precondition(value >= 0 && value <= octalLimit(range.count))
        let digits = Array(String(value, radix: 8).utf8)
        let width = range.count - 1
        var field = [UInt8](repeating: UInt8(ascii: "0"), count: width - digits.count) + digits
        field.append(0)
        put(field, into: &block, range)
    }

    /// Writes `value` in GNU base-256 (for values octal cannot hold).
    static func putBase256(_ value: Int64, into block: inout [UInt8], _ range: Range<Int>) {
        var remaining = value
        for index in range.reversed() {
            block[index] = UInt8(truncatingIfNeeded: remaining)
            remaining >>= 8
        }
        block[range.lowerBound] = value < 0 ? 0xff : 0x80
    }

    /// Fills in the checksum field (six octal digits, NUL, space: the traditional layout).
    static func seal(_ block: inout [UInt8]) {
        for index in checksum { block[index] = UInt8(ascii: " ") }
        let sum = block.reduce(0) { $0 + Int64($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - digits.count) + digits + [0, UInt8(ascii: " ")]
        put(field, into: &block, checksum)
    }

    // MARK: PAX records

    /// Parses PAX extended header data: records `"<length> <key>=<value>\n"` where length counts
    /// the whole record. Values stay bytes (xattrs are binary). Returns nil on a malformed record.
    static func parseRecords(_ data: [UInt8]) -> [(key: String, value: [UInt8])]? {
        var records: [(key: String, value: [UInt8])] = []
        var index = 0
        while index < data.count {
            // Some writers pad the data with NULs; nothing but padding may follow.
            if data[index] == 0 {
                guard data[index...].allSatisfy({ $0 == 0 }) else { return nil }
                break
            }
            var length = 0
            var cursor = index
            while cursor < data.count, data[cursor] != UInt8(ascii: " ") {
                let byte = data[cursor]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), cursor - index < 10 else { return nil }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
                cursor += 1
            }
            guard cursor < data.count, cursor > index, length > cursor - index + 1,
                  index + length <= data.count, data[index + length - 1] == UInt8(ascii: "\n")
            else { return nil }
            let body = data[(cursor + 1)..<(index + length - 1)]
            guard let equals = body.firstIndex(of: UInt8(ascii: "=")), equals > body.startIndex,
                  let key = utf8String(body[body.startIndex..<equals])
            else { return nil }
            records.append((key, Array(body[(equals + 1)...])))
            index += length
        }
        return records
    }

    /// One PAX record with its self-inclusive length prefix.
    static func record(key: String, value: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [UInt8(ascii: "\n")]
        var length = body.count + String(body.count).utf8.count
        if String(length).utf8.count != String(body.count).utf8.count {
            length = body.count + String(length).utf8.count
        }
        return Array(String(length).utf8) + body
    }
}

/// The string for `bytes` when they are valid UTF-8, nil otherwise (never repairs silently).
func utf8String(_ bytes: some Collection<UInt8>) -> String? {
    let text = String(decoding: bytes, as: UTF8.self)
    return text.utf8.elementsEqual(bytes) ? text : nil
}
