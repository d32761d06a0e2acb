import Archive
import Foundation

/// `apko.lock.json` (reference/apko.md §2.2): the exact packages, repositories and keys a config
/// resolved to. Reading is lenient about unknown keys, like Go's `encoding/json`; writing produces
/// the bytes apko writes (`json.MarshalIndent(lock, "", "  ")` plus a newline), so a lock file
/// round-trips byte for byte.
public struct Lockfile: Sendable, Equatable {
    /// `v1`.
    public var version: String
    /// The config the lock was made from; absent in locks from apko before 0.13.
    public var config: LockConfig?
    /// What was resolved.
    public var contents: LockContents

    /// A lock; `version` is `v1` for every lock apko writes today.
    public init(version: String = "v1", config: LockConfig? = nil, contents: LockContents = LockContents()) {
        self.version = version
        self.config = config
        self.contents = contents
    }

    /// The largest lock file read: one entry is under a kilobyte, so this allows tens of thousands.
    public static let maxBytes = YAMLLimits.lockfile.maxBytes

    /// Reads and parses a lock file.
    public static func read(path: String) throws -> Lockfile {
        try parse(try ConfigLoader.readFile(path: path, display: path, limit: maxBytes), name: path)
    }

    /// Parses lock file JSON; `name` is used in messages.
    public static func parse(_ bytes: [UInt8], name: String) throws -> Lockfile {
        guard let root = try YAMLComposer.compose(bytes, file: name, limits: .lockfile) else {
            throw ConfigError(.syntax, "the lock file is empty", file: name)
        }
        return try LockDecoder(decoder: NodeDecoder(file: name)).lockfile(root)
    }

    /// The JSON apko writes for this lock.
    public func encoded() -> [UInt8] {
        var object: [(String, GoJSON)] = [("version", .string(version))]
        if let config {
            object.append(("config", .object([("name", .string(config.name)), ("checksum", .string(config.checksum))])))
        }
        object.append(("contents", .object([
            ("keyring", .array(contents.keyring.map { key in
                var fields: [(String, GoJSON)] = [("name", .string(key.name)), ("url", .string(key.url))]
                if !key.content.isEmpty { fields.append(("content", .string(key.content))) }
                return .object(fields)
            })),
            ("build_repositories", .array(contents.buildRepositories.map(\.json))),
            ("runtime_repositories", .array(contents.runtimeRepositories.map(\.json))),
            ("repositories", .array(contents.repositories.map(\.json))),
            ("packages", .array(contents.packages.map(\.json))),
        ])))
        var text = ""
        GoJSON.object(object).write(into: &text, indent: 0)
        text += "\n"
        return Array(text.utf8)
    }

    /// Writes the lock atomically: to a temporary name in the same directory, flushed, then
    /// renamed. The temporary name carries the process id (Archive's `TemporaryName` rule), so a
    /// killed writer's leftover is recognisable; the lock file itself is the old one or the new one.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        // What a killed writer of this same lock left (its pid no longer runs) goes first.
        TemporaryName.removeAbandoned(in: url.deletingLastPathComponent().path) { $0 == url.lastPathComponent }
        let temporary = URL(fileURLWithPath: TemporaryName.sibling(of: path))
        do {
            try Data(encoded()).write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw ConfigError(.io, "cannot rename the lock file into place: \(reason)", file: path)
            }
        } catch let error as ConfigError {
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ConfigError(.io, "cannot write the lock file: \(error.localizedDescription)", file: path)
        }
    }
}

/// `config`: which config the lock was made from.
public struct LockConfig: Sendable, Equatable {
    /// The config path as given to `lock`.
    public var name: String
    /// `sha256-<base64>` of the config's bytes followed by its includes' bytes.
    public var checksum: String

    /// The config named `name` with its checksum.
    public init(name: String, checksum: String) {
        self.name = name
        self.checksum = checksum
    }
}

/// `contents`.
public struct LockContents: Sendable, Equatable {
    /// Keys, sorted by name; `content` is the PEM text when apko embedded it.
    public var keyring: [LockKeyring] = []
    /// One entry per `build_repositories` repository and architecture.
    public var buildRepositories: [LockRepository] = []
    /// One entry per `runtime_repositories` repository and architecture.
    public var runtimeRepositories: [LockRepository] = []
    /// One entry per `repositories` repository and architecture.
    public var repositories: [LockRepository] = []
    /// In install order, all of one architecture and then the next.
    public var packages: [LockPackage] = []

