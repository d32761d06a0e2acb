public import APK
public import ApkoConfig
import Archive
public import DistillCrypto
import Foundation
import HTTPTransport
import OCI
public import ProgressReporting
import Repository
import Resolver
import Rootfs
import SBOM
import Signing

/// What `distill build` writes: an OCI layout directory, or a docker-archive tarball.
public enum BuildOutputKind: Sendable, Hashable {
    /// An OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`).
    case layout
    /// A `docker load` tarball that is also an OCI layout (`manifest.json`, `repositories`).
    case dockerArchive

    /// apko's rule: an existing directory, or a path ending in `/`, is a layout; anything else is
    /// a file.
    public init(path: String) {
        var isDirectory: ObjCBool = false
        if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            self = .layout
        } else {
            self = .dockerArchive
        }
    }
}

/// Everything `distill build` is asked besides the config.
public struct BuildOptions: Sendable {
    /// The image reference (`registry.example/app:1.0`): the layout's `ref.name`, the docker
    /// archive's tag, the SBOMs' and signatures' image name.
    public var reference: String
    /// The output path: a directory for a layout, a file for a docker archive.
    public var output: String
    /// The build time (SOURCE_DATE_EPOCH / `--build-date`).
    public var epoch: BuildEpoch
    /// The layers' deflate level, 0–9.
    public var compressionLevel: Int
    /// Whether SPDX SBOMs are written.
    public var writesSBOMs: Bool
    /// Where the SBOMs go; nil puts them next to the output (inside a layout directory, beside a
    /// docker archive).
    public var sbomDirectory: String?
    /// Install exactly these packages instead of resolving.
    public var lockfile: Lockfile?
    /// The lock file's name, for messages.
    public var lockfileName: String
    /// When set, the layout is signed (and its SBOMs attested) with this key after it is written.
    public var signingKey: PrivateKey?
    /// Distill's version, for the SBOMs' `creators`.
    public var toolVersion: String
    /// Receives one line per step (for `--log-level info`/`debug`).
    public var progress: @Sendable (String) -> Void
    /// Receives the byte-level events of fetching, layer writing and writing the output (see
    /// ``ProgressReporting/ProgressEvent`` for what each activity reports).
    public var progressEvents: ProgressReporter

    /// Options for building `reference` into `output`.
    public init(reference: String, output: String, epoch: BuildEpoch, compressionLevel: Int = Pipeline.defaultCompressionLevel,
                writesSBOMs: Bool = true, sbomDirectory: String? = nil, lockfile: Lockfile? = nil,
                lockfileName: String = "the lock file", signingKey: PrivateKey? = nil, toolVersion: String,
                progress: @escaping @Sendable (String) -> Void = { _ in }, progressEvents: ProgressReporter = .none) {
        self.reference = reference
        self.output = output
        self.epoch = epoch
        self.compressionLevel = compressionLevel
        self.writesSBOMs = writesSBOMs
        self.sbomDirectory = sbomDirectory
        self.lockfile = lockfile
        self.lockfileName = lockfileName
        self.signingKey = signingKey
        self.toolVersion = toolVersion
        self.progress = progress
        self.progressEvents = progressEvents
    }
}

/// One architecture's image as built.
public struct BuiltImage: Sendable, Hashable {
    /// The architecture.
    public var architecture: Architecture
    /// `sha256:<hex>` of its manifest.
    public var manifestDigest: String
    /// Compressed layer digests, base first.
    public var layerDigests: [String]
    /// Uncompressed layer digests, base first.
    public var diffIDs: [String]
    /// `name-version` of every installed package, in install order.
    public var packages: [String]
    /// The `created` time, RFC 3339.
    public var created: String
    /// How many of the layers the layer cache supplied (the rest were compressed by this build).
    public var cachedLayerCount: Int
}

