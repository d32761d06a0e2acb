import Repository

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
        /// The packages cannot be composed into a rootfs (a file conflict, an unsafe path, …).
        case compose
        /// The OCI image cannot be made or written.
        case image
        /// The SBOM cannot be made or written.
        case sbom
        /// The image cannot be signed.
        case signing
        /// A registry refused or failed a push, or its credentials (see the message).
        case registry
        /// A build option is invalid (tag, output path, compression level, …).
        case option
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period.
    public var message: String
    /// Further lines for a terminal: for a resolution failure, every problem with its chain from
    /// the world.
    public var details: [String]
    /// What the build was doing when it failed, outermost first (`building x86_64`, `writing
    /// layer 1 of 2`), for `--log-level debug`; the message already says what is wrong.
    public var context: [String]
    /// Whether a trust check failed: an index signed by no trusted key, or a package that is not
    /// the one its signed index (or lock) names. The command line exits with its own status for
    /// these, so scripts can tell tampering from a broken network.
    public var failedVerification: Bool

    /// An error of `kind`.
    public init(_ kind: Kind, _ message: String, details: [String] = [], context: [String] = [],
                failedVerification: Bool = false) {
        self.kind = kind
        self.message = message
        self.details = details
        self.context = context
        self.failedVerification = failedVerification
    }

    /// A repository, keyring, index or package problem, keeping whether verification failed.
    init(repository error: RepositoryError) {
        self.init(.repository, error.description,
                  failedVerification: error.kind == .verificationFailed || error.kind == .untrustedIndex)
    }

    /// The same error with `step` as the outermost context.
    func during(_ step: String) -> DistillError {
        var copy = self
        copy.context.insert(step, at: 0)
        return copy
    }

    /// The one-line message.
    public var description: String { message }
}
