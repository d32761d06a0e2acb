import APK
import Archive
import Dispatch
import Foundation
import HTTPTransport
public import ProgressReporting

/// An index loaded for one architecture of one repository, its signature verified.
public struct LoadedIndex: Sendable {
    /// The repository.
    public var source: RepositorySource
    /// The apk architecture.
    public var architecture: String
    /// The index URL or path (no credentials).
    public var url: String
    /// The verified index: its records and who signed it.
    public var index: APKIndexFile
}

/// Reads repositories: keyrings, signed indexes and verified packages, from local directories
/// (read in place) and `http(s)://` URLs (through the cache).
///
/// ```swift
/// let client = RepositoryClient(options: RepositoryOptions(cache: RepositoryCache(root: cacheDir)))
/// let keys = try await client.loadKeyring(["./melange.rsa.pub"])
/// let repo = try RepositorySource(location: "./packages")
/// let index = try await client.loadIndex(repo, architecture: "x86_64", keyring: keys.keyring)
/// let fetched = try await client.fetch(requests)        // verified, expanded, in request order
/// ```
public final class RepositoryClient: Sendable {
    /// The options this client was made with.
    public let options: RepositoryOptions
    /// The HTTP transport for remote repositories and keys.
    public let http: any HTTPClient

    /// A client with `options`, reaching remote repositories through `http`.
    public init(options: RepositoryOptions, http: any HTTPClient = URLSessionHTTPClient()) {
        self.options = options
        self.http = http
    }

    // MARK: Keyrings

    /// Loads keyring entries: key files, directories of `*.rsa.pub` files, and key URLs (fetched
    /// once, then read from the cache). A key's apk name is its file name.
    public func loadKeyring(_ entries: [String]) async throws(RepositoryError) -> LoadedKeyring {
        var loaded = LoadedKeyring()
        for text in entries {
            let entry = try KeyringEntry(text)
            switch entry.location {
            case .local(let path):
                if Files.isDirectory(path) {
                    let names: [String]
                    do {
                        names = try FileManagerListing.names(in: path)
                    } catch {
                        throw RepositoryError(.keyring, "cannot list the keyring directory: \(error)", source: path)
                    }
                    for name in names where name.hasSuffix(".rsa.pub") {
                        let file = path + "/" + name
                        try loaded.add(KeyFile(name: name, bytes: try readKey(file), source: file))
                    }
                } else if Files.exists(path) {
                    try loaded.add(KeyFile(name: entry.keyName, bytes: try readKey(path), source: path))
                } else {
                    throw RepositoryError(.keyring, "the key file does not exist (keyring paths are relative to the working directory)",
                                          source: path)
                }
            case .remote(let url):
                let bytes = try await remoteKey(url: url, name: entry.keyName, credentials: entry.credentials)
                try loaded.add(KeyFile(name: entry.keyName, bytes: bytes, source: url))
            }
        }
        return loaded
    }

    private func readKey(_ path: String) throws(RepositoryError) -> [UInt8] {
        do {
            return try Files.read(path, limit: RepositoryLimits.maximumKeySize)
        } catch {
            throw RepositoryError(.keyring, error.message, source: path)
        }
    }

    // MARK: Indexes

    /// Loads and verifies `source`'s index for `architecture`. A missing local index gives nil
    /// (apko warns and skips the repository); a remote one is an error.
    ///
    /// - Throws: ``RepositoryError/Kind/untrustedIndex`` naming the repository and the keys the
    ///   index was signed with when no signature verifies against `keyring`; `.invalidIndex`,
    ///   `.tooLarge`, `.notCached` (offline), `.network`, `.notFound`, `.httpStatus`.
    ///
    /// `progress` gets `fetch` events named by the index URL while a remote index is requested:
    /// `start`, the bytes received while it downloads, and `done` with its size (the cached
    /// copy's when the server answers 304).
    public func loadIndex(_ source: RepositorySource, architecture: String, keyring: Keyring,
                          progress: ProgressReporter = .none) async throws(RepositoryError) -> LoadedIndex? {
        let url = source.indexURL(architecture: architecture)
        switch source.location {
        case .local(let directory):
            let path = "\(directory)/\(architecture)/APKINDEX.tar.gz"
            guard Files.exists(path) else { return nil }
            let index = try await readIndex(at: path, url: url, source: source, keyring: keyring)
            if let problem = Self.trustProblem(index.signature, keyring: keyring) {
                throw RepositoryError(.untrustedIndex, "the index \(url) \(problem)", source: source.description)
            }
            try Self.checkFileNames(index, url: url, source: source)
            return LoadedIndex(source: source, architecture: architecture, url: url, index: index)
        case .remote:
            return try await loadRemoteIndex(source, architecture: architecture, keyring: keyring, progress: progress)
        }
    }