/// What a build wrote.
public struct BuildReport: Sendable {
    /// The output path (without a trailing `/`).
    public var output: String
    /// Layout or docker archive.
    public var outputKind: BuildOutputKind
    /// `sha256:<hex>` of the image index.
    public var indexDigest: String
    /// The per-architecture images, in build order.
    public var images: [BuiltImage]
    /// The SBOM files written (full paths), per architecture then the index's.
    public var sbomFiles: [String]
    /// One line per signature or attestation, when the image was signed.
    public var signatures: [String]
    /// Things worth telling the user (from resolving).
    public var warnings: [String]
}

extension Pipeline {
    /// The layers' default deflate level: gzip's own default, the same level the `tar | gzip -6`
    /// baseline uses, and about apko's speed/size trade-off (klauspost level 5).
    public static let defaultCompressionLevel = 6

    /// Builds `config` into an OCI image: resolve (or take the lock) → fetch and verify → per
    /// architecture compose the rootfs, write its layers, make the image config and manifest,
    /// the SBOM → index → output written atomically → index SBOM → signatures.
    ///
    /// Deterministic: the same inputs and epoch give the same bytes everywhere (no wall clock, no
    /// random names in any output, everything sorted).
    ///
    /// - Throws: ``DistillError`` with the stage's kind and a one-line message; `context` says
    ///   which architecture and step.
    public func build(_ config: LoadedConfig, options: BuildOptions) async throws(DistillError) -> BuildReport {
        let reference = try Self.parseReference(options.reference)
        let outputKind = BuildOutputKind(path: options.output)
        let output = try Self.outputPath(options.output)
        guard (0...9).contains(options.compressionLevel) else {
            throw DistillError(.option, "compression level \(options.compressionLevel) is outside 0...9")
        }
        if options.signingKey != nil && outputKind == .dockerArchive {
            throw DistillError(.option, "\(output): signatures are stored in an OCI layout; give a directory (end the path with /) to sign the image")
        }

        options.progress("resolving \(config.files.first ?? "the config")")
        let resolved = try await resolve(config, lockfile: options.lockfile, lockfileName: options.lockfileName,
                                         progress: options.progressEvents)
        let configuration = resolved.configuration
        let vcsURL = configuration.vcsURL.isEmpty ? nil : configuration.vcsURL

        // What a killed build left beside this output (its working directory, a staging layout,
        // temporary SBOMs or tarball) is removed first; a running build's is left alone.
        ScratchSpace.removeAbandoned(near: output, sbomDirectory: options.sbomDirectory)
        self.options.cache.removeAbandonedTemporaryFiles()
        LayerCache(root: self.options.cache.root).removeAbandonedTemporaryFiles()
        let work = try ScratchSpace(near: output)
        // The layer files live there until the layout writer has linked them: keep it to the end.
        defer { withExtendedLifetime(work) {} }
        // Fetching every architecture at once lets downloads and verification of one overlap the
        // composing and compressing of another; each fetch is bounded by the repository options.
        // Each architecture's packages are installed as they arrive, in install order, while the
        // ones after them are still downloading.
        let streams = resolved.images.map { image in
            client.fetchStream(image.packages.map { request(for: $0, architecture: image.architecture) },
                               progress: options.progressEvents)
        }
        defer { streams.forEach { $0.cancel() } }

        var built: [ArchitectureResult] = []
        for (position, image) in resolved.images.enumerated() {
            let step = "building \(image.architecture.apkName)"
            do throws(DistillError) {
                options.progress("fetching \(image.packages.count) packages for \(image.architecture.apkName)")
                built.append(try await buildArchitecture(
                    image, packages: streams[position], resolved: resolved, reference: reference, vcsURL: vcsURL,
                    options: options, work: work))
            } catch {
                throw error.during(step)
            }
        }

        let indexCreated = built.map(\.created).max() ?? options.epoch.seconds
        let indexCreatedText = try Self.timestamp(indexCreated)
        let index: MultiPlatformImage
        do {
            index = try MultiPlatformImage(
                images: built.map(\.image),
                annotations: ApkoConventions.annotations(configured: configuration.annotations, created: indexCreatedText,
                                                         vcsURL: vcsURL))
        } catch {
            throw DistillError(.image, error.description).during("making the image index")
        }

        let sbomDirectory = options.sbomDirectory
            ?? (outputKind == .layout ? output : URL(fileURLWithPath: output).deletingLastPathComponent().path)
        var sbomDocuments: [(String, SPDXDocument)] = []
        if options.writesSBOMs {
            sbomDocuments = built.map { ($0.sbomFileName, $0.sbom) }
            sbomDocuments.append((IndexSBOM.fileName, try Self.indexSBOM(index, built: built, reference: reference,
                                                                         created: indexCreated, toolVersion: options.toolVersion)))
        }
        // SBOMs that live inside the layout are written into it before it is committed, so a
        // layout that exists under its final name always has them.
        let sbomsInsideLayout = outputKind == .layout && Self.samePath(sbomDirectory, output)

        options.progress("writing \(output)")
        var sbomFiles: [String] = []
        do {
            switch outputKind {
            case .layout:
                // SBOMs that live inside the layout are written into it before it is committed.
                try await OCILayoutWriter.write(index, to: output, refName: options.reference, progress: options.progressEvents) { root in
                    if sbomsInsideLayout && !sbomDocuments.isEmpty { _ = try Self.writeSBOMs(sbomDocuments, to: root) }
                }
                if sbomsInsideLayout {
                    sbomFiles = sbomDocuments.map { URL(fileURLWithPath: output).appendingPathComponent($0.0).path }
                }
            case .dockerArchive:
                try DockerArchiveWriter.write(index, reference: reference, refName: options.reference, to: output,
                                              progress: options.progressEvents)
            }
        } catch let error as DistillError {
            throw error.during("writing \(output)")
        } catch let error as OCIError {
            throw DistillError(.image, error.description).during("writing \(output)")
        } catch {
            throw DistillError(.image, "\(output): \(error)").during("writing \(output)")
        }
        if !sbomsInsideLayout && !sbomDocuments.isEmpty {
            sbomFiles = try Self.writeSBOMs(sbomDocuments, to: sbomDirectory)
        }

        var signatures: [String] = []
        if let key = options.signingKey {
            options.progress("signing \(output)")
            do {
                let report = try await SigningOperations.sign(
                    .layout(directory: output, refName: options.reference), key: key, identity: reference,
                    sbomDirectory: options.writesSBOMs ? sbomDirectory : nil,
                    access: RegistryAccess(http: URLSessionHTTPClient()))
                signatures = report.entries.map(\.line)
            } catch {
                throw DistillError(.signing, error.description).during("signing \(output)")
            }
        }

        return BuildReport(
            output: output, outputKind: outputKind, indexDigest: index.index.descriptor.digest.description,
            images: built.map { result in
                BuiltImage(architecture: result.architecture, manifestDigest: result.image.manifest.descriptor.digest.description,
                           layerDigests: result.layers.map(\.descriptor.digest.description),
                           diffIDs: result.layers.map(\.diffID.description), packages: result.packages,
                           created: (try? Timestamp.rfc3339(epochSeconds: result.created)) ?? "",
                           cachedLayerCount: result.cachedLayerCount)
            },
            sbomFiles: sbomFiles, signatures: signatures, warnings: resolved.warnings)
    }

