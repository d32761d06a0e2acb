import ApkoConfig
import ArgumentParser
import Distill
import Foundation

/// `distill dot CONFIG`: the resolved dependency graph in Graphviz form.
struct DotCommand: AsyncParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "dot",
        abstract: "Print the resolved dependency graph as Graphviz dot.",
        discussion: """
            One node per installed package and one for the world; an edge per dependency, labelled \
            when it is satisfied through a provided name (so:…, cmd:…). The graph is the first \
            architecture's (as apko's); choose another with --arch.

            Example:
              distill dot apko.yaml --spanning-tree | dot -Tsvg > graph.svg
            """
    )

    @Argument(help: "The apko.yaml to resolve.")
    var config: String

    @Flag(name: [.customShort("S"), .customLong("spanning-tree")],
          help: "Keep only the first edge reaching each package (breadth-first from the world).")
    var spanningTree = false

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
        let resolved = try await pipeline.resolve(loaded)
        console.warn(resolved.warnings)
        print(try resolved.dot(spanningTree: spanningTree), terminator: "")
    }
}
