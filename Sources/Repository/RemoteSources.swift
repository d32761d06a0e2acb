import APK
import Foundation
import HTTPTransport
import ProgressReporting

// http(s) keys, indexes and packages: fetched through the cache, retried with backoff on
// connection failures, cut-off bodies and 5xx/429, verified before they take their final name.
extension RepositoryClient {
    /// A remote key: read from the cache when it is there (keys are fetched once), else fetched
    /// and cached. The caller checks that it is a PEM RSA key.
    func remoteKey(url: String, name: String, credentials: BasicCredentials?) async throws(RepositoryError) -> [UInt8] {
        let path = options.cache.keyPath(url: url, name: name)
        if Files.isRegularFile(path) {
            return try Files.read(path, limit: RepositoryLimits.maximumKeySize)
        }
        if options.offline {
            throw RepositoryError(.notCached, "the key is not in the cache and --offline forbids fetching it; run once without --offline",
                                  source: url)
        }
        let file = try TemporaryFile(finalPath: path)
        let response = try await download(url, to: file, limit: RepositoryLimits.maximumKeySize, credentials: credentials,
                                          what: "the key")
        guard response.isSuccess else { throw statusError(response, url: url, what: "the key") }
        let bytes = try Files.read(file.path, limit: RepositoryLimits.maximumKeySize)
        do {
            _ = try Keyring.publicKey(pem: bytes, source: url)
        } catch {
            throw RepositoryError(.keyring, "\(error)", source: url)
        }
        try file.commit()
        return bytes
    }

    /// Loads a remote index: revalidated with `If-None-Match` against the cached copy's ETag
    /// (a 304 reuses it), verified against the keyring, and only then stored under its final
    /// name. With `--offline` the cached copy is used as it is, verified all the same.
    func loadRemoteIndex(_ source: RepositorySource, architecture: String, keyring: Keyring,
                         progress: ProgressReporter = .none) async throws(RepositoryError) -> LoadedIndex {
        let url = source.indexURL(architecture: architecture)
        let directory = options.cache.indexDirectory(url: url)
        let cachedPath = directory + "/APKINDEX.tar.gz"
        let etagPath = directory + "/etag"
        let cached = Files.isRegularFile(cachedPath)
        if options.offline {
            guard cached else {
                throw RepositoryError(.notCached, "the index \(url) is not in the cache and --offline forbids fetching it; run once without --offline",
                                      source: source.description)
            }
            return try await verifiedIndex(at: cachedPath, source: source, architecture: architecture, url: url, keyring: keyring)
        }
        var etag: String?
        if cached, let bytes = try? Files.read(etagPath, limit: 4096) { etag = String(decoding: bytes, as: UTF8.self) }
        let file = try TemporaryFile(finalPath: cachedPath)
        progress.start(.fetch, url, total: nil)
        let response = try await Self.reportingGrowth(of: file.path, as: url, total: nil, to: progress) {
            () async throws(RepositoryError) -> HTTPResponse in
            try await download(url, to: file, limit: options.limits.maximumHTTPResponseSize,
                               credentials: source.credentials, what: "the index", etag: etag)
        }
        if progress.isEnabled, response.isSuccess || response.status == 304 {
            progress.finish(.fetch, url, bytes: Files.size(response.status == 304 ? cachedPath : file.path) ?? 0)
        }
        if response.status == 304, cached {
            do {
                return try await verifiedIndex(at: cachedPath, source: source, architecture: architecture, url: url, keyring: keyring)
            } catch {
                // The cached copy went bad (it verified when it was stored): forget it and fetch afresh.
                Files.remove(cachedPath)
                Files.remove(etagPath)
                return try await loadRemoteIndex(source, architecture: architecture, keyring: keyring, progress: progress)
            }
        }
        guard response.isSuccess else { throw statusError(response, url: url, what: "the index", repository: source.description) }
        let loaded = try await verifiedIndex(at: file.path, source: source, architecture: architecture, url: url, keyring: keyring)
        try file.commit()
        if let newTag = response.header("etag") {
            try Files.writeAtomically(Array(newTag.utf8), to: etagPath)
        } else {
            Files.remove(etagPath)
        }
        try Files.writeAtomically(Array((url + "\n").utf8), to: directory + "/url")
        return loaded
    }

    /// A remote package: the cached copy when it verifies, else downloaded (with retries) and
    /// verified before it is stored. A download that does not verify is fetched once more (it
    /// may have been damaged on the way) before the package is refused.
    func fetchRemote(_ request: PackageRequest, options fetchOptions: FetchOptions,
                     progress: ProgressReporter = .none) async throws(RepositoryError) -> FetchedPackage {
        let cachedPath = try options.cache.packagePath(checksum: request.checksum)
        if Files.isRegularFile(cachedPath) {
            do {
                return try await verify(request, at: cachedPath, options: fetchOptions)
            } catch where error.kind == .verificationFailed || error.kind == .invalidPackage || error.kind == .tooLarge {
                Files.remove(cachedPath)
                if options.offline {
                    throw RepositoryError(error.kind, "\(error.message); the damaged cached copy was removed, and --offline forbids fetching it again",
                                          source: error.source)
                }
            }
        } else if options.offline {
            throw RepositoryError(.notCached, "\(request.nameVersion) from \(request.repository) is not in the cache and --offline forbids fetching it; run once without --offline",
                                  source: request.url)
        }
        var attempt = 1
        while true {
            let file = try TemporaryFile(finalPath: cachedPath)
            let response = try await Self.reportingGrowth(of: file.path, as: request.progressItem, total: request.expectedSize,
                                                          to: progress) { () async throws(RepositoryError) -> HTTPResponse in
                try await download(request.url, to: file, limit: options.limits.maximumHTTPResponseSize,
                                   credentials: request.credentials, what: request.nameVersion)
            }
            guard response.isSuccess else {
                throw statusError(response, url: request.url, what: "\(request.nameVersion) from \(request.repository)")
            }
            do {
                var fetched = try await verify(request, at: file.path, options: fetchOptions)
                try file.commit()
                fetched.path = cachedPath
                return fetched
            } catch where attempt < 2 && (error.kind == .verificationFailed || error.kind == .invalidPackage) {
                attempt += 1
            }
        }
    }