    /// Contents; all empty by default.
    public init(keyring: [LockKeyring] = [], buildRepositories: [LockRepository] = [],
                runtimeRepositories: [LockRepository] = [], repositories: [LockRepository] = [],
                packages: [LockPackage] = []) {
        self.keyring = keyring
        self.buildRepositories = buildRepositories
        self.runtimeRepositories = runtimeRepositories
        self.repositories = repositories
        self.packages = packages
    }
}

/// One key: `name` is the URL without its scheme.
public struct LockKeyring: Sendable, Equatable {
    /// The key URL without its scheme.
    public var name: String
    /// Where the key was fetched from, as configured.
    public var url: String
    /// Omitted from the JSON when empty.
    public var content: String

    /// A key fetched from `url`.
    public init(name: String, url: String, content: String = "") {
        self.name = name
        self.url = url
        self.content = content
    }
}

/// One repository index for one architecture.
public struct LockRepository: Sendable, Equatable {
    /// `<host/path>/<apk arch>`.
    public var name: String
    /// The `APKINDEX.tar.gz` URL.
    public var url: String
    /// The apk architecture name.
    public var architecture: String

    /// A repository index for one architecture.
    public init(name: String, url: String, architecture: String) {
        self.name = name
        self.url = url
        self.architecture = architecture
    }

    var json: GoJSON {
        .object([("name", .string(name)), ("url", .string(url)), ("architecture", .string(architecture))])
    }
}

/// One package, with the byte ranges and hashes of its three sections.
public struct LockPackage: Sendable, Equatable {
    /// The package name.
    public var name: String
    /// The `.apk` URL.
    public var url: String
    /// The package version.
    public var version: String
    /// The apk architecture name.
    public var architecture: String
    /// The signature section (empty range and checksum for unsigned packages).
    public var signature: LockRange
    /// The control section (its sha1 is the package identity).
    public var control: LockRange
    /// The data section (its sha256 is `.PKGINFO`'s `datahash`).
    public var data: LockRange
    /// `Q1<base64 sha1>` of the control section, as in APKINDEX `C:`.
    public var checksum: String

    /// A locked package.
    public init(name: String, url: String, version: String, architecture: String, signature: LockRange,
                control: LockRange, data: LockRange, checksum: String) {
        self.name = name
        self.url = url
        self.version = version
        self.architecture = architecture
        self.signature = signature
        self.control = control
        self.data = data
        self.checksum = checksum
    }

    var json: GoJSON {
        .object([
            ("name", .string(name)), ("url", .string(url)), ("version", .string(version)),
            ("architecture", .string(architecture)), ("signature", signature.json), ("control", control.json),
            ("data", data.json), ("checksum", .string(checksum)),
        ])
    }
}

/// `bytes=<first>-<last>` and `sha1-<base64>` / `sha256-<base64>`.
public struct LockRange: Sendable, Equatable {
    /// An HTTP range, `bytes=<first>-<last>`; empty when the section is absent.
    public var range: String
    /// `sha1-<base64>` or `sha256-<base64>`; empty when the section is absent.
    public var checksum: String

    /// A section's range and hash.
    public init(range: String, checksum: String) {
        self.range = range
        self.checksum = checksum
    }

    var json: GoJSON {
        .object([("range", .string(range)), ("checksum", .string(checksum))])
    }
}

/// Reads a lock from composed JSON, with positions in its messages.
private struct LockDecoder {
    let decoder: NodeDecoder

    /// A JSON object's members; unknown members are ignored as Go ignores them.
    private func members(_ node: YAMLNode, path: String) throws -> [String: YAMLNode] {
        guard case .mapping(let pairs) = node.content else {
            if node.isNull { return [:] }
            throw decoder.error(.wrongType, "\(path) must be an object, not \(node.kindDescription)", at: node)
        }
        var result: [String: YAMLNode] = [:]
        for pair in pairs { result[pair.key] = pair.value }
        return result
    }

    private func string(_ object: [String: YAMLNode], _ key: String, path: String) throws -> String {
        guard let node = object[key] else { return "" }
        guard case .scalar(let scalar) = node.content, scalar.style == .quoted || scalar.isNull else {
            throw decoder.error(.wrongType, "\(path).\(key) must be a string, not \(node.kindDescription)", at: node)
        }
        return scalar.isNull ? "" : scalar.text
    }

