import ArgumentParser
import Distill

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

}