    /// One architecture's finished image and what the index and its SBOM need from it.
    struct ArchitectureResult: Sendable {
        var architecture: Architecture
        var image: Image
        var layers: [LayerBlob]
        var created: Int64
        var sbomFileName: String
        var sbom: SPDXDocument
        var osRelease: OSRelease?
        var packages: [String]
        var cachedLayerCount: Int
    }

    /// Compose (from `packages` as they arrive) → layers → image config and manifest → SBOM, for
    /// one architecture. A package that cannot be installed stops the fetch of the rest.
    func buildArchitecture(_ image: ResolvedImage, packages: PackageStream, resolved: ResolvedConfig,
                           reference: ImageReference, vcsURL: String?, options: BuildOptions,
                           work: ScratchSpace) async throws(DistillError) -> ArchitectureResult {
        let configuration = resolved.configuration
        let architecture = image.architecture

        options.progress("composing the \(architecture.apkName) rootfs")
        let composed: ComposedRootfs
        do throws(DistillError) {
            composed = try await composeRootfs(image, configuration: configuration, keyring: resolved.keyring, epoch: options.epoch) {
                () throws(DistillError) -> FetchedPackage? in
                do throws(RepositoryError) {
                    return try await packages.next()
                } catch {
                    throw DistillError(repository: error)
                }
            }
        } catch {
            packages.cancel()
            throw error
        }
        let rootfs = composed.rootfs
        let fetched = composed.fetched
        let created = composed.created
        let createdText = try Self.timestamp(created)

        let written = try writeLayers(rootfs, level: options.compressionLevel, work: work, progress: options.progress,
                                      events: options.progressEvents)
        let layers = written.map(\.blob)

        let container: ContainerConfiguration
        do {
            let entrypoint = try configuration.ociEntrypoint()
            let cmd = try configuration.ociCmd()
            container = ContainerConfiguration(
                user: try ImageComposition.user(runAs: configuration.accounts.runAs, rootfs: rootfs),
                env: configuration.ociEnvironment(),
                entrypoint: entrypoint.isEmpty ? nil : entrypoint,
                cmd: cmd.isEmpty ? nil : cmd,
                volumes: configuration.volumes.isEmpty ? nil : Set(configuration.volumes),
                workingDir: configuration.workDir.isEmpty ? nil : configuration.workDir,
                stopSignal: configuration.stopSignal.isEmpty ? nil : configuration.stopSignal)
        } catch let error as DistillError {
            throw error
        } catch {
            throw DistillError(.config, "\(error)")
        }
        let platform = Platform(architecture: architecture.ociArchitecture, os: architecture.ociOS, variant: architecture.ociVariant)
        let annotations = ApkoConventions.annotations(configured: configuration.annotations, created: createdText, vcsURL: vcsURL)
        let ociImage: Image
        do {
            ociImage = try Image(
                configuration: ApkoConventions.configuration(platform: platform, created: createdText, layers: layers,
                                                             container: container, annotations: annotations),
                layers: layers, annotations: annotations)
        } catch {
            throw DistillError(.image, "\(error)")
        }

        let sbom = try Self.imageSBOM(image, fetched: fetched, rootfs: rootfs, ociImage: ociImage, layers: layers,
                                      reference: reference, created: created, vcsURL: vcsURL, toolVersion: options.toolVersion)
        return ArchitectureResult(
            architecture: architecture, image: ociImage, layers: layers, created: created,
            sbomFileName: ImageSBOM.fileName(apkArchitecture: architecture.apkName), sbom: sbom,
            osRelease: Self.osRelease(rootfs), packages: fetched.map(\.info.nameVersion),
            cachedLayerCount: written.filter(\.fromCache).count)
    }

