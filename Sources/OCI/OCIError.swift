import HTTPTransport
/// Everything the OCI module refuses or fails at, as one error type: a kind to match on, a one-line
/// message saying what is wrong, where it happened (a file, a blob, a registry URL) and, when there
/// is an obvious next step, a hint.
///
/// Errors from the layers below (Archive's streams, Foundation's file system, the HTTP transport)
/// are wrapped into an `OCIError` at the point where this module knows what it was doing, so the
/// CLI can always print one line.
public struct OCIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// An image reference (`registry/repo:tag@digest`) or a tag that does not parse.
        case invalidReference
        /// A JSON document (manifest, index, config, index.json, docker config) that does not decode,
        /// or a value that cannot be encoded.
        case invalidJSON
        /// A descriptor, digest or media type that is malformed or not supported.
        case invalidDescriptor
        /// Content whose SHA-256 differs from the digest it is published under.
        case digestMismatch
        /// Content whose length differs from the size its descriptor announces.
        case sizeMismatch
        /// A size cap was exceeded (a manifest, a response body, a JSON file).
        case tooLarge
        /// A blob, manifest or tag that should be there and is not.
        case notFound
        /// An OCI layout directory that is not one, or that cannot be written safely.
        case invalidLayout
        /// An image whose parts do not fit together (diff_ids vs layers, duplicate platforms).
        case invalidImage
        /// Reading or writing a local file failed.
        case io
        /// The connection to a registry failed (refused, reset, timed out, cut off).
        case transport
        /// The registry (or its token server) refused the credentials, or wanted some and none
        /// were given.
        case unauthorized
        /// The registry answered with an error status (a rejected manifest, a failed upload).
        case registry
        /// A parameter outside what the API accepts.
        case invalidArgument
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period, e.g. "manifest sha256:ab… rejected: MANIFEST_BLOB_UNKNOWN".
    public var message: String
    /// The file, blob or URL the problem is about, when known.
    public var source: String?
    /// What the user can do about it, when there is something obvious.
    public var hint: String?
    /// The HTTP status the registry answered with, for ``Kind/registry`` and ``Kind/unauthorized``
    /// errors that came from a response.
    public var status: Int?

    /// An error of `kind` with a one-line `message`.
    public init(_ kind: Kind, _ message: String, source: String? = nil, hint: String? = nil, status: Int? = nil) {
        self.kind = kind
        self.message = message
        self.source = source
        self.hint = hint
        self.status = status
    }

    /// `source: message (hint)`, leaving out the parts that are unknown.
    public var description: String {
        var text = message
        if let source { text = "\(source): \(text)" }
        if let hint { text += " (\(hint))" }
        return text
    }

    /// The same error, attributed to `source` unless it already names one.
    public func located(at source: String) -> OCIError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }
}

extension OCIError {
    /// Wraps an error thrown by a lower layer while doing `what`; an `OCIError` passes through
    /// (gaining `source` if it had none) so messages are not nested twice.
    static func wrapping(_ error: any Error, _ kind: Kind, _ what: String, source: String? = nil) -> OCIError {
        if let error = error as? OCIError {
            return source.map { error.located(at: $0) } ?? error
        }
        return OCIError(kind, "\(what): \(error)", source: source)
    }
}

/// Runs `body`, turning any error that is not already an `OCIError` into one of `kind`.
func mapErrors<Result>(_ kind: OCIError.Kind, _ what: @autoclosure () -> String, source: String? = nil,
                       _ body: () throws -> Result) throws(OCIError) -> Result {
    do {
        return try body()
    } catch {
        throw OCIError.wrapping(error, kind, what(), source: source)
    }
}

extension OCIError {
    /// The registry-side meaning of a transport failure: connection problems stay `.transport`
    /// (retried by the callers that retry), caps `.tooLarge`.
    init(transport error: HTTPTransportError, source: String?) {
        let kind: Kind
        switch error.kind {
        case .transport: kind = .transport
        case .tooLarge: kind = .tooLarge
        case .io: kind = .io
        case .authentication: kind = .unauthorized
        case .redirect: kind = .transport
        }
        self.init(kind, error.message, source: source)
    }
}
