import Foundation

/// A config read from disk: its includes merged in, every rule checked, nothing defaulted yet.
public struct LoadedConfig: Sendable {
    /// The merged configuration, as written (see ``ImageConfiguration/withDefaults()``).
    public var configuration: ImageConfiguration
    /// Where each value came from.
    public var sources: ConfigSourceMap
    /// The files read, the config first and then each include in turn, as displayed in messages.
    public var files: [String]
    /// The raw bytes of ``files``, in the same order: what the lockfile's config checksum covers.
    public var fileContents: [[UInt8]]
    var decodeWarnings: [ConfigWarning]

    /// Things apko accepts but ignores or overrides, which are almost certainly mistakes.
    public var warnings: [ConfigWarning] {
        decodeWarnings + ConfigValidation.warnings(for: configuration, sources: sources)
    }
}

/// Reads apko.yaml files: strict decoding with positions, `include:` with cycle detection, and the
/// validation rules of reference/apko.md §1.7.
public enum ConfigLoader {
    /// The most includes in one chain; real chains are two or three deep.
    public static let maxIncludeDepth = 16
    /// The largest config file read by default (`--max-config-size`): configs are a few
    /// kilobytes; 4 MiB leaves room for inline keys and certificates.
    public static let defaultMaximumFileSize = YAMLLimits.config.maxBytes

    /// Loads the config at `path`. An include is looked up relative to the file that names it,
    /// then in each of `includeSearchPaths` (apko's `--include-paths`), then relative to the
    /// working directory (where apko looks first, so configs written for apko keep loading).
    /// Every file read (the config and each include) may be at most `maximumFileSize` bytes.
    public static func load(path: String, includeSearchPaths: [String] = [],
                            maximumFileSize: Int = defaultMaximumFileSize) throws -> LoadedConfig {
        var files: [String] = []
        var contents: [[UInt8]] = []
        var limits = YAMLLimits.config
        limits.maxBytes = max(1, maximumFileSize)
        let decoded = try loadFile(path: path, display: path, chain: [], searchPaths: includeSearchPaths, limits: limits,
                                   files: &files, contents: &contents)
        var loaded = LoadedConfig(configuration: decoded.configuration, sources: decoded.sources,
                                  files: files, fileContents: contents, decodeWarnings: decoded.warnings)
        try ConfigValidation.validate(loaded.configuration, sources: loaded.sources)
        loaded.configuration.include = ""
        return loaded
    }

    /// Parses a config held in memory (JSON is YAML too). `name` is used in messages. Such a config
    /// has no directory, so an `include:` in it is an error.
    public static func parse(_ bytes: [UInt8], name: String) throws -> LoadedConfig {
        let decoded = try decode(bytes, display: name)
        if !decoded.configuration.include.isEmpty {
            let location = decoded.sources.fields["include"]
            throw ConfigError(.include, "include: \(quoted(decoded.configuration.include)) cannot be resolved in a config that is not a file",
                              file: name, line: location?.line, column: location?.column)
        }
        try ConfigValidation.validate(decoded.configuration, sources: decoded.sources)
        return LoadedConfig(configuration: decoded.configuration, sources: decoded.sources, files: [name],
                            fileContents: [bytes], decodeWarnings: decoded.warnings)
    }

    static func decode(_ bytes: [UInt8], display: String, limits: YAMLLimits = .config) throws -> DecodedConfig {
        guard let root = try YAMLComposer.compose(bytes, file: display, limits: limits) else {
            throw ConfigError(.syntax, "the file is empty; an apko config needs at least `contents:`", file: display)
        }
        return try NodeDecoder(file: display).decodeConfiguration(root)
    }

    private static func loadFile(path: String, display: String, chain: [String], searchPaths: [String], limits: YAMLLimits,
                                 files: inout [String], contents: inout [[UInt8]]) throws -> DecodedConfig {
        let bytes = try readFile(path: path, display: display, limit: limits.maxBytes)
        files.append(display)
        contents.append(bytes)
        var decoded = try decode(bytes, display: display, limits: limits)
        let include = decoded.configuration.include
        guard !include.isEmpty else { return decoded }

        let includeLocation = decoded.sources.fields["include"]
        func includeError(_ kind: ConfigError.Kind, _ message: String) -> ConfigError {
            ConfigError(kind, message, file: display, line: includeLocation?.line, column: includeLocation?.column)
        }
        if urlScheme(of: Substring(include)) != nil {
            throw includeError(.include, "include \(quoted(redactingCredentials(in: include))) must be a local file; includes are never fetched")
        }
        let canonicalSelf = canonicalPath(path)
        let chainHere = chain + [canonicalSelf]
        if chainHere.count > maxIncludeDepth {
            throw includeError(.include, "includes are nested more than \(maxIncludeDepth) deep")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let displayDirectory = (display as NSString).deletingLastPathComponent
        var candidates: [(path: String, display: String)] = []
        if include.hasPrefix("/") {
            candidates.append((include, include))
        } else {
            candidates.append((join(directory, include), join(displayDirectory, include)))
            for searchPath in searchPaths {
                candidates.append((join(searchPath, include), join(searchPath, include)))
            }
            // Last, where apko looks first: relative to the working directory.
            if !candidates.contains(where: { $0.path == include }) {
                candidates.append((include, include))
            }
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            let places = candidates.map(\.display).map(quoted).joined(separator: ", ")
            throw includeError(.io, "included file \(quoted(include)) does not exist (looked for \(places))")
        }
        let canonicalInclude = canonicalPath(found.path)
        if let start = chainHere.firstIndex(of: canonicalInclude) {
            let cycle = (chainHere[start...] + [canonicalInclude]).map { ($0 as NSString).lastPathComponent }
            throw includeError(.include, "include cycle: \(cycle.joined(separator: " → "))")
        }
        let base = try loadFile(path: found.path, display: found.display, chain: chainHere, searchPaths: searchPaths, limits: limits,
                                files: &files, contents: &contents)
        decoded = merge(base: base, into: decoded)
        return decoded
    }

    private static func join(_ directory: String, _ name: String) -> String {
        var name = Substring(name)
        while name.hasPrefix("./") { name = name.dropFirst(2) }
        if directory.isEmpty || directory == "." { return String(name) }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func canonicalPath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Reads at most `limit + 1` bytes, so a huge file or an endless device costs no more than that.
    static func readFile(path: String, display: String, limit: Int) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(.io, "no such file", file: display)
        }
        if isDirectory.boolValue {
            throw ConfigError(.io, "is a directory, not a config file", file: display)
        }
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
           size.int64Value > Int64(limit) {
            throw ConfigError(.tooLarge, "the file is \(size.int64Value) bytes; the limit is \(limit) bytes", file: display)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigError(.io, "cannot be opened for reading (check its permissions)", file: display)
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw ConfigError(.io, "cannot be read: \(error.localizedDescription)", file: display)
        }
        if data.count > limit {
            throw ConfigError(.tooLarge, "the file is larger than the limit of \(limit) bytes", file: display)
        }
        return [UInt8](data)
    }
}