    /// A rootfs, the packages it was composed from (install order), and the image's creation
    /// time they give (the build epoch, or the newest package's build time).
    struct ComposedRootfs {
        var rootfs: Rootfs
        var fetched: [FetchedPackage]
        var created: Int64
    }

    /// The rootfs of `image`: its packages installed as `next` hands them out (install order, nil
    /// after the last), and everything `configuration` adds once all are in.
    func composeRootfs(_ image: ResolvedImage, configuration: ApkoConfig.ImageConfiguration, keyring: LoadedKeyring,
                       epoch: BuildEpoch, next: () async throws(DistillError) -> FetchedPackage?)
        async throws(DistillError) -> ComposedRootfs {
        let locked = configuration.locked(to: image.architecture, packages: ImageComposition.pins(image))
        let request = ImageComposition.request(configuration: configuration, image: image, keyring: keyring,
                                               apkoJSON: locked.apkoJSON())
        let composer: RootfsComposer
        do {
            composer = try RootfsComposer(request)
        } catch {
            throw DistillError(.compose, "\(error)")
        }
        var fetched: [FetchedPackage] = []
        fetched.reserveCapacity(image.packages.count)
        while let package = try await next() {
            let installable = try ImageComposition.package(package, position: fetched.count, of: image)
            do {
                try composer.install(installable)
            } catch {
                throw DistillError(.compose, "\(error)")
            }
            fetched.append(package)
        }
        guard fetched.count == image.packages.count else {
            throw DistillError(.repository, "\(image.architecture.apkName): \(fetched.count) packages were fetched for \(image.packages.count) resolved ones")
        }
        // Both depend on every package: the newest build time, and which packages provide certificates.
        let created = epoch.imageCreated(newestPackageBuildTime: fetched.compactMap(\.info.buildTime).max())
        _ = try Self.timestamp(created)
        let certificates = ImageComposition.certificates(configuration, installed: fetched.map(\.info))
        do {
            let rootfs = try composer.finish(buildEpoch: created, certificates: certificates)
            return ComposedRootfs(rootfs: rootfs, fetched: fetched, created: created)
        } catch {
            throw DistillError(.compose, "\(error)")
        }
    }

