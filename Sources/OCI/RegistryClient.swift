import Archive
import DistillCrypto
import Foundation
public import HTTPTransport

/// A client for one registry (distribution-spec v2 API): blob and manifest existence checks,
/// uploads (monolithic or chunked), manifest pushes and pulls, tag listing; with anonymous, basic
/// and bearer-token authentication and retries.
///
/// Authentication follows the registry's lead: a request goes out with whatever authorization is
/// known for its scope; a 401 answer's `WWW-Authenticate` challenge is answered once (Basic: the
/// credentials; Bearer: a token fetched from the realm with `service` and `scope`, cached per
/// scope) and the request is sent again. A second 401 is an error, never a loop.
public actor RegistryClient {
    /// The registry as named in references (`docker.io`, `localhost:5000`).
    public nonisolated let registry: String
    /// `http(s)://host[:port]` the API is reached at.
    public nonisolated let baseURL: URL
    /// Whether plain HTTP is used (and credentials may be sent over it).
    public nonisolated let insecure: Bool

    private let http: any HTTPClient
    private let credentials: RegistryCredentials?
    private let retry: RetryPolicy
    /// Uploads of at most this many bytes go in one PUT; larger ones are sent in chunks.
    private let monolithicUploadLimit: Int64
    /// The size of each PATCH of a chunked upload.
    private let chunkSize: Int

    /// Bearer tokens by the scope they were issued for.
    private var tokens: [String: String] = [:]
    /// Set once the registry asked for Basic authentication: credentials then go with every request.
    private var usesBasicAuthentication = false

    /// Limits on what the registry may send back.
    static let maximumErrorBodySize = 1 << 20
    static let maximumTokenResponseSize = 1 << 20

    /// A client for `registry`. `apiHost` defaults to the registry's API host (Docker Hub's is
    /// `registry-1.docker.io`). `insecure` selects plain HTTP.
    public init(registry: String, apiHost: String? = nil, http: any HTTPClient, credentials: RegistryCredentials?,
                insecure: Bool, retry: RetryPolicy = .standard, monolithicUploadLimit: Int64 = 64 << 20,
                chunkSize: Int = 16 << 20) throws(OCIError) {
        let host = apiHost ?? (registry == ImageReference.dockerHub ? "registry-1.docker.io" : registry)
        guard let url = URL(string: "\(insecure ? "http" : "https")://\(host)"), url.host != nil else {
            throw OCIError(.invalidReference, "cannot make a URL for registry host \"\(host)\"")
        }
        guard chunkSize > 0, monolithicUploadLimit >= 0 else {
            throw OCIError(.invalidArgument, "upload chunk size \(chunkSize) and monolithic limit \(monolithicUploadLimit) must be positive")
        }
        self.registry = registry
        self.baseURL = url
        self.insecure = insecure
        self.http = http
        self.credentials = credentials
        self.retry = retry
        self.monolithicUploadLimit = monolithicUploadLimit
        self.chunkSize = chunkSize
    }

    // MARK: Blobs

    /// Whether the repository has the blob (HEAD `/v2/<name>/blobs/<digest>`).
    public func blobExists(repository: String, descriptor: Descriptor) async throws -> Bool {
        let response = try await perform(HTTPRequest(method: "HEAD", url: url("/v2/\(repository)/blobs/\(descriptor.digest)")),
                                         scope: .pull(repository))
        switch response.status {
        case 200:
            if let length = response.header("content-length").flatMap(Int64.init), length != descriptor.size {
                throw OCIError(.sizeMismatch, "registry has blob \(descriptor.digest) with \(length) bytes, expected \(descriptor.size)",
                               source: "\(registry)/\(repository)")
            }
            return true
        case 404:
            return false
        default:
            throw registryError(response, "checking blob \(descriptor.digest)", repository: repository)
        }
    }

    /// Uploads a blob: POST an upload session, then one PUT with the whole content and
    /// `?digest=` (content up to the monolithic limit), or PATCHes of `chunkSize` bytes and a
    /// final PUT. A failed upload starts over with a new session, up to the retry policy's tries.
    public func uploadBlob(repository: String, blob: Blob) async throws {
        var attempt = 1
        while true {
            do {
                try await uploadOnce(repository: repository, blob: blob)
                return
            } catch let error as OCIError where Self.isRetryable(error) && attempt < retry.attempts {
                try await Task.sleep(for: retry.delay(after: attempt))
                attempt += 1
            }
        }
    }

    private func uploadOnce(repository: String, blob: Blob) async throws {
        let what = "uploading blob \(blob.descriptor.digest)"
        // Each request that carries blob bytes goes on a connection of its own: the request before
        // it asks the registry to close. When a kept-alive connection dies under a request,
        // libcurl sends it again on a new one and needs its body from the start, which
        // swift-corelibs-foundation cannot give for a file or Data body: the upload would stall
        // until the request timed out instead of failing at once and starting over.
        let closing = ["Connection": "close"]
        // Not retried on its own: a failed upload is retried as a whole, from a new session.
        let start = try await perform(HTTPRequest(method: "POST", url: url("/v2/\(repository)/blobs/uploads/"), headers: closing),
                                      scope: .push(repository), retrying: false)
        guard start.status == 202 else { throw registryError(start, what, repository: repository) }
        var location = try uploadLocation(start, what: what, repository: repository)
        let size = blob.descriptor.size
        let contentType = ["Content-Type": "application/octet-stream"]
        let finished: HTTPResponse
        if size <= monolithicUploadLimit {
            let body: HTTPRequestBody
            switch blob.content {
            case .bytes(let bytes): body = .bytes(bytes)
            case .file(let path): body = .file(path, size: size)
            }
            finished = try await perform(
                HTTPRequest(method: "PUT", url: try withDigest(location, blob.descriptor.digest), headers: contentType, body: body),
                scope: .push(repository), retrying: false)
        } else {
            let source = try blob.openSource()
            var offset: Int64 = 0
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            while offset < size {
                let count = try mapErrors(.io, "cannot read blob \(blob.descriptor.digest)") {
                    try chunk.withUnsafeMutableBytes { try source.readFully(into: $0) }
                }
                guard count > 0 else {
                    throw OCIError(.sizeMismatch, "blob \(blob.descriptor.digest) ended at \(offset) of \(size) bytes")
                }
                var headers = contentType.merging(closing) { first, _ in first }
                headers["Content-Range"] = "\(offset)-\(offset + Int64(count) - 1)"
                let response = try await perform(
                    HTTPRequest(method: "PATCH", url: location, headers: headers, body: .bytes(Array(chunk[0..<count]))),
                    scope: .push(repository), retrying: false)
                guard response.status == 202 else { throw registryError(response, what, repository: repository) }
                location = try uploadLocation(response, what: what, repository: repository)
                offset += Int64(count)
            }
            finished = try await perform(
                HTTPRequest(method: "PUT", url: try withDigest(location, blob.descriptor.digest), headers: contentType),
                scope: .push(repository), retrying: false)
        }
        guard finished.status == 201 else { throw registryError(finished, what, repository: repository) }
        try checkDigestHeader(finished, expected: blob.descriptor.digest, what: what, repository: repository)
    }

    /// Downloads a blob into memory (at most `maximumSize` bytes) and verifies it.
    public func blob(repository: String, descriptor: Descriptor, maximumSize: Int = 64 << 20) async throws -> [UInt8] {
        guard descriptor.size <= Int64(maximumSize) else {
            throw OCIError(.tooLarge, "blob \(descriptor.digest) is \(descriptor.size) bytes, more than the \(maximumSize)-byte limit",
                           source: "\(registry)/\(repository)")
        }
        let response = try await perform(HTTPRequest(method: "GET", url: url("/v2/\(repository)/blobs/\(descriptor.digest)")),
                                         scope: .pull(repository), limit: Int(descriptor.size))
        guard response.status == 200 else {
            throw registryError(response, "fetching blob \(descriptor.digest)", repository: repository)
        }
        try BlobCheck.verify(size: Int64(response.body.count), digest: descriptor.digest.algorithm.hash(response.body),
                             against: descriptor, source: "\(registry)/\(repository)@\(descriptor.digest)")
        return response.body
    }

    // MARK: Manifests

    /// Whether the repository has a manifest with this digest (HEAD by digest).
    public func manifestExists(repository: String, descriptor: Descriptor) async throws -> Bool {
        try await headManifest(repository: repository, reference: descriptor.digest.description) != nil
    }

    /// The descriptor (media type, digest, size) a tag or digest resolves to, or nil when the
    /// registry does not know it.
    public func headManifest(repository: String, reference: String) async throws -> Descriptor? {
        let response = try await perform(
            HTTPRequest(method: "HEAD", url: url("/v2/\(repository)/manifests/\(reference)"), headers: Self.acceptManifests),
            scope: .pull(repository))
        switch response.status {
        case 200:
            guard let digestText = response.header("docker-content-digest"),
                  let mediaType = response.header("content-type"),
                  let size = response.header("content-length").flatMap(Int64.init)
            else {
                // Not every registry describes a manifest on HEAD; fetching it tells everything.
                return try await manifest(repository: repository, reference: reference).descriptor
            }
            return Descriptor(mediaType: Self.mediaTypeOnly(mediaType), digest: try OCIDigest.parse(digestText), size: size)
        case 404:
            return nil
        default:
            throw registryError(response, "checking manifest \(reference)", repository: repository)
        }
    }

    /// Stores a manifest or index under `reference` (its digest, or a tag) with `Content-Type` =
    /// its media type, and checks that the registry computed the same digest.
    public func putManifest(repository: String, reference: String, manifest: RawManifest) async throws {
        let what = reference.hasPrefix("sha256:") ? "pushing manifest \(reference)" : "tagging \(manifest.descriptor.digest) as \(reference)"
        let response = try await perform(
            HTTPRequest(method: "PUT", url: url("/v2/\(repository)/manifests/\(reference)"),
                        headers: ["Content-Type": manifest.descriptor.mediaType], body: .bytes(manifest.bytes)),
            scope: .push(repository))
        guard response.status == 201 || response.status == 200 else {
            throw registryError(response, what, repository: repository)
        }
        try checkDigestHeader(response, expected: manifest.descriptor.digest, what: what, repository: repository)
    }

    /// Fetches the manifest a tag or digest names (every manifest type accepted). By digest, the
    /// bytes must hash to it; by tag, they must hash to the registry's `Docker-Content-Digest`
    /// when it sends one.
    public func manifest(repository: String, reference: String) async throws -> RawManifest {
        let response = try await perform(
            HTTPRequest(method: "GET", url: url("/v2/\(repository)/manifests/\(reference)"), headers: Self.acceptManifests),
            scope: .pull(repository), limit: CanonicalJSON.maximumDocumentSize)
        guard response.status == 200 else {
            throw registryError(response, "fetching manifest \(reference)", repository: repository)
        }
        var mediaType = response.header("content-type").map(Self.mediaTypeOnly)
        if mediaType == nil || !(MediaType.isIndex(mediaType!) || MediaType.isImageManifest(mediaType!)) {
            struct Typed: Decodable { let mediaType: String? }
            mediaType = (try? CanonicalJSON.decode(Typed.self, from: response.body, source: reference))?.mediaType ?? mediaType
        }
        let raw = RawManifest(mediaType: mediaType ?? MediaType.imageManifest, bytes: response.body)
        let source = "\(registry)/\(repository)@\(reference)"
        if let pinned = try? OCIDigest.parse(reference), pinned != raw.descriptor.digest {
            throw OCIError(.digestMismatch, "manifest hashes to \(raw.descriptor.digest)", source: source)
        }
        if let announced = response.header("docker-content-digest"), let digest = try? OCIDigest.parse(announced),
           digest != raw.descriptor.digest {
            throw OCIError(.digestMismatch, "manifest hashes to \(raw.descriptor.digest), the registry says \(digest)", source: source)
        }
        return raw
    }

    /// The repository's tags (following `Link` pagination); an unknown repository has none.
    public func tags(repository: String) async throws -> [String] {
        struct Page: Decodable { let tags: [String]? }
        var tags: [String] = []
        var next: URL? = url("/v2/\(repository)/tags/list")
        var pages = 0
        while let pageURL = next, pages < 1000 {
            pages += 1
            let response = try await perform(HTTPRequest(method: "GET", url: pageURL), scope: .pull(repository),
                                             limit: CanonicalJSON.maximumDocumentSize)
            if response.status == 404 { return tags }
            guard response.status == 200 else { throw registryError(response, "listing tags", repository: repository) }
            tags += try CanonicalJSON.decode(Page.self, from: response.body, source: pageURL.absoluteString).tags ?? []
            next = response.header("link").flatMap(nextPage)
        }
        return tags
    }

    // MARK: Requests, authentication, retries

    /// The access a request needs, in the token protocol's scope syntax.
    enum Scope {
        case pull(String)
        case push(String)

        var text: String {
            switch self {
            case .pull(let repository): "repository:\(repository):pull"
            case .push(let repository): "repository:\(repository):pull,push"
            }
        }
    }

    static let acceptManifests = ["Accept": MediaType.acceptedManifestTypes.joined(separator: ", ")]

    /// Sends `request` with the authorization known for `scope`; answers one 401 challenge and
    /// sends it again; retries transport failures, 5xx and 429 unless `retrying` is false.
    private func perform(_ request: HTTPRequest, scope: Scope, limit: Int = maximumErrorBodySize,
                         retrying: Bool = true) async throws -> HTTPResponse {
        var answeredChallenge = false
        while true {
            var request = request
            if let authorization = authorization(for: scope) {
                request.headers["Authorization"] = authorization
            }
            let response = try await send(request, limit: limit, retrying: retrying)
            guard response.status == 401 else { return response }
            let challengeText = response.header("www-authenticate") ?? ""
            if answeredChallenge {
                throw OCIError(.unauthorized,
                               "\(request.method) \(request.url.path) still answered 401 Unauthorized after authenticating\(credentials.map { " as \($0.username)" } ?? "")\(Self.errorSummary(response.body).map { ": \($0)" } ?? "")",
                               source: registry, hint: credentials == nil
                                   ? "the registry needs credentials: docker login, or --registry-username/--registry-password"
                                   : "check the user name and password, and that they may \(scope.text.hasSuffix("push") ? "push to" : "pull from") this repository")
            }
            try await answer(AuthChallenge.parse(challengeText), for: scope, request: request)
            answeredChallenge = true
        }
    }

    private func authorization(for scope: Scope) -> String? {
        if usesBasicAuthentication, let credentials { return credentials.basicAuthorization }
        return tokens[scope.text].map { "Bearer \($0)" }
    }

    /// Answers a 401 challenge so the next try of the request is authorized.
    private func answer(_ challenges: [AuthChallenge], for scope: Scope, request: HTTPRequest) async throws {
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            tokens[scope.text] = try await fetchToken(bearer, scope: scope)
            return
        }
        if challenges.contains(where: { $0.scheme == "basic" }) {
            guard credentials != nil else {
                throw OCIError(.unauthorized, "\(request.method) \(request.url.path) needs credentials (Basic authentication)",
                               source: registry, hint: "docker login \(registry), or --registry-username/--registry-password")
            }
            usesBasicAuthentication = true
            return
        }
        throw OCIError(.unauthorized,
                       "\(request.method) \(request.url.path) answered 401 with \(challenges.isEmpty ? "no usable WWW-Authenticate challenge" : "unsupported authentication scheme \(challenges.map(\.scheme).joined(separator: ", "))")",
                       source: registry)
    }

    /// Gets a bearer token from the challenge's realm (distribution's token protocol): GET
    /// `realm?service=…&scope=…`, with Basic credentials when there are some; the answer's
    /// `token` (or OAuth's `access_token`) is the token.
    private func fetchToken(_ challenge: AuthChallenge, scope: Scope) async throws -> String {
        guard let realm = challenge.parameters["realm"], var components = URLComponents(string: realm),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http", components.host != nil
        else {
            throw OCIError(.unauthorized, "bearer challenge has no usable realm URL (\(challenge.parameters["realm"] ?? "none"))",
                           source: registry)
        }
        var query = components.queryItems ?? []
        if let service = challenge.parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
        query.append(URLQueryItem(name: "scope", value: challenge.parameters["scope"] ?? scope.text))
        components.queryItems = query
        guard let tokenURL = components.url else {
            throw OCIError(.unauthorized, "cannot build a token request URL from realm \(realm)", source: registry)
        }
        var request = HTTPRequest(method: "GET", url: tokenURL)
        if let credentials {
            // Credentials in clear text only where the user allowed plain HTTP for the registry.
            guard scheme == "https" || insecure else {
                throw OCIError(.unauthorized, "token realm \(realm) is plain HTTP; refusing to send credentials to it", source: registry)
            }
            request.headers["Authorization"] = credentials.basicAuthorization
        }
        let response = try await send(request, limit: Self.maximumTokenResponseSize, retrying: true)
        guard response.status == 200 else {
            throw OCIError(response.status == 401 || response.status == 403 ? .unauthorized : .registry,
                           "token server \(tokenURL.host ?? realm) answered HTTP \(response.status) for scope \(challenge.parameters["scope"] ?? scope.text)\(Self.errorSummary(response.body).map { ": \($0)" } ?? "")",
                           source: registry, hint: credentials == nil ? "the registry needs credentials: docker login, or --registry-username/--registry-password" : nil)
        }
        struct TokenResponse: Decodable {
            let token: String?
            let accessToken: String?
            enum CodingKeys: String, CodingKey {
                case token
                case accessToken = "access_token"
            }
        }
        let decoded = try CanonicalJSON.decode(TokenResponse.self, from: response.body, source: "token from \(tokenURL.host ?? realm)")
        guard let token = decoded.token ?? decoded.accessToken, !token.isEmpty else {
            throw OCIError(.unauthorized, "token server \(tokenURL.host ?? realm) returned no token", source: registry)
        }
        return token
    }

    /// One request through the transport, retried with backoff on connection failures, 5xx and 429.
    private func send(_ request: HTTPRequest, limit: Int, retrying: Bool) async throws -> HTTPResponse {
        var attempt = 1
        while true {
            do {
                let response = try await http.send(request, maximumResponseSize: limit)
                let retryable = response.status >= 500 || response.status == 429
                guard retryable, retrying, attempt < retry.attempts else { return response }
            } catch let error as HTTPTransportError where error.kind == .transport && retrying && attempt < retry.attempts {
                // Fall through to the wait below and try again.
            } catch let error as HTTPTransportError {
                throw OCIError(transport: error, source: registry)
            } catch let error as OCIError {
                throw error.located(at: registry)
            } catch {
                throw OCIError(.transport, "\(request.method) \(request.url.absoluteString): \(error)", source: registry)
            }
            try await Task.sleep(for: retry.delay(after: attempt))
            attempt += 1
        }
    }

    private static func isRetryable(_ error: OCIError) -> Bool {
        error.kind == .transport || (error.kind == .registry && (error.status.map { $0 >= 500 || $0 == 429 } ?? false))
    }

    // MARK: Helpers

    private nonisolated func url(_ path: String) -> URL {
        baseURL.appendingPathComponent(path.hasPrefix("/") ? String(path.dropFirst()) : path)
    }

    /// The absolute URL in an upload response's `Location` (registries may send a relative one).
    private func uploadLocation(_ response: HTTPResponse, what: String, repository: String) throws(OCIError) -> URL {
        guard let location = response.header("location"), let url = URL(string: location, relativeTo: baseURL)?.absoluteURL else {
            throw OCIError(.registry, "\(what): upload response has no Location header", source: "\(registry)/\(repository)")
        }
        return url
    }

    /// `location` with `digest=<digest>` added to its query, keeping the registry's own
    /// parameters (`_state`) byte for byte.
    private func withDigest(_ location: URL, _ digest: Digest) throws(OCIError) -> URL {
        var text = location.absoluteString
        text += (text.contains("?") ? "&" : "?") + "digest=\(digest.algorithm)%3A\(digest.hex)"
        guard let url = URL(string: text) else {
            throw OCIError(.registry, "cannot add the digest to upload location \(location.absoluteString)", source: registry)
        }
        return url
    }

    private func checkDigestHeader(_ response: HTTPResponse, expected: Digest, what: String, repository: String) throws(OCIError) {
        guard let header = response.header("docker-content-digest") else { return }
        guard let digest = try? OCIDigest.parse(header), digest == expected else {
            throw OCIError(.digestMismatch, "\(what): the registry stored it as \(header)", source: "\(registry)/\(repository)")
        }
    }

    /// The registry's complaint as an `OCIError`: status, then each `errors[]` entry as
    /// `CODE: message (detail)`.
    private func registryError(_ response: HTTPResponse, _ what: String, repository: String) -> OCIError {
        let summary = Self.errorSummary(response.body).map { ": \($0)" } ?? ""
        let kind: OCIError.Kind = response.status == 401 || response.status == 403 ? .unauthorized : .registry
        return OCIError(kind, "\(what): HTTP \(response.status)\(summary)", source: "\(registry)/\(repository)",
                        status: response.status)
    }

    /// `CODE: message (detail); …` from a distribution error body, or a short text body.
    static func errorSummary(_ body: [UInt8]) -> String? {
        guard !body.isEmpty else { return nil }
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
           let errors = object["errors"] as? [[String: Any]], !errors.isEmpty {
            return errors.map { error in
                var text = (error["code"] as? String) ?? "UNKNOWN"
                if let message = error["message"] as? String, !message.isEmpty { text += ": \(message)" }
                if let detail = error["detail"], !(detail is NSNull),
                   let data = try? JSONSerialization.data(withJSONObject: detail, options: [.sortedKeys, .fragmentsAllowed]) {
                    text += " (\(String(decoding: data, as: UTF8.self)))"
                }
                return text
            }.joined(separator: "; ")
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }

    /// `application/json; charset=utf-8` → `application/json`.
    private static func mediaTypeOnly(_ contentType: String) -> String {
        String(contentType.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
    }

    /// The `rel="next"` target of a `Link` header, resolved against the registry.
    private func nextPage(_ link: String) -> URL? {
        guard link.contains("rel=\"next\""), let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">"),
              open < close else { return nil }
        return URL(string: String(link[link.index(after: open)..<close]), relativeTo: baseURL)?.absoluteURL
    }
}