    /// Runs `body`, which writes the file at `path`, and meanwhile reports the file's size as a
    /// `fetch` `run` of `item` every quarter second (only when it grew). The HTTP transport has no
    /// progress callback, and the file's size is exactly the bytes received. The watcher has
    /// stopped when this returns, so no `run` can follow the caller's `done`.
    static func reportingGrowth<T: Sendable>(of path: String, as item: String, total: Int64?, to progress: ProgressReporter,
                                             _ body: () async throws(RepositoryError) -> T) async throws(RepositoryError) -> T {
        guard progress.isEnabled else { return try await body() }
        let watcher = FileGrowthWatcher(path: path) { size in
            progress.advance(.fetch, item, completed: size, total: total)
        }
        let result: Result<T, RepositoryError>
        do throws(RepositoryError) {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        watcher.stop()
        return try result.get()
    }

    private func verifiedIndex(at path: String, source: RepositorySource, architecture: String, url: String, keyring: Keyring)
        async throws(RepositoryError) -> LoadedIndex {
        let index = try await readIndex(at: path, url: url, source: source, keyring: keyring)
        if let problem = Self.trustProblem(index.signature, keyring: keyring) {
            throw RepositoryError(.untrustedIndex, "the index \(url) \(problem)", source: source.description)
        }
        try Self.checkFileNames(index, url: url, source: source)
        return LoadedIndex(source: source, architecture: architecture, url: url, index: index)
    }

    /// GETs `url` into `file` with the retry policy. Credentials: the URL's own, else `HTTP_AUTH`'s
    /// for its host.
    private func download(_ url: String, to file: TemporaryFile, limit: Int64, credentials: BasicCredentials?, what: String,
                          etag: String? = nil) async throws(RepositoryError) -> HTTPResponse {
        guard let address = URL(string: url) else {
            throw RepositoryError(.invalidLocation, "\(what): '\(url)' is not a valid URL")
        }
        var headers = ["User-Agent": "distill"]
        let host = CredentialedURL(url).host
        if let credentials = credentials ?? options.authentication.first(where: { $0.host == host })?.credentials {
            headers["Authorization"] = credentials.authorizationHeader
        }
        if let etag { headers["If-None-Match"] = etag }
        let request = HTTPRequest(method: "GET", url: address, headers: headers)
        do {
            return try await options.retry.run { _ in
                try await http.download(request, to: file.path, maximumSize: limit)
            }
        } catch let error as HTTPTransportError {
            switch error.kind {
            case .tooLarge:
                throw RepositoryError(.tooLarge, "\(what): \(error.message) (see --max-http-response-size)", source: url)
            case .io:
                throw RepositoryError(.io, "\(what): \(error.message)", source: url)
            case .redirect:
                throw RepositoryError(.network, "\(what): \(error.message)", source: url)
            case .transport, .authentication:
                throw RepositoryError(.network, "\(what) could not be fetched after \(options.retry.attempts) tries: \(error.message); check the address and the network, or use --offline with a filled cache",
                                      source: url)
            }
        } catch {
            throw RepositoryError(.network, "\(what) could not be fetched: \(error)", source: url)
        }
    }

    private func statusError(_ response: HTTPResponse, url: String, what: String, repository: String? = nil) -> RepositoryError {
        let source = repository ?? url
        switch response.status {
        case 404, 410:
            return RepositoryError(.notFound, "\(what) is not there: \(url) answered HTTP \(response.status)", source: source)
        case 401, 403:
            return RepositoryError(.authentication, "\(what): \(url) answered HTTP \(response.status); give credentials in the URL (https://user:password@host/…) or in HTTP_AUTH=basic:HOST:USER:PASSWORD",
                                   source: source)
        default:
            return RepositoryError(.httpStatus, "\(what): \(url) answered HTTP \(response.status) after \(options.retry.attempts) tries",
                                   source: source)
        }
    }
}

/// Polls a file's size on a thread of its own and reports each growth. A task on the
/// cooperative pool would do, except that the pool is as small as the machine: when blocking
/// work fills it, the task does not run until the download is over, and progress stalls.
final class FileGrowthWatcher: @unchecked Sendable {
    private let condition = NSCondition()
    private var isStopping = false
    private var hasStopped = false

    /// Starts watching `path`, calling `grew` with the new size at most every `interval` seconds.
    init(path: String, interval: TimeInterval = 0.25, grew: @escaping @Sendable (Int64) -> Void) {
        let thread = Thread { [self] in
            var reported: Int64 = 0
            condition.lock()
            while !isStopping {
                _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
                guard !isStopping else { break }
                condition.unlock()
                if let size = Files.size(path), size > reported {
                    reported = size
                    grew(size)
                }
                condition.lock()
            }
            hasStopped = true
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    /// Stops the watcher and waits until it has: no report follows this call.
    func stop() {
        condition.lock()
        isStopping = true
        condition.broadcast()
        while !hasStopped { condition.wait() }
        condition.unlock()
    }
}
