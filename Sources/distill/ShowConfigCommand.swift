import ApkoConfig
import ArgumentParser
import Foundation

/// `distill show-config CONFIG`: prints the merged, defaulted config.
struct ShowConfigCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "show-config",
        abstract: "Print an apko config with its includes merged and apko's defaults filled in.",
        discussion: """
            Keys are printed in apko's order; URL credentials are hidden. The output is itself a valid \
            config: showing it again prints the same text. Without `archs:` in the config or --arch, \
            Distill builds for the host architecture only (apko builds all 9).

            Example:
              distill show-config apko.yaml --arch aarch64 -p curl
            """
    )

    @Argument(help: "The apko.yaml to read.")
    var config: String

    @OptionGroup var options: ConfigOptions

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() throws {
        let overrides = options.overrides(sourceDateEpoch: ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"])
        let shown = try ShowConfig.output(forConfigAt: config, includeSearchPaths: options.includePaths, overrides: overrides)
        consoleOptions.console().warnVerbatim(shown.warnings.map(\.description))
        print(shown.text, terminator: "")
    }
}
