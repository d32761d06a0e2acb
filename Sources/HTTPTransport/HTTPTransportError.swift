/// Everything the HTTP transport refuses: a kind to match on (callers retry `.transport`) and a
/// one-line message naming the request.
public struct HTTPTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Equatable {
        /// The connection failed, was refused, reset or timed out, or the body was cut off
        /// (shorter than its `Content-Length`): worth retrying.
        case transport
        /// The body is longer than the caller's cap (or than its own `Content-Length`).
        case tooLarge
        /// Credentials that cannot be used (a malformed `HTTP_AUTH`).
        case authentication
        /// Writing the body to its file failed.
        case io
        /// A redirect that is not followed: to a scheme other than http(s), or one too many.
        case redirect
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, e.g. "GET https://host/x: the connection was reset (URLError -1005)".
    public var message: String

    /// An error of `kind`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
