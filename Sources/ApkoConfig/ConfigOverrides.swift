import APK

/// What the command line changes in a config, shared by every command that takes one:
/// `--arch`, `-r/--repository-append`, `-b/--build-repository-append`, `-k/--keyring-append`,
/// `-p/--package-append`, `--annotations key:value`, `--build-date`, and the `SOURCE_DATE_EPOCH`
/// value (passed in by the caller; the library does not read the environment).
public struct ConfigOverrides: Sendable, Equatable {
    /// Replaces `archs:` when not empty; apk or OCI names, `all`, `host`.
    public var architectures: [String]
    /// Appended to `contents.repositories` (used to build and written into the image).
    public var repositories: [String]
    /// Appended to `contents.build_repositories`.
    public var buildRepositories: [String]
    /// Appended to `contents.keyring`.
    public var keyrings: [String]
    /// Appended to `contents.packages`.
    public var packages: [String]
    /// `key:value`; each replaces the config's annotation of the same key.
    public var annotations: [String]
    /// `--build-date`, RFC 3339.
    public var buildDate: String?
    /// The value of `SOURCE_DATE_EPOCH`, when set.
    public var sourceDateEpoch: String?

    /// Overrides; every list empty and both times nil change nothing.
    public init(architectures: [String] = [], repositories: [String] = [], buildRepositories: [String] = [],
                keyrings: [String] = [], packages: [String] = [], annotations: [String] = [],
                buildDate: String? = nil, sourceDateEpoch: String? = nil) {
        self.architectures = architectures
        self.repositories = repositories
        self.buildRepositories = buildRepositories
        self.keyrings = keyrings
        self.packages = packages
        self.annotations = annotations
        self.buildDate = buildDate
        self.sourceDateEpoch = sourceDateEpoch
    }

    /// The build time these overrides select (see ``BuildEpoch/resolve(buildDate:sourceDateEpoch:)``).
    public func buildEpoch() throws -> BuildEpoch {
        try BuildEpoch.resolve(buildDate: buildDate, sourceDateEpoch: sourceDateEpoch)
    }

    /// `--annotations` as a map: keys `^[a-z0-9-.]+$`, values not empty, no key twice (apko's rules).
    public func parsedAnnotations() throws -> [String: String] {
        var result: [String: String] = [:]
        for item in annotations {
            guard let colon = item.firstIndex(of: ":") else {
                throw ConfigError(.override, "--annotations \(quoted(item)) has no ':'; write key:value")
            }
            let key = String(item[..<colon])
            let value = String(item[item.index(after: colon)...])
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) else {
                throw ConfigError(.override, "--annotations key \(quoted(key)) may only use lowercase letters, digits, '-' and '.'")
            }
            guard !value.isEmpty else {
                throw ConfigError(.override, "--annotations \(quoted(key)) has an empty value")
            }
            guard result[key] == nil else {
                throw ConfigError(.override, "--annotations sets \(quoted(key)) twice")
            }
            result[key] = value
        }
        return result
    }
}

extension LoadedConfig {
    /// The config with command-line overrides applied and the cross-value rules checked again
    /// (a `-p name@tag` needs a `@tag` repository, which may come from `-r`).
    public func applying(_ overrides: ConfigOverrides) throws -> LoadedConfig {
        var result = self
        var config = result.configuration

        if !overrides.architectures.isEmpty {
            let parsed = Architecture.parseList(overrides.architectures)
            if let unknown = parsed.unknown.first {
                throw ConfigError(.override, "--arch \(quoted(unknown)) is not an architecture; use one of \(Architecture.acceptedNames)")
            }
            config.archs = parsed.architectures
        }
        func references(_ items: [String], flag: String) throws -> [RepositoryReference] {
            try items.map { item in
                do {
                    return try RepositoryReference(parsing: item)
                } catch let error as ConfigError {
                    throw ConfigError(.override, "\(flag): \(error.message)")
                }
            }
        }
        let repositories = try references(overrides.repositories, flag: "--repository-append")
        config.contents.repositories += repositories
        result.sources.repositories += Array(repeating: nil, count: repositories.count)
        let buildRepositories = try references(overrides.buildRepositories, flag: "--build-repository-append")
        config.contents.buildRepositories += buildRepositories
        result.sources.buildRepositories += Array(repeating: nil, count: buildRepositories.count)

        for key in overrides.keyrings {
            if key.trimmingSpaces.isEmpty {
                throw ConfigError(.override, "--keyring-append is empty; give a key file path or an https:// URL")
            }
            config.contents.keyring.append(key)
            result.sources.keyring.append(nil)
        }
        for package in overrides.packages {
            do {
                config.contents.packages.append(try PackageSpelling.parse(package))
            } catch let error as ConfigError {
                throw ConfigError(.override, "--package-append: \(error.message)")
            }
            result.sources.packages.append(nil)
        }
        config.annotations.merge(try overrides.parsedAnnotations()) { _, commandLine in commandLine }

        try ConfigValidation.validate(config, sources: result.sources)
        result.configuration = config
        return result
    }
}