    private func array<Element>(_ object: [String: YAMLNode], _ key: String, path: String,
                                _ element: (YAMLNode, String) throws -> Element) throws -> [Element] {
        guard let node = object[key], !node.isNull else { return [] }
        guard case .sequence(let items) = node.content else {
            throw decoder.error(.wrongType, "\(path).\(key) must be an array, not \(node.kindDescription)", at: node)
        }
        return try items.enumerated().map { try element($1, "\(path).\(key)[\($0)]") }
    }

    func lockfile(_ root: YAMLNode) throws -> Lockfile {
        let top = try members(root, path: "the lock file")
        guard top["version"] != nil, let contentsNode = top["contents"] else {
            throw decoder.error(.invalidValue, "this is not an apko lock file: it has no \"version\" and \"contents\"", at: root)
        }
        var lock = Lockfile(version: try string(top, "version", path: "lock"))
        if let configNode = top["config"], !configNode.isNull {
            let config = try members(configNode, path: "config")
            lock.config = LockConfig(name: try string(config, "name", path: "config"),
                                     checksum: try string(config, "checksum", path: "config"))
        }
        let contents = try members(contentsNode, path: "contents")
        lock.contents.keyring = try array(contents, "keyring", path: "contents") { node, path in
            let key = try members(node, path: path)
            return LockKeyring(name: try string(key, "name", path: path), url: try string(key, "url", path: path),
                               content: try string(key, "content", path: path))
        }
        let repository: (YAMLNode, String) throws -> LockRepository = { node, path in
            let repo = try members(node, path: path)
            return LockRepository(name: try string(repo, "name", path: path), url: try string(repo, "url", path: path),
                                  architecture: try string(repo, "architecture", path: path))
        }
        lock.contents.buildRepositories = try array(contents, "build_repositories", path: "contents", repository)
        lock.contents.runtimeRepositories = try array(contents, "runtime_repositories", path: "contents", repository)
        lock.contents.repositories = try array(contents, "repositories", path: "contents", repository)
        lock.contents.packages = try array(contents, "packages", path: "contents") { node, path in
            let package = try members(node, path: path)
            func range(_ key: String) throws -> LockRange {
                let object = try members(package[key] ?? YAMLNode(content: .mapping([]), line: node.line, column: node.column),
                                         path: "\(path).\(key)")
                return LockRange(range: try string(object, "range", path: "\(path).\(key)"),
                                 checksum: try string(object, "checksum", path: "\(path).\(key)"))
            }
            return LockPackage(name: try string(package, "name", path: path), url: try string(package, "url", path: path),
                               version: try string(package, "version", path: path),
                               architecture: try string(package, "architecture", path: path),
                               signature: try range("signature"), control: try range("control"), data: try range("data"),
                               checksum: try string(package, "checksum", path: path))
        }
        return lock
    }
}

/// JSON as Go's `encoding/json` writes it with `MarshalIndent(v, "", "  ")`: members in struct
/// order, `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`…, `\b` and `\f` short (Go 1.22+),
/// other control characters as `\u00XX`, empty arrays as `[]`.
indirect enum GoJSON {
    case string(String)
    case array([GoJSON])
    case object([(String, GoJSON)])

    func write(into output: inout String, indent: Int) {
        switch self {
        case .string(let text):
            Self.writeString(text, into: &output)
        case .array(let items):
            if items.isEmpty {
                output += "[]"
                return
            }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += String(repeating: "  ", count: indent + 1)
                item.write(into: &output, indent: indent + 1)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "]"
        case .object(let members):
            if members.isEmpty {
                output += "{}"
                return
            }
            output += "{\n"
            for (index, (key, value)) in members.enumerated() {
                output += String(repeating: "  ", count: indent + 1)
                Self.writeString(key, into: &output)
                output += ": "
                value.write(into: &output, indent: indent + 1)
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "}"
        }
    }

    private static func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                let digits = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default:
                if scalar.value < 0x20 {
                    output += "\\u00" + hex(UInt8(scalar.value))
                } else {
                    output.unicodeScalars.append(scalar)
                }
            }
        }
        output += "\""
    }
}
