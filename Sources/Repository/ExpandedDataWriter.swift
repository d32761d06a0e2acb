import Archive
import Foundation

/// The sink an `.apk`'s decompressed data section is written to while the package is verified,
/// ending as `packages/<hex>.tar` in the cache.
///
/// When that file already exists (a warm cache) the bytes are compared with it instead of written:
/// a matching file is kept as it is, so a warm build reads the cache but writes nothing. At the
/// first difference (a file that was cut short, edited, or belongs to a different expansion) the
/// writer switches to a temporary file, copies the prefix that matched, and carries on writing;
/// `finish()` renames it over the old file. Either way the file at `path` ends up byte-for-byte
/// the data section just verified.
final class ExpandedDataWriter: ByteSink {
    let path: String
    private var existing: FileDescriptorSource?
    private var replacement: TemporaryFile?
    /// Bytes that matched the existing file so far.
    private var matched: Int64 = 0
    private var comparisonBuffer: [UInt8] = []

    init(path: String) throws(RepositoryError) {
        self.path = path
        if Files.isRegularFile(path), let source = try? FileDescriptorSource(path: path) {
            existing = source
        } else {
            replacement = try TemporaryFile(finalPath: path)
        }
    }

    /// Whether the existing file was found identical (known after `finish()`).
    private(set) var reusedExistingFile = false

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let replacement {
            try replacement.sink.write(bytes)
            return
        }
        guard let existing else { return }
        if comparisonBuffer.count < bytes.count { comparisonBuffer = [UInt8](repeating: 0, count: bytes.count) }
        let count = try comparisonBuffer.withUnsafeMutableBytes { buffer in
            try existing.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes.count]))
        }
        let same = count == bytes.count && comparisonBuffer.withUnsafeBytes { buffer in
            memcmp(buffer.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
        if same {
            matched += Int64(bytes.count)
            return
        }
        try switchToReplacement()
        try replacement!.sink.write(bytes)
    }

    /// Leaves the compared file for a temporary one holding the `matched` bytes that agreed.
    private func switchToReplacement() throws {
        try? existing?.close()
        existing = nil
        let file = try TemporaryFile(finalPath: path)
        replacement = file
        if matched > 0 {
            let source = try FileDescriptorSource(path: path)
            defer { try? source.close() }
            let copied = try LimitedSource(source, limit: matched).copy(to: file.sink)
            guard copied == matched else {
                throw RepositoryError(.io, "the cached expansion changed while it was being compared", source: path)
            }
        }
    }

    /// Completes the file once the package verified: keeps an identical existing file, or
    /// renames the new one into place.
    func finish() throws {
        if let existing {
            var probe: UInt8 = 0
            let extra = try withUnsafeMutableBytes(of: &probe) { try existing.read(into: $0) }
            if extra == 0 {
                try? existing.close()
                self.existing = nil
                reusedExistingFile = true
                return
            }
            // The old file is longer than the data section: rewrite it at the right length.
            try switchToReplacement()
        }
        try replacement?.commit()
    }

    /// Drops whatever was written (the package did not verify).
    func abandon() {
        try? existing?.close()
        existing = nil
        replacement?.abandon()
    }
}
