#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

// The two protocols every reader and writer in this module is built on. They are class-bound on
// purpose: a stream has identity (a position, a file descriptor, a running digest), and an observer
// handed to a tee must be the very object the caller inspects afterwards, not a copy of it.

/// A pull source of bytes: a file, a buffer in memory, a decompressor, a tar entry's content.
///
/// Contract: `read(into:)` fills a prefix of `buffer` and returns how many bytes it wrote. It
/// returns 0 only at the end of the stream (or when `buffer` is empty); a short read is not the
/// end. After the end, further calls keep returning 0. Errors are thrown, never signalled by 0.
public protocol ByteSource: AnyObject {
    /// Copies the next bytes into `buffer`; returns their count, 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// A push sink of bytes: a file, a buffer in memory, a compressor, a hasher.
///
/// Contract: `write(_:)` takes all of `bytes` or throws; the pointer is only valid during the call.
public protocol ByteSink: AnyObject {
    /// Consumes every byte of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// The buffer size the module uses when it copies between streams: large enough that per-call
/// overhead vanishes, small enough to stay in cache.
let streamChunkSize = 64 * 1024

extension ByteSource {
    /// Reads until `buffer` is full or the stream ends; returns the number of bytes read, which is
    /// less than `buffer.count` only at the end of the stream.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { break }
            filled += count
        }
        return filled
    }

    /// Reads the rest of the stream into memory, refusing (with `.tooLarge`) a stream longer than
    /// `limit` bytes so a hostile input cannot exhaust memory.
    public func readAll(limit: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: limit < streamChunkSize ? max(limit, 0) + 1 : streamChunkSize)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            if result.count + count > limit {
                throw ArchiveError(.tooLarge, "stream is longer than the \(limit)-byte limit")
            }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// Copies the rest of the stream into `sink` through a fixed buffer; returns the byte count.
    @discardableResult
    public func copy(to sink: any ByteSink) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: streamChunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let count = try read(into: buffer)
            if count == 0 { return total }
            try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += Int64(count)
        }
    }

    /// Reads and drops up to `count` bytes; returns how many were dropped (fewer only at the end).
    @discardableResult
    public func skip(_ count: Int64) throws -> Int64 {
        guard count > 0 else { return 0 }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: streamChunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var remaining = count
        while remaining > 0 {
            let want = Int(min(Int64(buffer.count), remaining))
            let got = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if got == 0 { break }
            remaining -= Int64(got)
        }
        return count - remaining
    }
}

extension ByteSink {
    /// Writes every byte of `bytes`.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes the UTF-8 bytes of `text`.
    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }
}

// MARK: - Files

/// Reads a file descriptor with `read(2)`, retrying on `EINTR`.
///
/// Foundation's `FileHandle` plugs in through its `fileDescriptor` (pass `closeWhenDone: false`
/// and let the handle keep ownership); the module itself does not import Foundation.
public final class FileDescriptorSource: ByteSource {
    /// The descriptor read from.
    public let fileDescriptor: Int32
    private let ownsDescriptor: Bool
    private var isClosed = false

    /// Reads `fileDescriptor` from its current position; closes it on `close()`/deinit only when
    /// `closeWhenDone` is true.
    public init(fileDescriptor: Int32, closeWhenDone: Bool) {
        self.fileDescriptor = fileDescriptor
        self.ownsDescriptor = closeWhenDone
    }

    /// Opens the file at `path` for reading, positioned at byte `offset`.
    public convenience init(path: String, offset: Int64 = 0) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw ArchiveError.posix("cannot open \(path)", errno) }
        self.init(fileDescriptor: descriptor, closeWhenDone: true)
        if offset != 0, lseek(descriptor, off_t(offset), SEEK_SET) < 0 {
            throw ArchiveError.posix("cannot seek \(path) to \(offset)", errno)
        }
    }

    deinit {
        if ownsDescriptor && !isClosed { _ = systemClose(fileDescriptor) }
    }

    /// Reads with `read(2)`; 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = systemRead(fileDescriptor, base, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw ArchiveError.posix("read failed on descriptor \(fileDescriptor)", errno)
        }
    }

    /// Closes the descriptor now if this source owns it (otherwise does nothing).
    public func close() throws {
        guard ownsDescriptor, !isClosed else { return }
        isClosed = true
        if systemClose(fileDescriptor) != 0 {
            throw ArchiveError.posix("close failed on descriptor \(fileDescriptor)", errno)
        }
    }
}

/// Writes to a file descriptor with `write(2)`, retrying on `EINTR` and short writes.
///
/// Atomic replacement (temporary name + rename) is the caller's job: this sink writes where told.
public final class FileDescriptorSink: ByteSink {
    /// The descriptor written to.
    public let fileDescriptor: Int32
    private let ownsDescriptor: Bool
    private var isClosed = false

    /// Writes to `fileDescriptor`; closes it on `close()`/deinit only when `closeWhenDone` is true.
    public init(fileDescriptor: Int32, closeWhenDone: Bool) {
        self.fileDescriptor = fileDescriptor
        self.ownsDescriptor = closeWhenDone
    }

