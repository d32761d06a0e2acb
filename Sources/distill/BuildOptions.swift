import ArgumentParser
import Distill
import Foundation
import Logging

/// The flags `build` and `build-minirootfs` share beyond the config and repository ones.
struct BuildFlags: ParsableArguments {
    @Option(name: .customLong("compression-level"),
            help: ArgumentHelp("Deflate level of the layers, 0 (store) to 9 (smallest). The default, 6, is gzip's own default and the level of the `tar | gzip -6` baseline in `make bench`.",
                               valueName: "level"))
    var compressionLevel = Pipeline.defaultCompressionLevel

    @Option(name: .customLong("lockfile"),
            help: ArgumentHelp("Install exactly the packages of this apko.lock.json (it must have been made from this config); no index is read.",
                               valueName: "file"))
    var lockfile: String?

    /// Runs a build step: a ``DistillError`` is printed as one line (plus resolution details, and at
    /// `debug` the steps it happened in), then the command exits 1.
    func reportingFailures(_ console: Console, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            console.finish()
        } catch let error as DistillError {
            console.finish()
            var text = "Error: \(error.message)\n"
            for line in error.details { text += "  \(line)\n" }
            if console.shows(.debug) {
                for step in error.context { text += "  while \(step)\n" }
                text += "  (\(error.kind.rawValue) error)\n"
            }
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode.failure
        }
    }
}
