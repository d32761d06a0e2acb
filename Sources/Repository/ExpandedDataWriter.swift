import APK
import Archive
import DistillCrypto
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
    /// SHA-256 and length of every byte of the data section, for the expansion record.
    private var hasher = DigestHasher(.sha256)
    private(set) var size: Int64 = 0

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
        hasher.update(bytes)
        size += Int64(bytes.count)
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

    /// SHA-256 of everything written (call once, after `finish()`).
    func digest() -> Digest {
        hasher.finalize()
    }

    /// Drops whatever was written (the package did not verify).
    func abandon() {
        try? existing?.close()
        existing = nil
        replacement?.abandon()
    }
}

/// `packages/<hex>.tar.record`: what an expansion was when its package verified, three lines
/// `size <bytes>`, `sha256 <hex>`, `datahash <hex>`.
struct ExpansionRecord: Hashable {
    var size: Int64
    var digest: Digest
    var dataHash: String

    /// The record is a few dozen bytes; anything longer is not one.
    static let maximumSize: Int64 = 4096

    var text: String {
        "size \(size)\nsha256 \(digest.hex)\ndatahash \(dataHash.lowercased())\n"
    }

    init(size: Int64, digest: Digest, dataHash: String) {
        self.size = size
        self.digest = digest
        self.dataHash = dataHash
    }

    /// Parses `text`; nil unless it is exactly a record.
    init?(parsing text: String) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, fields[String(parts[0])] == nil else { return nil }
            fields[String(parts[0])] = String(parts[1])
        }
        guard fields.count == 3, let size = fields["size"].flatMap({ Int64($0) }), size >= 0,
              let hex = fields["sha256"], let digest = try? Digest(algorithm: .sha256, hex: hex),
              let dataHash = fields["datahash"], dataHash.utf8.count == 64 else { return nil }
        self.init(size: size, digest: digest, dataHash: dataHash)
    }

    /// The record at `path` as an expansion of `expandedPath`; nil when either file is missing
    /// or the record does not parse (the package is then read in full).
    static func read(_ path: String, expandedPath: String) -> APKFile.Expansion? {
        guard Files.isRegularFile(path), Files.isRegularFile(expandedPath),
              let bytes = try? Files.read(path, limit: maximumSize),
              let record = ExpansionRecord(parsing: String(decoding: bytes, as: UTF8.self)) else { return nil }
        return APKFile.Expansion(path: expandedPath, size: record.size, digest: record.digest, dataHash: record.dataHash)
    }

    /// Writes the record atomically.
    func write(to path: String) throws(RepositoryError) {
        try Files.writeAtomically(Array(text.utf8), to: path)
    }
}