    /// Each layer of `rootfs` as a compressed blob in `work`, compressing only what the layer
    /// cache under the build's cache directory does not hold (keyed by diff_id, level and encoder
    /// format). The diff_id is found the cheap way first: the layer's recipe (its tar with file
    /// bytes replaced by the verified identity of the package data they come from, see
    /// ``Rootfs/layerRecipe(_:)``) is looked up among the recipe records; only without a record
    /// is the tar streamed once just to hash it. On a miss the tar is streamed again through a
    /// ``LayerBlobWriter`` (tar → parallel gzip, both digests hashed on the way) and stored, with
    /// a record of its recipe.
    ///
    /// Hashing before compressing rather than compressing speculatively: a hit then costs one
    /// SHA-256 pass instead of a full deflate, and a miss pays only the hash pass extra (a few
    /// percent of the deflate it precedes). With a recipe record a rebuild skips that pass too,
    /// leaving the verification of the cached blob as its only pass over layer bytes.
    ///
    /// `events` gets a `layer` `plan` for the architecture (the layers' installed sizes), then
    /// `start`, a `run` per MiB of tar compressed and `done` (the tar's size) per layer, named
    /// `<arch>/<n>`; a layer from the cache is done at once.
    func writeLayers(_ rootfs: Rootfs, level: Int, work: ScratchSpace, progress: @Sendable (String) -> Void,
                     events: ProgressReporter = .none) throws(DistillError) -> [WrittenLayer] {
        let cache = LayerCache(root: options.cache.root)
        var layers: [WrittenLayer] = []
        // Installed sizes estimate the tar; packages without one (I: 0) leave the total unknown.
        func estimate(_ size: UInt64) -> Int64? { size > 0 ? Int64(clamping: size) : nil }
        let estimates = rootfs.layers.map { estimate($0.installedSize) }
        events.plan(.layer, rootfs.architecture, total: estimates.contains(nil) ? nil : estimates.reduce(0) { $0 + ($1 ?? 0) })
        for index in rootfs.layers.indices {
            let what = "layer \(index + 1)/\(rootfs.layers.count) of \(rootfs.architecture)"
            let item = "\(rootfs.architecture)/\(index + 1)"
            do {
                let recipe = try rootfs.layerRecipe(index)
                func keepRecipe(diffID: Digest, size: Int64) {
                    guard let recipe, size == recipe.summary.byteCount else { return }
                    do {
                        try cache.storeRecipe(recipe.digest, diffID: diffID, uncompressedSize: size)
                    } catch {
                        progress("\(what): recipe not recorded in the layer cache: \(error.description)")
                    }
                }
                if let recipe, let diffID = cache.diffID(forRecipe: recipe.digest, uncompressedSize: recipe.summary.byteCount),
                   let cached = try cache.blob(for: LayerCacheKey(diffID: diffID, compressionLevel: level), placedIn: work.path) {
                    guard cached.uncompressedSize == recipe.summary.byteCount else {
                        // The blob's descriptor disagrees with the record: trust neither and hash.
                        unlink(cached.path)
                        try layers.append(writeLayer(rootfs, index, level: level, work: work, cache: cache, what: what, item: item,
                                                     estimate: estimates[index], progress: progress, events: events,
                                                     keepRecipe: keepRecipe))
                        continue
                    }
                    ByteProgress(events, .layer, item, total: estimates[index]).finish(bytes: cached.uncompressedSize)
                    progress("\(what): \(cached.descriptor.digest) from the layer cache by its recipe \(recipe.digest) (\(cached.uncompressedSize) bytes of tar, \(cached.descriptor.size) compressed)")
                    layers.append(WrittenLayer(blob: cached, fromCache: true))
                    continue
                }
                try layers.append(writeLayer(rootfs, index, level: level, work: work, cache: cache, what: what, item: item,
                                             estimate: estimates[index], progress: progress, events: events,
                                             keepRecipe: keepRecipe))
            } catch let error as DistillError {
                throw error.during("writing layer \(index + 1) of \(rootfs.layers.count)")
            } catch let error as RootfsError {
                throw DistillError(.compose, error.description).during("writing layer \(index + 1) of \(rootfs.layers.count)")
            } catch let error as OCIError {
                throw DistillError(.image, error.description).during("writing layer \(index + 1) of \(rootfs.layers.count)")
            } catch {
                throw DistillError(.io, "\(error)").during("writing layer \(index + 1) of \(rootfs.layers.count)")
            }
        }
        return layers
    }

