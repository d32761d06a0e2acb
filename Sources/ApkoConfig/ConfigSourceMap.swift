/// Where the values of a loaded config were written, so problems found after merging includes and
/// applying command-line overrides (and, later, by the resolver) can point into the right file.
/// Lists run parallel to the configuration's lists; entries added on the command line are nil.
public struct ConfigSourceMap: Sendable, Equatable {
    /// One per `contents.packages` entry.
    public internal(set) var packages: [SourcePosition?] = []
    public internal(set) var repositories: [SourcePosition?] = []
    public internal(set) var buildRepositories: [SourcePosition?] = []
    public internal(set) var runtimeRepositories: [SourcePosition?] = []
    public internal(set) var keyring: [SourcePosition?] = []
    var runtimeKeyring: [SourcePosition?] = []
    var users: [SourcePosition?] = []
    var groups: [SourcePosition?] = []
    var paths: [SourcePosition?] = []
    var certificates: [SourcePosition?] = []
    /// Keys of single values, by their dotted path (`format`, `contents.baseimage`, `entrypoint`).
    var fields: [String: SourcePosition] = [:]

    public init() {}

    /// Where a single-valued key (`format`, `layering`, `entrypoint.type`, …) was written.
    public func location(ofField path: String) -> SourcePosition? {
        fields[path]
    }
}

/// Something a config does that apko accepts but that is almost certainly not what was meant
/// (a value apko silently ignores or overrides). Loading succeeds; the CLI prints these.
public struct ConfigWarning: Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var location: SourcePosition?

    public init(_ message: String, at location: SourcePosition?) {
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location { return "\(location): warning: \(message)" }
        return "warning: \(message)"
    }
}
