#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif
import Archive

/// Reads file contents out of the packages' expanded data tars by offset (`pread`), keeping a
/// few descriptors open. One reader serves one operation on one thread; each layer writer has
/// its own, so layers can be written concurrently.
final class ContentReader {
    /// The expanded data tar of each package, by install-order index.
    let sources: [String]
    /// The package names, for messages.
    let sourceNames: [String]
    private var descriptors: [Int: Int32] = [:]
    private var recentlyUsed: [Int] = []

    /// At most this many expanded tars are open at once; images have hundreds of packages.
    static let maximumOpenFiles = 32

    init(sources: [String], sourceNames: [String]) {
        self.sources = sources
        self.sourceNames = sourceNames
    }

    deinit {
        for descriptor in descriptors.values { _ = close(descriptor) }
    }

    private func descriptor(for source: Int) throws(RootfsError) -> Int32 {
        if let descriptor = descriptors[source] {
            if recentlyUsed.last != source {
                recentlyUsed.removeAll { $0 == source }
                recentlyUsed.append(source)
            }
            return descriptor
        }
        if descriptors.count >= Self.maximumOpenFiles, let oldest = recentlyUsed.first {
            recentlyUsed.removeFirst()
            if let descriptor = descriptors.removeValue(forKey: oldest) { _ = close(descriptor) }
        }
        let descriptor = open(sources[source], O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RootfsError(.io, "cannot open the expanded data of \(sourceNames[source]) at \(sources[source]): \(errorText(errno))",
                              packages: [sourceNames[source]])
        }
        descriptors[source] = descriptor
        recentlyUsed.append(source)
        return descriptor
    }

    /// Fills `buffer` with the bytes at `offset` of package `source`'s expanded tar; a file that
    /// ends early is an error (the tar changed or was truncated since it was verified).
    func read(source: Int, offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(RootfsError) {
        let descriptor = try descriptor(for: source)
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + Int64(done)))
            if count < 0 {
                if errno == EINTR { continue }
                throw RootfsError(.io, "cannot read the expanded data of \(sourceNames[source]): \(errorText(errno))",
                                  packages: [sourceNames[source]])
            }
            if count == 0 {
                throw RootfsError(.io, "the expanded data of \(sourceNames[source]) ends at \(offset + Int64(done)), before the file it lists",
                                  packages: [sourceNames[source]])
            }
            done += count
        }
    }

    /// The whole content, refusing more than `limit` bytes.
    func bytes(of content: FileContent, limit: Int, path: String) throws(RootfsError) -> [UInt8] {
        let size = content.size
        guard size <= Int64(limit) else {
            throw RootfsError(.tooLarge, "\(quoted(path)) is \(size) bytes, more than the \(limit) read into memory", path: path)
        }
        return try bytes(of: content, offset: 0, count: Int(size))
    }

    /// `count` bytes from `offset` of the content (fewer when the content ends first).
    func bytes(of content: FileContent, offset: Int64, count: Int) throws(RootfsError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(max(0, count))
        var position: Int64 = 0
        for piece in content.pieces {
            guard result.count < count else { break }
            let length = piece.length
            defer { position += length }
            let start = max(offset + Int64(result.count), position)
            guard start < position + length else { continue }
            let take = Int(min(Int64(count - result.count), position + length - start))
            switch piece {
            case .bytes(let bytes):
                let from = Int(start - position)
                result.append(contentsOf: bytes[from..<(from + take)])
            case .stored(let source, let pieceOffset, _):
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: take, alignment: 1)
                defer { buffer.deallocate() }
                try read(source: source, offset: pieceOffset + (start - position), into: buffer)
                result.append(contentsOf: buffer)
            }
        }
        return result
    }

    /// Streams the content to `sink` through a bounded buffer.
    func copy(_ content: FileContent, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        for piece in content.pieces {
            switch piece {
            case .bytes(let bytes):
                try bytes.withUnsafeBytes { try sink($0) }
            case .stored(let source, let offset, let length):
                var done: Int64 = 0
                while done < length {
                    let take = Int(min(Int64(buffer.count), length - done))
                    let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<take])
                    try read(source: source, offset: offset + done, into: slice)
                    try sink(UnsafeRawBufferPointer(slice))
                    done += Int64(take)
                }
            }
        }
    }
}

/// A file's content as a `ByteSource`, for `TarWriter.append(_:content:)`.
final class ContentSource: ByteSource {
    private let reader: ContentReader
    private let pieces: [FileContent.Piece]
    private var pieceIndex = 0
    private var pieceOffset: Int64 = 0

    init(_ content: FileContent, reader: ContentReader) {
        self.reader = reader
        self.pieces = content.pieces
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while pieceIndex < pieces.count {
            let piece = pieces[pieceIndex]
            let remaining = piece.length - pieceOffset
            if remaining <= 0 {
                pieceIndex += 1
                pieceOffset = 0
                continue
            }
            let take = Int(min(Int64(buffer.count), remaining))
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<take])
            switch piece {
            case .bytes(let bytes):
                bytes.withUnsafeBytes { all in
                    slice.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[Int(pieceOffset)..<(Int(pieceOffset) + take)]))
                }
            case .stored(let source, let offset, _):
                try reader.read(source: source, offset: offset + pieceOffset, into: slice)
            }
            pieceOffset += Int64(take)
            return take
        }
        return 0
    }
}

func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
