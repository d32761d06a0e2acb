internal import CZlib

// Thin owners of a zlib `z_stream`. The struct lives at a fixed heap address because zlib's
// internal state keeps a pointer back to it (`state->strm`) and rejects a moved stream.

/// The largest count handed to zlib at once: `avail_in`/`avail_out` are 32-bit.
let zlibMaximumChunk = 1 << 30

/// A raw-deflate decoder (no zlib or gzip wrapper; the gzip framing is parsed by `GzipReader`).
final class RawInflater {
    private let stream: UnsafeMutablePointer<z_stream>

    /// What one `inflate` call did.
    struct Step {
        var consumed: Int
        var produced: Int
        var reachedEnd: Bool
    }

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if status != Z_OK {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ArchiveError(.zlib, "inflateInit2 failed with status \(status)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Forgets the previous member so the next deflate stream can start.
    func reset() throws {
        let status = inflateReset(stream)
        if status != Z_OK { throw ArchiveError(.zlib, "inflateReset failed with status \(status)") }
    }

    /// Decodes from `input` into `output`; both are at most `zlibMaximumChunk` bytes. Invalid data
    /// throws `InflateDataError` so the caller can word the error with its own offsets.
    func inflate(from input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Step {
        precondition(input.count <= zlibMaximumChunk && output.count <= zlibMaximumChunk)
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        let step = Step(
            consumed: input.count - Int(stream.pointee.avail_in),
            produced: output.count - Int(stream.pointee.avail_out),
            reachedEnd: status == Z_STREAM_END
        )
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch status {
        case Z_OK, Z_STREAM_END, Z_BUF_ERROR:
            return step
        case Z_DATA_ERROR, Z_NEED_DICT:
            throw InflateDataError(message: lastMessage ?? "invalid deflate data")
        case Z_MEM_ERROR:
            throw ArchiveError(.zlib, "inflate ran out of memory")
        default:
            throw ArchiveError(.zlib, "inflate failed with status \(status)")
        }
    }

    private var lastMessage: String? {
        stream.pointee.msg.map { String(cString: $0) }
    }
}

/// Invalid deflate data, with zlib's description of what is wrong.
struct InflateDataError: Error {
    var message: String
}

/// A raw-deflate encoder (no wrapper: gzip header and trailer are written by our own code so the
/// bytes do not depend on how zlib was built).
final class RawDeflater {
    private let stream: UnsafeMutablePointer<z_stream>

    /// How a `deflate` call ends its input.
    enum Flush {
        /// Buffer freely.
        case none
        /// Emit everything so far and align to a byte boundary with an empty stored block, leaving
        /// the stream open (how independently compressed blocks are glued together).
        case sync
        /// Emit everything and end the deflate stream (final block).
        case finish

        var zlibValue: Int32 {
            switch self {
            case .none: Z_NO_FLUSH
            case .sync: Z_SYNC_FLUSH
            case .finish: Z_FINISH
            }
        }
    }

    init(level: Int) throws {
        guard (0...9).contains(level) else {
            throw ArchiveError(.invalidArgument, "compression level \(level) is outside 0...9")
        }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits -15: raw deflate, 32 KiB window; memLevel 8 and the default strategy are what
        // gzip and pigz use, so the ratio matches theirs.
        let status = deflateInit2_(
            stream, Int32(level), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        if status != Z_OK {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw ArchiveError(.zlib, "deflateInit2 failed with status \(status)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Starts a new deflate stream with the same parameters.
    func reset() throws {
        let status = deflateReset(stream)
        if status != Z_OK { throw ArchiveError(.zlib, "deflateReset failed with status \(status)") }
    }

    /// Primes the window with the bytes that precede the next input, so matches may reach back
    /// into them (must be called right after `reset()`).
    func setDictionary(_ dictionary: UnsafeRawBufferPointer) throws {
        guard let base = dictionary.baseAddress, dictionary.count > 0 else { return }
        let status = deflateSetDictionary(stream, base.assumingMemoryBound(to: Bytef.self), uInt(dictionary.count))
        if status != Z_OK {
            throw ArchiveError(.zlib, "deflateSetDictionary failed with status \(status)")
        }
    }

    /// An upper bound of the compressed size of `count` input bytes in one call.
    func bound(_ count: Int) -> Int {
        Int(deflateBound(stream, uLong(count)))
    }

    /// Compresses from `input` into `output`; returns (consumed, produced, finished), where
    /// finished means `Z_STREAM_END` (only after `.finish`).
    func deflate(
        from input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer, flush: Flush
    ) throws -> (consumed: Int, produced: Int, finished: Bool) {
        precondition(input.count <= zlibMaximumChunk && output.count <= zlibMaximumChunk)
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.deflate(stream, flush.zlibValue)
        let consumed = input.count - Int(stream.pointee.avail_in)
        let produced = output.count - Int(stream.pointee.avail_out)
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        switch status {
        case Z_OK, Z_BUF_ERROR:
            return (consumed, produced, false)
        case Z_STREAM_END:
            return (consumed, produced, true)
        default:
            throw ArchiveError(.zlib, "deflate failed with status \(status)")
        }
    }
}

/// The gzip header every writer in this module emits: no name, no comment, MTIME 0, OS 255
/// ("unknown"), so output is the same on every machine. XFL follows gzip's convention
/// (2 = slowest/best, 4 = fastest) so tools that print it are not surprised.
func deterministicGzipHeader(level: Int) -> [UInt8] {
    let extraFlags: UInt8 = level >= 9 ? 2 : (level == 1 ? 4 : 0)
    return [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, extraFlags, 0xff]
}

/// The 8-byte gzip trailer: CRC-32 then ISIZE (length modulo 2^32), both little-endian.
func gzipTrailer(crc: UInt32, length: Int64) -> [UInt8] {
    let size = UInt32(truncatingIfNeeded: length)
    return [
        UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
        UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24),
        UInt8(truncatingIfNeeded: size), UInt8(truncatingIfNeeded: size >> 8),
        UInt8(truncatingIfNeeded: size >> 16), UInt8(truncatingIfNeeded: size >> 24),
    ]
}

/// The version of the zlib linked at run time (`zlibVersion()`), e.g. `1.2.13`.
let zlibLibraryVersion: String = String(cString: zlibVersion())
