/// Where the values of a loaded config were written, so problems found after merging includes and
/// applying command-line overrides (and, later, by the resolver) can point into the right file.
/// Lists run parallel to the configuration's lists; entries added on the command line are nil.
public struct ConfigSourceMap: Sendable, Equatable {
    /// One per `contents.packages` entry.
    public internal(set) var packages: [SourceLocation?] = []
    public internal(set) var repositories: [SourceLocation?] = []
    public internal(set) var buildRepositories: [SourceLocation?] = []
    public internal(set) var runtimeRepositories: [SourceLocation?] = []
    public internal(set) var keyring: [SourceLocation?] = []
    var runtimeKeyring: [SourceLocation?] = []
    var users: [SourceLocation?] = []
    var groups: [SourceLocation?] = []
    var paths: [SourceLocation?] = []
    var certificates: [SourceLocation?] = []
    /// Keys of single values, by their dotted path (`format`, `contents.baseimage`, `entrypoint`).
    var fields: [String: SourceLocation] = [:]

    public init() {}

    /// Where a single-valued key (`format`, `layering`, `entrypoint.type`, …) was written.
    public func location(ofField path: String) -> SourceLocation? {
        fields[path]
    }
}

/// Something a config does that apko accepts but that is almost certainly not what was meant
/// (a value apko silently ignores or overrides). Loading succeeds; the CLI prints these.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation?) {
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): warning: \(message)" }
        return "warning: \(message)"
    }
}