    /// Creates (or truncates) the file at `path` with permission bits `mode`.
    public convenience init(creatingFileAt path: String, mode: UInt32 = 0o644) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        if descriptor < 0 { throw ArchiveError.posix("cannot create \(path)", errno) }
        self.init(fileDescriptor: descriptor, closeWhenDone: true)
    }

    deinit {
        if ownsDescriptor && !isClosed { _ = systemClose(fileDescriptor) }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let count = systemWrite(fileDescriptor, base, remaining)
            if count < 0 {
                if errno == EINTR { continue }
                throw ArchiveError.posix("write failed on descriptor \(fileDescriptor)", errno)
            }
            base += count
            remaining -= count
        }
    }

    /// Flushes the file's data to stable storage (`fsync(2)`).
    public func synchronize() throws {
        if fsync(fileDescriptor) != 0 {
            throw ArchiveError.posix("fsync failed on descriptor \(fileDescriptor)", errno)
        }
    }

    /// Closes the descriptor now if this sink owns it; a failing close (a late write error on some
    /// file systems) is reported.
    public func close() throws {
        guard ownsDescriptor, !isClosed else { return }
        isClosed = true
        if systemClose(fileDescriptor) != 0 {
            throw ArchiveError.posix("close failed on descriptor \(fileDescriptor)", errno)
        }
    }
}

// The C functions share names with the protocol methods, so they are reached through these.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}

extension ArchiveError {
    static func posix(_ what: String, _ code: Int32) -> ArchiveError {
        ArchiveError(.io, "\(what): \(String(cString: strerror(code)))")
    }
}

// MARK: - Memory

/// Serves the bytes of an array.
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0

    /// A source over `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Copies the next bytes; 0 once all were served.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - position)
        guard count > 0 else { return 0 }
        bytes.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[position..<position + count]))
        }
        position += count
        return count
    }
}

/// Collects written bytes in memory, optionally refusing to grow beyond `limit`.
public final class MemorySink: ByteSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []
    /// The most bytes this sink accepts (`nil`: no limit).
    public let limit: Int?

    /// An empty sink; writes beyond `limit` bytes in total throw `.tooLarge`.
    public init(limit: Int? = nil) {
        self.limit = limit
    }

    /// Appends `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let limit, self.bytes.count + bytes.count > limit {
            throw ArchiveError(.tooLarge, "in-memory output would exceed its \(limit)-byte limit")
        }
        self.bytes.append(contentsOf: bytes)
    }

    /// Drops the collected bytes (the limit then applies afresh).
    public func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }
}

// MARK: - Adapters

/// Passes a source's bytes through unchanged while showing each chunk to an observer sink, in
/// order, before the reader gets it (a hasher sees exactly the bytes that were read).
public final class TeeSource: ByteSource {
    /// Where the bytes come from.
    public let source: any ByteSource
    /// Who sees every byte read.
    public let observer: any ByteSink

    /// A source that reads `source` and copies every chunk to `observer`.
    public init(_ source: any ByteSource, observer: any ByteSink) {
        self.source = source
        self.observer = observer
    }

    /// Reads from the source, then shows the bytes to the observer.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try source.read(into: buffer)
        if count > 0 { try observer.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
        return count
    }
}

/// Writes to a destination and shows the same bytes to an observer (e.g. a digest of a layer while
/// it is written).
public final class TeeSink: ByteSink {
    /// Where the bytes go.
    public let destination: any ByteSink
    /// Who sees every byte written.
    public let observer: any ByteSink

    /// A sink that writes to `destination` first, then to `observer`.
    public init(_ destination: any ByteSink, observer: any ByteSink) {
        self.destination = destination
        self.observer = observer
    }

    /// Writes to the destination, then to the observer.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try destination.write(bytes)
        try observer.write(bytes)
    }
}

/// A sink that hands each chunk to a closure; the shortest way to plug a hasher in.
public final class ClosureSink: ByteSink {
    private let body: (UnsafeRawBufferPointer) throws -> Void

    /// A sink that calls `body` with every chunk written.
    public init(_ body: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.body = body
    }

    /// Calls the closure.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try body(bytes)
    }
}

/// Drops what is written and counts it.
public final class CountingSink: ByteSink {
    /// Total bytes written.
    public private(set) var count: Int64 = 0

    /// A sink that counts and discards.
    public init() {}

    /// Counts `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        count += Int64(bytes.count)
    }
}

/// Serves at most `limit` bytes of another source (for instance one file's bytes out of a larger
/// stream), then reports the end.
public final class LimitedSource: ByteSource {
    private let source: any ByteSource
    /// Bytes still allowed.
    public private(set) var remaining: Int64

    /// A view of the next `limit` bytes of `source`.
    public init(_ source: any ByteSource, limit: Int64) {
        self.source = source
        self.remaining = max(limit, 0)
    }

    /// Reads up to the remaining allowance.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remaining > 0 else { return 0 }
        let want = Int(min(Int64(buffer.count), remaining))
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        remaining -= Int64(count)
        return count
    }
}
