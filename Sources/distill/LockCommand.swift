import ApkoConfig
import ArgumentParser
import Distill
import Foundation

/// `distill lock CONFIG [-o FILE]`: resolve and record the exact packages in apko.lock.json.
struct LockCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Resolve a config and write apko's lock file: exact packages with byte ranges and checksums.",
        discussion: """
            Every package is fetched (through the cache) and verified to record the byte range and \
            checksum of its signature, control and data sections, as apko does. A build given the \
            lock with --lockfile installs exactly these packages and refuses the lock once the \
            config (or one of its includes) changes.

            Example:
              distill lock apko.yaml            # writes apko.lock.json
            """
    )

    @Argument(help: "The apko.yaml to lock.")
    var config: String

    @Option(name: [.customShort("o"), .customLong("output")],
            help: ArgumentHelp("Where to write the lock (default: the config path with .lock.json for its extension).", valueName: "file"))
    var output: String?

    @OptionGroup var options: ConfigOptions
    @OptionGroup var pipelineOptions: PipelineOptions
    @OptionGroup var consoleOptions: ConsoleOptions

    func run() async throws {
        let console = consoleOptions.console()
        let environment = ProcessInfo.processInfo.environment
        let loaded = try ConfigLoader.load(path: config, includeSearchPaths: options.includePaths)
            .applying(options.overrides(sourceDateEpoch: environment["SOURCE_DATE_EPOCH"]))
        console.warnVerbatim(loaded.warnings.map(\.description))
        let pipeline = Pipeline(options: try pipelineOptions.repositoryOptions(environment: environment))
        let destination = output ?? Pipeline.defaultLockPath(forConfig: config)
        let resolved = try await pipeline.resolve(loaded, progress: console.events)
        console.warn(resolved.warnings)
        let lock = try await pipeline.lock(resolved, configName: config, progress: console.events)
        console.finish()
        try lock.write(to: destination)
    }
}