    /// Reads the index at `path` (signature checked, trust not yet required).
    func readIndex(at path: String, url: String, source: RepositorySource, keyring: Keyring) async throws(RepositoryError)
        -> APKIndexFile {
        let limit = options.limits.maximumIndexSize
        return try await Self.blocking { () throws(RepositoryError) -> APKIndexFile in
            do {
                return try APKIndexFile.read(path: path, keyring: keyring, requiresTrust: false, maximumSize: limit)
            } catch let error as APKError {
                throw RepositoryError(error.kind == .tooLarge ? .tooLarge : (error.kind == .io ? .io : .invalidIndex),
                                      "cannot read the index \(url): \(error.message)", source: source.description)
            } catch {
                throw RepositoryError(.invalidIndex, "cannot read the index \(url): \(error)", source: source.description)
            }
        }
    }

    /// Every record's `name-version.apk` must be a plain file name in the repository's
    /// architecture directory: a name or version with `/` (or one that is `.` or `..`) would send
    /// the package download out of the repository, even from a trusted index.
    static func checkFileNames(_ index: APKIndexFile, url: String, source: RepositorySource) throws(RepositoryError) {
        for package in index.packages {
            for (field, value) in [("name", package.name), ("version", package.version)]
            where value.utf8.contains(UInt8(ascii: "/")) || value.utf8.contains(0) || value == "." || value == ".." {
                throw RepositoryError(.invalidIndex, "the index \(url) lists a package whose \(field) \(quotedName(value)) cannot be part of a file name",
                                      source: source.description)
            }
        }
    }