    /// One layer without a usable recipe record: its tar hashed for the diff_id, looked up in the
    /// cache, compressed on a miss and stored; `keepRecipe` then records the diff_id.
    private func writeLayer(_ rootfs: Rootfs, _ index: Int, level: Int, work: ScratchSpace, cache: LayerCache,
                            what: String, item: String, estimate: Int64?, progress: @Sendable (String) -> Void,
                            events: ProgressReporter, keepRecipe: (Digest, Int64) -> Void) throws -> WrittenLayer {
        let hasher = LayerDiffIDHasher()
        try rootfs.writeLayer(index, to: hasher)
        let key = LayerCacheKey(diffID: hasher.finalize(), compressionLevel: level)
        if let cached = try cache.blob(for: key, placedIn: work.path) {
            ByteProgress(events, .layer, item, total: estimate).finish(bytes: cached.uncompressedSize)
            progress("\(what): \(cached.descriptor.digest) from the layer cache (\(cached.uncompressedSize) bytes of tar, \(cached.descriptor.size) compressed)")
            keepRecipe(key.diffID, hasher.count)
            return WrittenLayer(blob: cached, fromCache: true)
        }
        let writer = try LayerBlobWriter(directory: work.path, compressionLevel: level)
        let counter = ByteProgress(events, .layer, item, total: estimate)
        try rootfs.writeLayer(index, to: events.isEnabled
            ? TeeSink(writer.tarSink, observer: ClosureSink { counter.add($0.count) }) : writer.tarSink)
        let layer = try writer.finish()
        guard layer.diffID == key.diffID else {
            throw DistillError(.io, "\(what) changed between hashing and compressing (diff_id \(key.diffID), then \(layer.diffID)); a package file in the cache was modified during the build")
        }
        counter.finish(bytes: layer.uncompressedSize)
        do {
            try cache.store(layer)
        } catch {
            // The image is complete without the cache; the next build compresses again.
            progress("\(what): not kept in the layer cache: \(error.description)")
        }
        keepRecipe(layer.diffID, layer.uncompressedSize)
        progress("\(what): \(layer.descriptor.digest) (\(layer.uncompressedSize) bytes of tar, \(layer.descriptor.size) compressed)")
        return WrittenLayer(blob: layer, fromCache: false)
    }

