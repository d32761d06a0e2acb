import APK
public import ApkoConfig
public import HTTPTransport
public import ProgressReporting
public import Repository
import Resolver

/// The resolve-and-fetch half of a build: config → keyring and repositories → signed indexes per
/// architecture → one resolution with versions unified across architectures → a
/// ``ResolvedImage`` per architecture → verified, expanded packages.
///
/// ```swift
/// let config = try ConfigLoader.load(path: "apko.yaml").applying(overrides)
/// let pipeline = Pipeline(options: RepositoryOptions(cache: RepositoryCache(root: cacheDir)))
/// let resolved = try await pipeline.resolve(config)
/// for image in resolved.images {
///     let packages = try await pipeline.fetch(image)   // install order; verified and expanded
///     // packages[i].file.dataEntries + packages[i].expandedDataPath → the rootfs
/// }
/// ```
public struct Pipeline: Sendable {
    /// How repositories are reached (cache, offline, caps, concurrency, credentials).
    public let options: RepositoryOptions
    /// The client doing the reading.
    public let client: RepositoryClient

    /// A pipeline reaching repositories with `options`, remote ones through `http`.
    public init(options: RepositoryOptions, http: any HTTPClient = URLSessionHTTPClient()) {
        self.options = options
        self.client = RepositoryClient(options: options, http: http)
    }

    // MARK: Resolve

    /// Resolves `config` for each architecture it builds, or takes the packages from `lockfile`.
    ///
    /// With a lock file the packages are exactly the locked ones, in lock order, per
    /// architecture; no index is read. The lock must have been made from this config (its
    /// checksum covers the config and its includes) and must list packages for every
    /// architecture being built.
    ///
    /// - Throws: ``DistillError`` — `.resolution` with the problems' chains when the world cannot
    ///   be satisfied, `.lockfile` for a lock of another config, `.repository` for keyring, index
    ///   and signature problems.
    ///
    /// `progress` gets the `fetch` events of remote indexes as they download (named by URL).
    public func resolve(_ config: LoadedConfig, lockfile: Lockfile? = nil, lockfileName: String = "the lock file",
                        progress: ProgressReporter = .none) async throws(DistillError) -> ResolvedConfig {
        let configuration = config.configuration.withDefaults()
        let architectures = configuration.architecturesToBuild().architectures
        var warnings: [String] = []
        let keyring: LoadedKeyring
        do {
            keyring = try await client.loadKeyring(Self.sortedUnique(configuration.contents.keyring))
        } catch {
            throw DistillError(repository: error)
        }
        let sources = try repositorySources(configuration)

        if let lockfile {
            do {
                if let warning = try lockfile.check(against: config, lockName: lockfileName) {
                    warnings.append(warning.message)
                }
            } catch let error as ConfigError {
                throw DistillError(.lockfile, error.description)
            } catch {
                throw DistillError(.lockfile, "\(error)")
            }
            let images = try LockedImages.images(from: lockfile, name: lockfileName, architectures: architectures,
                                                       sources: sources)
            return ResolvedConfig(config: config, configuration: configuration, images: images, keyring: keyring,
                                  repositories: sources, pins: [], lockfile: lockfile, warnings: warnings)
        }

        var resolvers: [String: Resolver] = [:]
        var sourcesByName: [String: RepositorySource] = [:]
        for source in sources { sourcesByName[source.description] = source }
        let indexes = try await loadIndexes(sources: sources, architectures: architectures, keyring: keyring.keyring,
                                            progress: progress)
        for (position, architecture) in architectures.enumerated() {
            var repositories: [SolverRepository] = []
            for (sourcePosition, source) in sources.enumerated() {
                guard let loaded = indexes[position][sourcePosition] else {
                    warnings.append("\(source): no index for \(architecture.apkName) (\(source.indexURL(architecture: architecture.apkName)) does not exist); skipping it")
                    continue
                }
                repositories.append(SolverRepository(name: source.description, packages: loaded.index.packages, tag: source.tag))
            }
            do {
                resolvers[architecture.apkName] = Resolver(index: try PackageIndex(repositories: repositories))
            } catch {
                throw DistillError(.resolution, error.message)
            }
        }

        let multi: MultiArchResolution
        do {
            multi = try MultiArchResolver(resolvers: resolvers).resolve(ResolveRequest(world: configuration.contents.packages))
        } catch {
            throw DistillError(.resolution, error.message, details: error.problems.count > 1 ? error.problems.map(\.description) : [])
        }

        var images: [ResolvedImage] = []
        for architecture in architectures {
            let resolution = multi.resolutions[architecture.apkName]!
            var packages: [ImagePackage] = []
            for resolved in resolution.packages {
                guard let name = resolved.repository, let source = sourcesByName[name] else {
                    throw DistillError(.resolution, "\(resolved.nameVersion) was selected without a repository to fetch it from")
                }
                guard let checksum = resolved.info.checksum, PackageIdentity.sha1Bytes(checksum) != nil else {
                    throw DistillError(.repository, "\(source): the index record of \(resolved.nameVersion) for \(architecture.apkName) has no usable C: checksum, so the package cannot be verified")
                }
                packages.append(ImagePackage(
                    info: resolved.info, repository: source, tag: resolved.tag,
                    url: source.packageURL(architecture: architecture.apkName, fileName: resolved.info.fileName),
                    checksum: checksum, origin: source.description))
            }
            images.append(ResolvedImage(architecture: architecture, packages: packages, resolution: resolution))
        }
        return ResolvedConfig(config: config, configuration: configuration, images: images, keyring: keyring,
                              repositories: sources, pins: multi.pins, lockfile: nil, warnings: warnings)
    }

