/// Everything the build pipeline refuses, as one error type: a kind to match on, one line saying
/// what is wrong and where, and — for a resolution failure — the chain of dependencies behind it.
public struct DistillError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: String, Sendable, Equatable {
        /// The config (or an override) is invalid.
        case config
        /// A repository, keyring, index or package problem (see the message).
        case repository
        /// The world cannot be resolved, or the architectures cannot agree on versions.
        case resolution
        /// A lock file that does not fit the config or the architectures being built.
        case lockfile
        /// A `--format` that is neither a named format nor a supported template.
        case format
        /// Writing an output failed.
        case io
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period.
    public var message: String
    /// Further lines for a terminal: for a resolution failure, every problem with its chain from
    /// the world.
    public var details: [String]

    /// An error of `kind`.
    public init(_ kind: Kind, _ message: String, details: [String] = []) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    /// The one-line message.
    public var description: String { message }
}
