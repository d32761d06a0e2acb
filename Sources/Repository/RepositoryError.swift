/// Everything the Repository module refuses, as one error type: a kind to match on, a one-line
/// message that says what is wrong, and the repository, URL or file it is about.
public struct RepositoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// A repository or keyring entry that is neither a local path nor a file/http(s) URL.
        case invalidLocation
        /// An index without a valid signature by a key in the keyring.
        case untrustedIndex
        /// An index that cannot be read (broken archive, bad records).
        case invalidIndex
        /// A package whose bytes do not match what the signed index (or the lock) says.
        case verificationFailed
        /// A package that cannot be read as an `.apk`.
        case invalidPackage
        /// A file or URL that does not exist (HTTP 404/410, a missing local file).
        case notFound
        /// `--offline`, and what is needed is not in the cache.
        case notCached
        /// A connection that failed, timed out or was cut off, after every retry.
        case network
        /// An HTTP status that is neither success nor one of the above.
        case httpStatus
        /// A size cap was exceeded (index, control or data section, HTTP response).
        case tooLarge
        /// A key that cannot be loaded.
        case keyring
        /// `HTTP_AUTH` or URL credentials that cannot be used.
        case authentication
        /// Reading or writing the cache or a local file failed.
        case io
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period.
    public var message: String
    /// The repository, URL or file the problem is about (credentials hidden), when known.
    public var source: String?

    /// An error of `kind` about `source`.
    public init(_ kind: Kind, _ message: String, source: String? = nil) {
        self.kind = kind
        self.message = message
        self.source = source
    }

    /// `source: message`, or the message alone.
    public var description: String {
        if let source { return "\(source): \(message)" }
        return message
    }
}
