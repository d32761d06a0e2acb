/// Where the values of a loaded config were written, so problems found after merging includes and
/// applying command-line overrides (and, later, by the resolver) can point into the right file.
/// Lists run parallel to the configuration's lists; entries added on the command line are nil.
public struct ConfigSourceMap: Sendable, Equatable {
    /// One per `contents.packages` entry.
    public internal(set) var packages: [SourcePosition?] = []
    /// One per `contents.repositories` entry.
    public internal(set) var repositories: [SourcePosition?] = []
    /// One per `contents.build_repositories` entry.
    public internal(set) var buildRepositories: [SourcePosition?] = []
    /// One per `contents.runtime_repositories` entry.
    public internal(set) var runtimeRepositories: [SourcePosition?] = []
    /// One per `contents.keyring` entry.
    public internal(set) var keyring: [SourcePosition?] = []
    var runtimeKeyring: [SourcePosition?] = []
    var users: [SourcePosition?] = []
    var groups: [SourcePosition?] = []
    var paths: [SourcePosition?] = []
    var certificates: [SourcePosition?] = []
    /// Keys of single values, by their dotted path (`format`, `contents.baseimage`, `entrypoint`).
    var fields: [String: SourcePosition] = [:]

    /// An empty map, for a configuration built in code.
    public init() {}

    /// Where a single-valued key (`format`, `layering`, `entrypoint.type`, …) was written.
    public func location(ofField path: String) -> SourcePosition? {
        fields[path]
    }
}

/// Something a config does that apko accepts but that is almost certainly not what was meant
/// (a value apko silently ignores or overrides). Loading succeeds; the CLI prints these.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    /// One line, no trailing period.
    public var message: String
    /// Where the value is, when it came from a file.
    public var location: SourcePosition?

    /// A warning about the value at `location`.
    public init(_ message: String, at location: SourcePosition?) {
        self.message = message
        self.location = location
    }

    /// `file:line:column: warning: message`.
    public var description: String {
        if let location { return "\(location): warning: \(message)" }
        return "warning: \(message)"
    }
}
