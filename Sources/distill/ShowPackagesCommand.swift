import ApkoConfig
import ArgumentParser
import Distill
import Foundation

/// `distill show-packages CONFIG`: the packages a build would install, per architecture.
struct ShowPackagesCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-packages",
        abstract: "Print the packages and versions a config resolves to, in install order.",
        discussion: """
            Indexes are read and verified exactly as for a build; nothing is installed. Every \
            architecture's packages are printed one after the other. Named formats (apko's): \
            name-version (default), name-version-source, name=version, name=version-source, \
            name-(version), name-(version)-source, packagelock, packagelock-source. Any other \
            value is a template using {{.Name}}, {{.Version}} and {{.Source}} (the package URL).

            Example:
              distill show-packages apko.yaml --format packagelock --arch x86_64
            """
    )

    @Argument(help: "The apko.yaml to read.")
    var config: String

    @Option(help: ArgumentHelp("Output format: a named format or a {{.Name}} {{.Version}} {{.Source}} template.", valueName: "format"))
    var format = "name-version"

    @Option(name: .customLong("lockfile"),
            help: ArgumentHelp("Show exactly the packages of this lock file (it must have been made from this config).", valueName: "file"))
    var lockfile: String?

    @OptionGroup var options: ConfigOptions
    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var consoleOptions: ConsoleOptions

    func run() async throws {
        let console = consoleOptions.console()
        let environment = ProcessInfo.processInfo.environment
        let listFormat = try PackageListFormat(format)
        let loaded = try ConfigLoader.load(path: config, includeSearchPaths: options.includePaths)
            .applying(options.overrides(sourceDateEpoch: environment["SOURCE_DATE_EPOCH"]))
        console.warnVerbatim(loaded.warnings.map(\.description))
        let lock = try lockfile.map { try Lockfile.read(path: $0) }
        let pipeline = Pipeline(options: try pipelineOptions.repositoryOptions(environment: environment))
        let resolved = try await pipeline.resolve(loaded, lockfile: lock, lockfileName: lockfile ?? "")
        console.warn(resolved.warnings)
        print(listFormat.render(resolved.images), terminator: "")
    }
}
