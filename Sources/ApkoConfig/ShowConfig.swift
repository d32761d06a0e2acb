import APK

/// `distill show-config`: the merged, defaulted config as YAML, keys in apko's order, map keys
/// sorted, URL credentials hidden. Loading the output gives the same configuration back, and
/// showing that again prints the same text.
public enum ShowConfig {
    /// What `show-config` prints: the YAML on standard output, the warnings on standard error.
    public struct Output: Sendable {
        /// The YAML.
        public var text: String
        /// What the config does that apko accepts but almost certainly is a mistake.
        public var warnings: [ConfigWarning]
    }

    /// Loads a config with its includes and the command-line overrides (the build date too, so a
    /// malformed `SOURCE_DATE_EPOCH` fails here as it would in a build), and renders it.
    public static func output(forConfigAt path: String, includeSearchPaths: [String] = [],
                              overrides: ConfigOverrides = ConfigOverrides(),
                              maximumFileSize: Int = ConfigLoader.defaultMaximumFileSize) throws -> Output {
        let loaded = try ConfigLoader.load(path: path, includeSearchPaths: includeSearchPaths, maximumFileSize: maximumFileSize)
            .applying(overrides)
        _ = try overrides.buildEpoch()
        return Output(text: render(loaded.configuration.withDefaults()), warnings: loaded.warnings)
    }

    /// ``output(forConfigAt:includeSearchPaths:overrides:)``'s text.
    public static func text(forConfigAt path: String, includeSearchPaths: [String] = [],
                            overrides: ConfigOverrides = ConfigOverrides()) throws -> String {
        try output(forConfigAt: path, includeSearchPaths: includeSearchPaths, overrides: overrides).text
    }

    /// The configuration as YAML, exactly as given (callers apply ``ImageConfiguration/withDefaults()``).
    public static func render(_ configuration: ImageConfiguration) -> String {
        let c = configuration
        var text = YAMLWriter.document(tree(c))
        if c.archs.isEmpty {
            text += "# archs: not set, so Distill builds for the host architecture only (\(Architecture.host.apkName)); apko would build all \(Architecture.all.count)\n"
        }
        return text
    }

    /// The configuration's keys in apko's order, empty collections left in (the writers drop them).
    static func tree(_ c: ImageConfiguration) -> [(String, YAMLValue)] {
        var top: [(String, YAMLValue)] = []
        top.append(("contents", contentsValue(c.contents)))
        var entrypoint: [(String, YAMLValue)] = []
        if let type = c.entrypoint.type { entrypoint.append(("type", .string(type.rawValue))) }
        if !c.entrypoint.command.isEmpty { entrypoint.append(("command", .string(c.entrypoint.command))) }
        if !c.entrypoint.shellFragment.isEmpty { entrypoint.append(("shell-fragment", .string(c.entrypoint.shellFragment))) }
        entrypoint.append(("services", sortedMap(c.entrypoint.services)))
        top.append(("entrypoint", .mapping(entrypoint.filter { !$0.1.isEmptyCollection })))
        if !c.cmd.isEmpty { top.append(("cmd", .string(c.cmd))) }
        if !c.stopSignal.isEmpty { top.append(("stop-signal", .string(c.stopSignal))) }
        if !c.workDir.isEmpty { top.append(("work-dir", .string(c.workDir))) }
        top.append(("accounts", accounts(c.accounts)))
        top.append(("archs", .list(c.archs.map { .string($0.ociName) })))
        top.append(("environment", sortedMap(c.environment)))
        top.append(("paths", .list(c.paths.map(path))))
        if !c.vcsURL.isEmpty { top.append(("vcs-url", .string(redactingCredentials(in: c.vcsURL)))) }
        top.append(("annotations", sortedMap(c.annotations)))
        top.append(("volumes", .list(c.volumes.map { .string($0) })))
        if let layering = c.layering {
            top.append(("layering", .mapping([("strategy", .string(layering.strategy.rawValue)),
                                              ("budget", .integer(layering.budget))])))
        }
        if let format = c.format { top.append(("format", .string(format.rawValue))) }
        top.append(("certificates", .mapping([
            ("additional", .list(c.certificates.additional.map(inlineKey))),
            ("providers", .list(c.certificates.providers.map { .string($0) })),
        ].filter { !$0.1.isEmptyCollection })))
        return top
    }