    /// A layer blob and whether the layer cache supplied it.
    struct WrittenLayer: Sendable {
        var blob: LayerBlob
        var fromCache: Bool
    }

    // MARK: SBOMs

    static func osRelease(_ rootfs: Rootfs) -> OSRelease? {
        rootfs.manifest.osRelease.map { OSRelease(id: $0.id, name: $0.name, versionID: $0.versionID) }
    }

    static func imageSBOM(_ image: ResolvedImage, fetched: [FetchedPackage], rootfs: Rootfs, ociImage: Image,
                          layers: [LayerBlob], reference: ImageReference, created: Int64, vcsURL: String?,
                          toolVersion: String) throws(DistillError) -> SPDXDocument {
        // The solver's edges give each package the installed packages that satisfied its
        // dependencies; a lock file records none, so those SBOMs list no dependency edges.
        var dependencies = [[String]](repeating: [], count: image.packages.count)
        if let resolution = image.resolution {
            for edge in resolution.edges {
                guard let from = edge.from, dependencies.indices.contains(from), resolution.packages.indices.contains(edge.to) else { continue }
                let name = resolution.packages[edge.to].info.name
                if !dependencies[from].contains(name) { dependencies[from].append(name) }
            }
        }
        var embedded: [String: [UInt8]] = [:]
        var packages: [SBOM.ImagePackage] = []
        for (position, package) in fetched.enumerated() {
            let resolvedPackage = image.packages[position]
            for name in EmbeddedSBOM.candidateFileNames(for: package.info) {
                do {
                    if let bytes = try rootfs.contents(of: EmbeddedSBOM.directory + "/" + name, limit: EmbeddedSBOM.maximumSize) {
                        embedded[name] = bytes
                    }
                } catch {
                    throw DistillError(.sbom, error.description)
                }
            }
            packages.append(SBOM.ImagePackage(info: package.info, repository: resolvedPackage.repository?.description,
                                              downloadURL: resolvedPackage.url, dependencies: dependencies[position]))
        }
        let platform = ociImage.platform
        let descriptor = ImageDescriptor(
            repository: reference.name, tag: reference.tag, manifestDigest: ociImage.manifest.descriptor.digest.description,
            manifestMediaType: ociImage.manifest.descriptor.mediaType,
            architecture: platform?.architecture ?? image.architecture.ociArchitecture, variant: platform?.variant,
            layers: layers.map { LayerDescriptor(digest: $0.descriptor.digest.description, mediaType: $0.descriptor.mediaType) })
        do {
            return try ImageSBOM.document(for: ImageSBOMInput(
                image: descriptor, apkArchitecture: image.architecture.apkName, created: created, osRelease: osRelease(rootfs),
                packages: packages, vcsURL: vcsURL, embeddedSBOMs: embedded, toolVersion: toolVersion))
        } catch {
            throw DistillError(.sbom, error.description)
        }
    }

    static func indexSBOM(_ index: MultiPlatformImage, built: [ArchitectureResult], reference: ImageReference,
                          created: Int64, toolVersion: String) throws(DistillError) -> SPDXDocument {
        let entries = index.images.map { image in
            IndexEntry(manifestDigest: image.manifest.descriptor.digest.description,
                       manifestMediaType: image.manifest.descriptor.mediaType,
                       architecture: image.platform?.architecture ?? "", variant: image.platform?.variant,
                       os: image.platform?.os ?? "linux")
        }
        do {
            return try IndexSBOM.document(for: IndexSBOMInput(
                repository: reference.name, tag: reference.tag, indexDigest: index.index.descriptor.digest.description,
                indexMediaType: index.index.descriptor.mediaType, images: entries, created: created,
                osRelease: built.first?.osRelease, toolVersion: toolVersion))
        } catch {
            throw DistillError(.sbom, error.description).during("making the index SBOM")
        }
    }

