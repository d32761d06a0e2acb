/// Everything the Archive module refuses, as one error type: a kind to match on and a one-line
/// message that says what is wrong and where (a byte offset when one is known).
///
/// Errors thrown by a caller's own sources, sinks or observers pass through the readers and
/// writers unchanged; only problems the Archive code detects itself are `ArchiveError`s.
public struct ArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// The input ended in the middle of a gzip member or a tar entry.
        case truncated
        /// The first bytes are not a gzip member header.
        case notGzip
        /// Deflate data that zlib cannot decode.
        case corrupt
        /// A gzip member's CRC-32 or ISIZE does not match what it decompressed to, or a gzip header
        /// CRC-16 is wrong.
        case checksumMismatch
        /// Bytes after the last gzip member that do not start another member.
        case trailingGarbage
        /// A size cap was exceeded: decompressed total, extended header, name length, entry count,
        /// or content larger than a caller's limit.
        case tooLarge
        /// A tar header whose stored checksum does not match its bytes.
        case badHeaderChecksum
        /// A block that is not a ustar/GNU tar header, or a header/PAX record that cannot be parsed.
        case malformedHeader
        /// An entry name that is absolute, has `.` or `..` components, or contains NUL or control
        /// characters.
        case unsafeName
        /// A format feature this module deliberately does not handle (sparse or multi-volume tar
        /// entries, gzip compression methods other than deflate).
        case unsupported
        /// Content that does not have the size its tar header announces.
        case sizeMismatch
        /// A parameter outside its allowed range (compression level, block size, entry fields).
        case invalidArgument
        /// Reading or writing a file descriptor failed.
        case io
        /// zlib reported an internal failure (out of memory, inconsistent stream state).
        case zlib
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period, e.g. "tar header checksum mismatch at offset 1536".
    public var message: String
    /// The file or stream the problem is in, when the caller attached one with `located(at:)`.
    public var source: String?

    /// An error of `kind` with a one-line `message`.
    public init(_ kind: Kind, _ message: String, source: String? = nil) {
        self.kind = kind
        self.message = message
        self.source = source
    }

    /// `source: message`, or just the message when no source is known.
    public var description: String {
        if let source { return "\(source): \(message)" }
        return message
    }

    /// The same error, attributed to `source` unless it already names one.
    public func located(at source: String) -> ArchiveError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }
}