    static func contentsValue(_ contents: ImageContents) -> YAMLValue {
        var pairs: [(String, YAMLValue)] = [
            ("build_repositories", .list(contents.buildRepositories.map { .string($0.description) })),
            ("runtime_repositories", .list(contents.runtimeRepositories.map { .string($0.description) })),
            ("repositories", .list(contents.repositories.map { .string($0.description) })),
            ("keyring", .list(contents.keyring.map { .string(redactingCredentials(in: $0)) })),
            ("runtime_keyring", .list(contents.runtimeKeyring.map(inlineKey))),
            ("packages", .list(contents.packages.map { .string(PackageSpelling.spelling(of: $0)) })),
        ]
        if let base = contents.baseImage {
            pairs.append(("baseimage", .mapping([("image", .string(base.image)), ("apkindex", .string(base.apkIndex))])))
        }
        return .mapping(pairs.filter { !$0.1.isEmptyCollection })
    }

    private static func accounts(_ accounts: Accounts) -> YAMLValue {
        var pairs: [(String, YAMLValue)] = []
        if !accounts.runAs.isEmpty { pairs.append(("run-as", .string(accounts.runAs))) }
        pairs.append(("users", .list(accounts.users.map { user in
            var fields: [(String, YAMLValue)] = [("username", .string(user.username)), ("uid", .integer(Int(user.uid)))]
            if let gid = user.gid { fields.append(("gid", .integer(Int(gid)))) }
            if !user.shell.isEmpty { fields.append(("shell", .string(user.shell))) }
            if !user.homeDirectory.isEmpty { fields.append(("homedir", .string(user.homeDirectory))) }
            return .mapping(fields)
        })))
        pairs.append(("groups", .list(accounts.groups.map { group in
            .mapping([("groupname", .string(group.groupname)), ("gid", .integer(Int(group.gid))),
                      ("members", .list(group.members.map { .string($0) }))])
        })))
        return .mapping(pairs.filter { !$0.1.isEmptyCollection })
    }

    private static func path(_ mutation: PathMutation) -> YAMLValue {
        var fields: [(String, YAMLValue)] = [("path", .string(mutation.path)), ("type", .string(mutation.type.rawValue))]
        if let uid = mutation.uid { fields.append(("uid", .integer(Int(uid)))) }
        if let gid = mutation.gid { fields.append(("gid", .integer(Int(gid)))) }
        if let permissions = mutation.permissions { fields.append(("permissions", .octal(permissions))) }
        if !mutation.source.isEmpty { fields.append(("source", .string(mutation.source))) }
        if mutation.recursive { fields.append(("recursive", .bool(true))) }
        return .mapping(fields)
    }

    private static func inlineKey(_ key: InlineKey) -> YAMLValue {
        .mapping([("name", .string(key.name)), ("content", .string(key.content))])
    }

    private static func sortedMap(_ map: [String: String]) -> YAMLValue {
        .mapping(map.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, .string($0.value)) })
    }
}

extension ImageConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The configuration as show-config prints it, so credentials never reach a log by accident.
    public var description: String { ShowConfig.render(self) }
    /// The same as ``description``.
    public var debugDescription: String { description }
}

extension ImageContents: CustomStringConvertible, CustomDebugStringConvertible {
    /// The `contents:` section as YAML, credentials hidden.
    public var description: String {
        YAMLWriter.document([("contents", ShowConfig.contentsValue(self))])
    }
    /// The same as ``description``.
    public var debugDescription: String { description }
}

extension RepositoryReference: CustomDebugStringConvertible {
    /// The same as ``description``: credentials hidden.
    public var debugDescription: String { description }
}