    static func writeSBOMs(_ documents: [(String, SPDXDocument)], to directory: String) throws(DistillError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DistillError(.io, "\(directory): cannot create the SBOM directory (\(error.localizedDescription))")
        }
        var written: [String] = []
        for (name, document) in documents {
            do {
                try document.write(toDirectory: URL(fileURLWithPath: directory), fileName: name)
            } catch {
                throw DistillError(.sbom, error.description).during("writing \(name)")
            }
            written.append(URL(fileURLWithPath: directory).appendingPathComponent(name).path)
        }
        return written
    }

    // MARK: Helpers

    static func parseReference(_ text: String) throws(DistillError) -> ImageReference {
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: text)
        } catch {
            // OCIError's message already names the reference ("invalid image reference \"X\": …").
            throw DistillError(.option, error.message)
        }
        guard reference.tag != nil, reference.digest == nil else {
            throw DistillError(.option, "image reference \"\(text)\" needs a tag and no digest, like registry.example/app:1.0")
        }
        guard OCILayout.isValidRefName(text) else {
            throw DistillError(.option, "image reference \"\(text)\" cannot name an image in an OCI layout")
        }
        return reference
    }

    /// The output path without trailing slashes; its parent directory must exist.
    static func outputPath(_ path: String) throws(DistillError) -> String {
        var trimmed = path
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        guard !trimmed.isEmpty else { throw DistillError(.option, "the output path is empty") }
        let parent = URL(fileURLWithPath: trimmed).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DistillError(.option, "\(trimmed): the directory \(parent) does not exist; create it first")
        }
        return trimmed
    }

    /// Whether two paths name the same place once `.`, `..` and trailing slashes are resolved.
    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
    }

    static func timestamp(_ seconds: Int64) throws(DistillError) -> String {
        do {
            return try Timestamp.rfc3339(epochSeconds: seconds)
        } catch {
            throw DistillError(.config, "build time \(seconds): \(error.description)")
        }
    }
}

/// A directory next to the output for the layer files while a build runs: on the same file
/// system, so the layout writer can link the finished blobs into place instead of copying them.
/// It is removed when the build ends, whether it succeeded or not.
final class ScratchSpace: Sendable {
    /// The directory.
    let path: String

    init(near output: String) throws(DistillError) {
        // The name is never part of an output, so a random suffix costs no reproducibility; the
        // pid in it lets a later build remove it if this one is killed.
        path = TemporaryName.sibling(of: output, tag: "distill")
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } catch {
            throw DistillError(.io, "\(path): cannot create a working directory next to the output (\(error.localizedDescription))")
        }
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes what killed builds left next to `output` (working directories, staging layouts,
    /// temporary tarballs and SBOMs: ``TemporaryName``), inside it when it is an existing layout,
    /// and temporary SBOMs in `sbomDirectory`.
    static func removeAbandoned(near output: String, sbomDirectory: String?) {
        let url = URL(fileURLWithPath: output)
        let outputName = url.lastPathComponent
        let isSBOM: (String) -> Bool = { $0.hasPrefix("sbom-") && $0.hasSuffix(".spdx.json") }
        TemporaryName.removeAbandoned(in: url.deletingLastPathComponent().path) { $0 == outputName || isSBOM($0) }
        if let sbomDirectory { TemporaryName.removeAbandoned(in: sbomDirectory, finalName: isSBOM) }
        // Inside an existing layout: blobs, index.json and SBOMs a killed build was writing.
        TemporaryName.removeAbandoned(in: output)
        TemporaryName.removeAbandoned(in: output + "/blobs/sha256")
    }
}
