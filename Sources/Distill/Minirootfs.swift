public import APK
public import ApkoConfig
import DistillCrypto
import Foundation
import OCI
public import ProgressReporting
import Repository
import Rootfs

/// What `distill build-minirootfs` wrote.
public struct MinirootfsReport: Sendable {
    /// The tarball.
    public var output: String
    /// The architecture it was built for.
    public var architecture: Architecture
    /// `sha256:<hex>` of the gzip file.
    public var digest: String
    /// `sha256:<hex>` of the tar inside.
    public var diffID: String
    /// Bytes of gzip.
    public var size: Int64
    /// `name-version` of every installed package, in install order.
    public var packages: [String]
    /// Things worth telling the user (from resolving).
    public var warnings: [String]
}

extension Pipeline {
    /// Builds `config` for its one architecture into a single gzip-compressed tar of the whole
    /// rootfs (apko's `build-minirootfs`), written under a temporary name next to `output` and
    /// renamed into place. The config must build exactly one architecture (the command sets it
    /// from `--build-arch`); `layering` is ignored, as a tarball has one layer. `progressEvents`
    /// gets the `fetch` and `layer` events, then `write` events named `output` (`start`, `commit`
    /// right before the rename, `done`).
    public func buildMinirootfs(_ config: LoadedConfig, output: String, epoch: BuildEpoch,
                                compressionLevel: Int = Pipeline.defaultCompressionLevel, lockfile: Lockfile? = nil,
                                lockfileName: String = "the lock file",
                                progress: @escaping @Sendable (String) -> Void = { _ in },
                                progressEvents: ProgressReporter = .none) async throws(DistillError)
        -> MinirootfsReport {
        let output = try Self.outputPath(output)
        guard (0...9).contains(compressionLevel) else {
            throw DistillError(.option, "compression level \(compressionLevel) is outside 0...9")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
            throw DistillError(.option, "\(output) is a directory; build-minirootfs writes one .tar.gz file")
        }
        progress("resolving \(config.files.first ?? "the config")")
        let resolved = try await resolve(config, lockfile: lockfile, lockfileName: lockfileName, progress: progressEvents)
        guard resolved.images.count == 1, let image = resolved.images.first else {
            throw DistillError(.option, "build-minirootfs builds one architecture, and the config asks for \(resolved.architectures.map(\.apkName).joined(separator: ", ")); pass --build-arch")
        }
        var configuration = resolved.configuration
        configuration.layering = nil
        let architecture = image.architecture.apkName
        progress("fetching \(image.packages.count) packages for \(architecture)")
        let fetched = try await fetch(image, progress: progressEvents)
        ScratchSpace.removeAbandoned(near: output, sbomDirectory: nil)
        self.options.cache.removeAbandonedTemporaryFiles()
        let work = try ScratchSpace(near: output)
        let layers: [LayerBlob]
        do throws(DistillError) {
            var remaining = fetched[...]
            let rootfs = try await composeRootfs(image, configuration: configuration, keyring: resolved.keyring, epoch: epoch) {
                () throws(DistillError) -> FetchedPackage? in remaining.popFirst()
            }.rootfs
            layers = try writeLayers(rootfs, level: compressionLevel, work: work, progress: progress, events: progressEvents)
                .map(\.blob)
        } catch {
            throw error.during("building \(architecture)")
        }
        guard layers.count == 1, let layer = layers.first else {
            throw DistillError(.compose, "the \(architecture) rootfs came out as \(layers.count) layers instead of one")
        }
        progressEvents.start(.write, output, total: layer.descriptor.size)
        progressEvents.commit(.write, output, bytes: layer.descriptor.size)
        guard rename(layer.path, output) == 0 else {
            throw DistillError(.io, "\(output): cannot move the tarball into place (\(String(cString: strerror(errno))))")
        }
        progressEvents.finish(.write, output, bytes: layer.descriptor.size)
        return MinirootfsReport(output: output, architecture: image.architecture, digest: layer.descriptor.digest.description,
                                diffID: layer.diffID.description, size: layer.descriptor.size,
                                packages: fetched.map(\.info.nameVersion), warnings: resolved.warnings)
    }
}
