internal import CZlib

/// The CRC-32 used by gzip (IEEE 802.3 polynomial, reflected), computed by zlib.
public struct CRC32: Sendable, Equatable {
    /// The checksum of everything fed so far (0 for no bytes).
    public private(set) var value: UInt32 = 0

    /// A checksum of no bytes.
    public init() {}

    /// The checksum of `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        update(bytes)
    }

    /// The checksum of `bytes`.
    public init(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Extends the checksum with `bytes`.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
        var remaining = bytes.count
        var crc = UInt(value)
        // crc32's length is a 32-bit uInt: feed huge buffers in pieces.
        while remaining > 0 {
            let piece = min(remaining, 1 << 30)
            crc = crc32(crc, base, uInt(piece))
            base += piece
            remaining -= piece
        }
        value = UInt32(truncatingIfNeeded: crc)
    }

    /// The checksum of A followed by B, from A's checksum, B's checksum and B's length, without
    /// the bytes themselves (what lets blocks be checksummed on separate threads).
    public static func combine(_ first: UInt32, _ second: UInt32, secondLength: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(UInt(first), UInt(second), .init(secondLength)))
    }
}