    /// A name in quotes with control characters escaped, for one-line messages.
    static func quotedName(_ text: String) -> String {
        var result = "'"
        for scalar in text.unicodeScalars.prefix(200) {
            if scalar.value < 0x20 || scalar.value == 0x7f {
                result += "\\x" + String(scalar.value, radix: 16)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "'"
    }

    /// Why an index is not trusted, as the end of a sentence naming its signers; nil when trusted.
    static func trustProblem(_ status: APKIndexFile.SignatureStatus, keyring: Keyring) -> String? {
        let known = keyring.isEmpty ? "the keyring is empty" : "the keyring has \(keyring.names.joined(separator: ", "))"
        switch status {
        case .verified:
            return nil
        case .unsigned:
            return "is not signed; refusing it"
        case .untrusted(let keyNames):
            return "is signed with \(keyNames.joined(separator: ", ")), which is not in the keyring (\(known)); add the key with --keyring-append"
        case .bad(let signers, let reasons):
            let detail = zip(signers, reasons).map { "\($0.keyName): \($1)" }.joined(separator: "; ")
            return "has a BAD signature (\(detail)); refusing it"
        }
    }

    // MARK: Packages

    /// Fetches and verifies `requests`, at most ``RepositoryOptions/maximumConcurrentFetches`` at a
    /// time (downloads overlap with other packages' verification and expansion), and returns
    /// them in request order. The first failure in request order is thrown (after the packages
    /// before it have finished); nothing new starts once a package has failed, and the rest are
    /// cancelled. ``fetchStream(_:options:progress:)`` hands the same packages out as they come.
    ///
    /// `progress` gets a `fetch` `plan` for the architectures of `requests` (the sum of their
    /// expected sizes, when every one is known), then a `start` and a `done` (the `.apk`'s size on
    /// disk) per package, named ``PackageRequest/progressItem``.
    ///
    /// - Throws: ``RepositoryError/Kind/verificationFailed`` naming the package, its repository
    ///   and both checksums when a package is not the one the index (or lock) names;
    ///   `.invalidPackage`, `.tooLarge`, `.notFound`, `.notCached` (offline), `.network`, `.io`.
    public func fetch(_ requests: [PackageRequest], options fetchOptions: FetchOptions = FetchOptions(),
                      progress: ProgressReporter = .none) async throws(RepositoryError) -> [FetchedPackage] {
        let stream = fetchStream(requests, options: fetchOptions, progress: progress)
        var packages: [FetchedPackage] = []
        packages.reserveCapacity(requests.count)
        while let package = try await stream.next() {
            packages.append(package)
        }
        return packages
    }

    /// Starts fetching and verifying `requests` as ``fetch(_:options:progress:)`` does, and hands
    /// the packages out in request order as they become available: the caller can use the first
    /// ones while the rest download (see ``PackageStream``). The progress events and errors are
    /// those of ``fetch(_:options:progress:)``; the fetch starts at once, before the first
    /// ``PackageStream/next()``.
    public func fetchStream(_ requests: [PackageRequest], options fetchOptions: FetchOptions = FetchOptions(),
                            progress: ProgressReporter = .none) -> PackageStream {
        if progress.isEnabled && !requests.isEmpty {
            let sizes = requests.compactMap(\.expectedSize)
            progress.plan(.fetch, Set(requests.map(\.architecture)).sorted().joined(separator: ","),
                          total: sizes.count == requests.count ? sizes.reduce(0, +) : nil)
        }
        return PackageStream(requests: requests, width: options.maximumConcurrentFetches) { request throws(RepositoryError) in
            progress.start(.fetch, request.progressItem, total: request.expectedSize)
            let package = try await self.fetch(request, options: fetchOptions, progress: progress)
            if progress.isEnabled {
                progress.finish(.fetch, request.progressItem, bytes: Files.size(package.path) ?? request.expectedSize ?? 0)
            }
            return package
        }
    }

    /// Fetches and verifies one package (see the fetch of a list of requests).
    /// While a remote package downloads, `progress` gets a `fetch` `run` event with the bytes
    /// received so far about four times a second; `start` and `done` are the caller's.
    public func fetch(_ request: PackageRequest, options fetchOptions: FetchOptions = FetchOptions(),
                      progress: ProgressReporter = .none) async throws(RepositoryError) -> FetchedPackage {
        let (location, _) = try SourceLocation.parse(request.url, what: "package")
        switch location {
        case .local(let path):
            guard Files.isRegularFile(path) else {
                throw RepositoryError(.notFound, "\(request.nameVersion) is not in its repository \(request.repository): \(path) does not exist",
                                      source: path)
            }
            return try await verify(request, at: path, options: fetchOptions)
        case .remote:
            return try await fetchRemote(request, options: fetchOptions, progress: progress)
        }
    }

    /// Reads the `.apk` at `path` in one pass: checks `C:`, datahash and the lock's data
    /// checksum, and expands the data section into the cache when asked. When the cache already
    /// holds an expansion with its record, the data section is hashed instead of decompressed
    /// and the entries are listed from the expansion (see ``RepositoryCache``).
    func verify(_ request: PackageRequest, at path: String, options fetchOptions: FetchOptions) async throws(RepositoryError)
        -> FetchedPackage {
        let limits = options.limits
        let expandedPath = fetchOptions.expandsData ? try options.cache.expandedDataPath(checksum: request.checksum) : nil
        let recordPath = fetchOptions.expandsData ? try options.cache.expansionRecordPath(checksum: request.checksum) : nil
        return try await Self.blocking { () throws(RepositoryError) -> FetchedPackage in
            // A wrong identity stops the read at the end of the control section, so the data of
            // a package that is not the one the index names is never decompressed; a wrong
            // datahash is only known at the end, and the expansion is thrown away unless
            // everything held.
            let readOptions = APKFile.Options(
                requiresSignature: false, expectedChecksum: request.checksum, stopsAtFirstFailure: false,
                maximumControlSize: limits.maximumControlSize, maximumDataSize: limits.maximumDataSize,
                listsDataEntries: fetchOptions.listsDataEntries, maximumEntryCount: limits.maximumEntryCount,
                stopsAtIdentityMismatch: true)
            if let expandedPath, let recordPath, let expansion = ExpansionRecord.read(recordPath, expandedPath: expandedPath) {
                let file: APKFile?
                do {
                    file = try APKFile.read(path: path, options: readOptions, expansion: expansion)
                } catch {
                    throw Self.readError(error, request: request)
                }
                if let file {
                    if let problem = Self.verificationProblem(file, request: request) {
                        throw RepositoryError(.verificationFailed, "\(request.nameVersion) from \(request.repository) \(problem)", source: request.url)
                    }
                    return FetchedPackage(request: request, file: file, path: path, expandedDataPath: expandedPath)
                }
            }
            let writer = try expandedPath.map { path throws(RepositoryError) in try ExpandedDataWriter(path: path) }
            let file: APKFile
            do {
                file = try APKFile.read(path: path, options: readOptions, expandingDataTo: writer)
            } catch {
                writer?.abandon()
                throw Self.readError(error, request: request)
            }
            if let problem = Self.verificationProblem(file, request: request) {
                writer?.abandon()
                throw RepositoryError(.verificationFailed, "\(request.nameVersion) from \(request.repository) \(problem)", source: request.url)
            }
            do {
                try writer?.finish()
            } catch {
                writer?.abandon()
                throw RepositoryError(.io, "cannot store the expanded data of \(request.nameVersion): \(error)", source: expandedPath)
            }
            if let writer, let recordPath, let dataHash = file.info.dataHash {
                // Without a record the next build decompresses again; nothing else depends on it.
                try? ExpansionRecord(size: writer.size, digest: writer.digest(), dataHash: dataHash).write(to: recordPath)
            }
            return FetchedPackage(request: request, file: file, path: path, expandedDataPath: expandedPath)
        }
    }

    /// A failure to read a package as the repository error it means.
    static func readError(_ error: any Error, request: PackageRequest) -> RepositoryError {
        if let error = error as? APKError, error.kind == .checksumMismatch {
            return RepositoryError(.verificationFailed, "\(request.nameVersion) from \(request.repository) is not the package its index names: \(error.message)",
                                   source: request.url)
        }
        if let error = error as? APKError {
            let kind: RepositoryError.Kind = error.kind == .tooLarge ? .tooLarge : (error.kind == .io ? .io : .invalidPackage)
            return RepositoryError(kind, "\(request.nameVersion) from \(request.repository) cannot be read: \(error.message)",
                                   source: request.url)
        }
        return RepositoryError(.invalidPackage, "\(request.nameVersion) from \(request.repository) cannot be read: \(error)",
                               source: request.url)
    }

    /// What is wrong with a package that was read, or nil when it is the one requested.
    static func verificationProblem(_ file: APKFile, request: PackageRequest) -> String? {
        if file.identityMatches != true {
            return "is not the package its index names: its C: is \(file.identity), the index says \(request.checksum)"
        }
        if case .mismatch(let expected, let actual) = file.dataHash {
            return "is damaged: its data section hashes to \(actual), its .PKGINFO datahash is \(expected)"
        }
        if let locked = request.dataChecksum, !locked.isEmpty, file.dataSection.checksum != locked {
            return "is not the locked package: its data section is \(file.dataSection.checksum), the lock file says \(locked)"
        }
        return nil
    }

    /// Runs blocking work (reading and hashing files) off the cooperative thread pool, which is
    /// as small as the machine and must not be held by disk reads.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(RepositoryError) -> T) async throws(RepositoryError) -> T {
        let result: Result<T, RepositoryError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                do throws(RepositoryError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}

/// Directory listing in byte order (the keyring directory's keys load in a stable order).
enum FileManagerListing {
    static func names(in directory: String) throws -> [String] {
        guard let handle = opendir(directory) else {
            throw RepositoryError(.io, "cannot list the directory: \(Files.errorText(errno))", source: directory)
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
