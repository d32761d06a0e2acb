import ApkoConfig
import ArgumentParser
import Repository

/// The flags every command that reads an apko.yaml takes (include with `@OptionGroup`).
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("arch"),
            help: ArgumentHelp(
                "Architecture to build: an apk or OCI name (x86_64, amd64, aarch64, arm64, armv7, arm/v7, …), `all`, or `host`; repeat or separate with commas. Replaces `archs:` in the config. With neither this nor `archs:`, Distill builds for the host architecture only (apko would build all 9).",
                valueName: "arch"))
    var architectures: [String] = []

    @Option(name: [.customShort("r"), .customLong("repository-append")],
            help: ArgumentHelp("Repository to add to `contents.repositories` (used to build and written to /etc/apk/repositories).", valueName: "url"))
    var repositories: [String] = []

    @Option(name: [.customShort("b"), .customLong("build-repository-append")],
            help: ArgumentHelp("Repository to add to `contents.build_repositories` (used to build only).", valueName: "url"))
    var buildRepositories: [String] = []

    @Option(name: [.customShort("k"), .customLong("keyring-append")],
            help: ArgumentHelp("Key file or URL to add to `contents.keyring`.", valueName: "key"))
    var keyrings: [String] = []

    @Option(name: [.customShort("p"), .customLong("package-append")],
            help: ArgumentHelp("Package to add to `contents.packages` (apko constraint syntax: name, name=1.2-r0, name~1.2, name@tag).", valueName: "package"))
    var packages: [String] = []

    @Option(name: .customLong("annotations"),
            help: ArgumentHelp("OCI annotation key:value; replaces the config's annotation with the same key.", valueName: "key:value"))
    var annotations: [String] = []

    @Option(name: .customLong("build-date"),
            help: ArgumentHelp("Image creation time, RFC 3339 (2024-05-01T12:00:00Z). SOURCE_DATE_EPOCH, when set, wins.", valueName: "time"))
    var buildDate: String?

    @Option(name: .customLong("include-paths"),
            help: ArgumentHelp("Directory to look in for `include:` files not found next to the including file.", valueName: "dir"))
    var includePaths: [String] = []

    @Option(name: .customLong("max-config-size"),
            help: ArgumentHelp("Largest apko.yaml (and each include) read (bytes, or with K/M/G; default 4M).", valueName: "size"))
    var maximumConfigSize: String?

    /// `--max-config-size` in bytes.
    func maximumConfigFileSize() throws -> Int {
        guard let maximumConfigSize else { return ConfigLoader.defaultMaximumFileSize }
        guard let value = RepositoryLimits.parseSize(maximumConfigSize), value <= Int64(Int32.max) else {
            throw ValidationError("--max-config-size '\(maximumConfigSize)' is not a size below 2G; give bytes or a number with K or M")
        }
        return Int(value)
    }

    /// Loads `path` (with its includes) within `--max-config-size`.
    func load(_ path: String) throws -> LoadedConfig {
        try ConfigLoader.load(path: path, includeSearchPaths: includePaths, maximumFileSize: try maximumConfigFileSize())
    }

    /// The overrides these flags ask for. `sourceDateEpoch` is the environment's value, passed in
    /// so the library never reads the environment. List flags also take comma-separated values,
    /// as apko's do.
    func overrides(sourceDateEpoch: String?) -> ConfigOverrides {
        func split(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: true).map(String.init) }
        }
        return ConfigOverrides(
            architectures: split(architectures), repositories: split(repositories),
            buildRepositories: split(buildRepositories), keyrings: split(keyrings), packages: split(packages),
            annotations: split(annotations), buildDate: buildDate, sourceDateEpoch: sourceDateEpoch)
    }
}
