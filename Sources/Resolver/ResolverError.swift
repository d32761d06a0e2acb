/// Everything the Resolver module refuses, as one error type: a kind to match on, a one-line
/// message, and — for an unsatisfiable world — the structured problems behind it.
public struct ResolverError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// The world cannot be satisfied; ``ResolverError/problems`` says why.
        case unsatisfiable
        /// A world entry names a repository tag no repository carries.
        case unknownTag
        /// More repositories than the solver's repository mask holds.
        case tooManyRepositories
        /// The architectures of a multi-arch build cannot agree on one version of a package.
        case inconsistentArchitectures
        /// A request that makes no sense (a malformed virtual package, an empty architecture list).
        case invalidRequest
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, e.g. "unable to select packages: nginx → so:libssl.so.3 → libssl3 (>= 3.2) — …".
    public var message: String
    /// For ``Kind/unsatisfiable``: every problem found, each with its shortest chain from the world.
    public var problems: [Problem]
    /// For ``Kind/unsatisfiable``: the explanation block apk-tools 2.14 prints for the same failure.
    public var apkReport: String?

    /// Creates an error from its parts.
    public init(_ kind: Kind, _ message: String, problems: [Problem] = [], apkReport: String? = nil) {
        self.kind = kind
        self.message = message
        self.problems = problems
        self.apkReport = apkReport
    }

    /// The one-line message.
    public var description: String { message }

    /// Every problem on its own line, for a terminal.
    public var explanation: String {
        if problems.isEmpty { return message }
        return problems.map(\.description).joined(separator: "\n")
    }
}