    /// Every repository's index for every architecture, loaded at once (apko fetches them
    /// concurrently too); `[architecture][source]`, nil where a local repository has none. When
    /// several fail, the first in architecture and repository order is reported, so the message
    /// does not depend on timing.
    func loadIndexes(sources: [RepositorySource], architectures: [Architecture], keyring: Keyring,
                     progress: ProgressReporter = .none) async throws(DistillError) -> [[LoadedIndex?]] {
        let client = client
        let results = await withTaskGroup(of: (Int, Int, Result<LoadedIndex?, RepositoryError>).self) { group in
            for (position, architecture) in architectures.enumerated() {
                for (sourcePosition, source) in sources.enumerated() {
                    group.addTask {
                        do throws(RepositoryError) {
                            let loaded = try await client.loadIndex(source, architecture: architecture.apkName, keyring: keyring,
                                                                    progress: progress)
                            return (position, sourcePosition, .success(loaded))
                        } catch {
                            return (position, sourcePosition, .failure(error))
                        }
                    }
                }
            }
            var table = [[Result<LoadedIndex?, RepositoryError>]](
                repeating: [Result<LoadedIndex?, RepositoryError>](repeating: .success(nil), count: sources.count),
                count: architectures.count)
            for await (position, sourcePosition, result) in group { table[position][sourcePosition] = result }
            return table
        }
        return try results.map { row throws(DistillError) in
            try row.map { result throws(DistillError) in
                switch result {
                case .success(let loaded): return loaded
                case .failure(let error): throw DistillError(repository: error)
                }
            }
        }
    }

    /// The repositories a build resolves against: `build_repositories` and `repositories`, sorted
    /// and unique as apko makes them (`runtime_repositories` are only written into the image).
    func repositorySources(_ configuration: ImageConfiguration) throws(DistillError) -> [RepositorySource] {
        let references = configuration.contents.buildRepositories + configuration.contents.repositories
        var seen = Set<String>()
        var sources: [RepositorySource] = []
        for reference in references.sorted(by: { $0.spelling.utf8.lexicographicallyPrecedes($1.spelling.utf8) }) {
            let source: RepositorySource
            do {
                source = try RepositorySource(tag: reference.tag, location: reference.location)
            } catch {
                throw DistillError(repository: error)
            }
            if seen.insert(source.description).inserted { sources.append(source) }
        }
        return sources
    }

    static func sortedUnique(_ items: [String]) -> [String] {
        Array(Set(items)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    // MARK: Fetch

    /// Fetches `image`'s packages in install order: each verified against the `C:` its signed
    /// index (or the lock) gives it and against its datahash (and the lock's data checksum), and
    /// by default expanded into the cache for the rootfs. At most
    /// ``RepositoryOptions/maximumConcurrentFetches`` packages are in flight. `progress` gets the
    /// `fetch` events (a plan for the architecture, a start and done per package).
    public func fetch(_ image: ResolvedImage, options fetchOptions: FetchOptions = FetchOptions(),
                      progress: ProgressReporter = .none) async throws(DistillError) -> [FetchedPackage] {
        do {
            return try await client.fetch(image.packages.map { request(for: $0, architecture: image.architecture) },
                                          options: fetchOptions, progress: progress)
        } catch {
            throw DistillError(repository: error)
        }
    }

    /// The fetch request for one package; a remote URL gets the credentials of the configured
    /// repository it lies in.
    func request(for package: ImagePackage, architecture: Architecture) -> PackageRequest {
        PackageRequest(name: package.name, version: package.version, architecture: architecture.apkName, url: package.url,
                       checksum: package.checksum, dataChecksum: package.dataChecksum, repository: package.origin,
                       credentials: package.repository?.credentials,
                       expectedSize: package.info.fileSize.map { Int64(clamping: $0) })
    }
}
