import Dispatch

/// Parses index text on a second thread while the caller's thread inflates, hashes and untars
/// the next pieces, so reading a large signed index takes about as long as the slower of the two
/// rather than their sum (inflating an index and parsing it cost about the same).
///
/// Pieces go round a small ring of buffers: the reader fills a free one and hands it over, the
/// parser gives it back when it is done with it. A fault in the text is kept rather than thrown
/// (`APKIndexFile` reports it after the rest of the archive was read); the text after it is
/// drained unparsed.
///
/// The reader must call ``waitUntilIdle()`` before it lets go of the parser, also when it
/// stops early on an error: until then the parser may still be reading a buffer.
final class PipelinedIndexParser: @unchecked Sendable {
    // @unchecked: `parser` and `fault` are only touched by work items on the serial `queue`
    // (`finish()` runs there too). A buffer belongs to the reader from `free.wait()` until it is
    // handed over, then to the parser until it signals `free`. `nextBuffer` is the reader's.
    private var parser: IndexTextParser
    private var fault: APKError?
    private let queue = DispatchQueue(label: "distill.apkindex.parse")
    private let free: DispatchSemaphore
    private let buffers: [UnsafeMutableBufferPointer<UInt8>]
    private var nextBuffer = 0

    /// One buffer's worth of text, handed to the parser's queue.
    private struct Piece: @unchecked Sendable {
        let bytes: UnsafeBufferPointer<UInt8>
    }

    /// - Parameters:
    ///   - pieceSize: bytes per buffer.
    ///   - depth: buffers in the ring: how far the reader may run ahead of the parser.
    init(source: String?, expectedSize: Int, pieceSize: Int, depth: Int) {
        parser = IndexTextParser(source: source, expectedSize: expectedSize)
        free = DispatchSemaphore(value: depth)
        buffers = (0..<depth).map { _ in .allocate(capacity: pieceSize) }
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    /// Fills the next free buffer by calling `fill` until the buffer is full or `fill` returns 0
    /// (the end of the text), and hands what it got to the parser. Returns whether the buffer was
    /// filled (more text may follow).
    func push(_ fill: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Bool {
        free.wait()
        let buffer = buffers[nextBuffer]
        nextBuffer = (nextBuffer + 1) % buffers.count
        var count = 0
        do {
            while count < buffer.count {
                let read = try fill(UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[count...])))
                if read == 0 { break }
                count += read
            }
        } catch {
            free.signal()
            throw error
        }
        guard count > 0 else {
            free.signal()
            return false
        }
        let piece = Piece(bytes: UnsafeBufferPointer(rebasing: buffer[..<count]))
        queue.async { self.parse(piece) }
        return count == buffer.count
    }

    /// Blocks until the parser has finished every piece handed to it.
    func waitUntilIdle() {
        queue.sync {}
    }

    /// Waits for the parser and returns every record, or the first fault in the text.
    func finish() -> Result<[PackageInfo], APKError> {
        queue.sync {
            if let fault { return .failure(fault) }
            do {
                return .success(try parser.finish())
            } catch {
                return .failure(Self.apkError(error))
            }
        }
    }

    private func parse(_ piece: Piece) {
        defer { free.signal() }
        guard fault == nil else { return }
        do {
            try parser.feed(piece.bytes)
        } catch {
            fault = Self.apkError(error)
        }
    }

    /// The parser throws only `APKError`s; anything else would be a bug, reported as a fault in
    /// the index rather than lost.
    private static func apkError(_ error: any Error) -> APKError {
        error as? APKError ?? APKError(.malformedIndex, "\(error)")
    }
}
