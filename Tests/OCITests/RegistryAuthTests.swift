import DistillCrypto
import Foundation
import HTTPTransport
import OCI
import TestSupport
import Testing

/// The registry client's authentication, retries and error reporting against scripted servers.
@Suite("Registry client with a scripted server")
struct RegistryAuthTests {
    static let noWait = RetryPolicy(attempts: 3, initialDelay: .zero)
    static let challenge = #"Bearer realm="https://auth.test/token",service="registry.test",scope="repository:team/app:pull,push""#

    /// A small image whose blobs live in memory.
    static func smallImage() throws -> Image {
        let layer = Blob(mediaType: MediaType.layerGzip, bytes: Array("layer bytes".utf8))
        let config = Blob(mediaType: MediaType.imageConfig, bytes: Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8))
        let manifest = try JSONDocument(encoding: ImageManifest(config: config.descriptor, layers: [layer.descriptor]),
                                        mediaType: MediaType.imageManifest)
        return try Image(manifest: manifest, blobs: [layer, config])
    }

    /// A registry that accepts everything once authorized with `Bearer good-token`.
    static func registryAnswer(_ request: HTTPRequest) -> HTTPResponse {
        let path = request.url.path
        switch request.method {
        case "HEAD": return HTTPResponse(status: 404)
        case "POST": return HTTPResponse(status: 202, headers: ["Location": "/v2/team/app/blobs/uploads/u1?_state=abc%3D"])
        case "PUT" where path.contains("/blobs/uploads/"):
            let digest = request.url.query?.components(separatedBy: "digest=").last?.replacingOccurrences(of: "%3A", with: ":") ?? ""
            return HTTPResponse(status: 201, headers: ["Docker-Content-Digest": digest])
        case "PUT":
            guard case .bytes(let bytes) = request.body else { return HTTPResponse(status: 400) }
            return HTTPResponse(status: 201, headers: ["Docker-Content-Digest": DigestAlgorithm.sha256.hash(bytes).description])
        default: return HTTPResponse(status: 405)
        }
    }

    @Test("bearer challenge: one token per scope, fetched with the credentials, service and scope")
    func bearerFlow() async throws {
        let http = ScriptedHTTPClient { request in
            if request.url.host == "auth.test" {
                guard request.headers["Authorization"] == "Basic " + Data("user:secret".utf8).base64EncodedString() else {
                    return HTTPResponse(status: 401)
                }
                return HTTPResponse(status: 200, body: Array(#"{"token":"good-token","expires_in":300}"#.utf8))
            }
            guard request.headers["Authorization"] == "Bearer good-token" else {
                return HTTPResponse(status: 401, headers: ["WWW-Authenticate": Self.challenge])
            }
            return Self.registryAnswer(request)
        }
        let client = try RegistryClient(registry: "registry.test", http: http,
                                        credentials: RegistryCredentials(username: "user", password: "secret"),
                                        insecure: false, retry: Self.noWait)
        let image = try Self.smallImage()
        let report = try await ImagePublisher.publish(image, to: RegistryDestination(client: client, repository: "team/app"), tags: ["v1"])
        #expect(report.blobsWritten.count == 2)
        #expect(report.tagsSet == ["v1"])

        let requests = http.requests
        let tokenRequests = requests.filter { $0.url.host == "auth.test" }
        // Pull-scoped HEADs and push-scoped writes need one token each, fetched once.
        #expect(tokenRequests.count == 2)
        let query = tokenRequests.map { URLComponents(url: $0.url, resolvingAgainstBaseURL: false)?.queryItems ?? [] }
        #expect(query.allSatisfy { $0.contains(URLQueryItem(name: "service", value: "registry.test")) })
        #expect(query.allSatisfy { $0.contains(URLQueryItem(name: "scope", value: "repository:team/app:pull,push")) })
        let registryRequests = requests.filter { $0.url.host == "registry.test" }
        #expect(registryRequests.allSatisfy { $0.url.scheme == "https" })
        #expect(registryRequests.filter { $0.headers["Authorization"] == nil }.count == 2)
        let upload = try #require(registryRequests.first { $0.method == "PUT" && $0.url.path.contains("/uploads/") })
        #expect(upload.url.absoluteString.hasPrefix("https://registry.test/v2/team/app/blobs/uploads/u1?_state=abc%3D&digest=sha256%3A"))
        #expect(upload.headers["Content-Type"] == "application/octet-stream")
        let manifestPuts = registryRequests.filter { $0.method == "PUT" && $0.url.path.contains("/manifests/") }
        #expect(manifestPuts.map(\.url.lastPathComponent) == [image.manifest.descriptor.digest.description, "v1"])
        #expect(manifestPuts.allSatisfy { $0.headers["Content-Type"] == MediaType.imageManifest })
        let heads = registryRequests.filter { $0.method == "HEAD" && $0.url.path.contains("/manifests/") }
        #expect(heads.allSatisfy { $0.headers["Accept"]?.contains(MediaType.imageIndex) == true })
    }

    @Test("a registry that answers 401 forever fails after the challenge was answered once")
    func unauthorizedForever() async throws {
        let http = ScriptedHTTPClient { request in
            if request.url.host == "auth.test" {
                return HTTPResponse(status: 200, body: Array(#"{"access_token":"useless"}"#.utf8))
            }
            return .registryError(401, code: "UNAUTHORIZED", message: "authentication required")
                .with(header: "WWW-Authenticate", Self.challenge)
        }
        let client = try RegistryClient(registry: "registry.test", http: http, credentials: nil, insecure: false, retry: Self.noWait)
        let error = await thrownOCIError {
            _ = try await ImagePublisher.publish(try Self.smallImage(), to: RegistryDestination(client: client, repository: "team/app"), tags: ["v1"])
        }
        #expect(error?.kind == .unauthorized)
        #expect(error?.description == "registry.test: HEAD /v2/team/app/blobs/\(try Self.smallImage().blobs[0].descriptor.digest) still answered 401 Unauthorized after authenticating: UNAUTHORIZED: authentication required (the registry needs credentials: docker login, or --registry-username/--registry-password)")
        #expect(http.requests.count == 3)  // request, token, request again: no loop
        #expect(!http.requests.contains { $0.method == "PUT" })
    }

    struct BasicCase: Sendable, CustomStringConvertible {
        let name: String
        let credentials: RegistryCredentials?
        let complaint: String
        var description: String { name }
    }

    @Test("basic challenges: no credentials, or wrong ones, end in one clear error", arguments: [
        BasicCase(name: "none", credentials: nil, complaint: "needs credentials (Basic authentication)"),
        BasicCase(name: "wrong", credentials: RegistryCredentials(username: "u", password: "wrong"),
                  complaint: "still answered 401 Unauthorized after authenticating as u"),
    ])
    func basicRefused(_ row: BasicCase) async throws {
        let http = ScriptedHTTPClient { _ in HTTPResponse(status: 401, headers: ["WWW-Authenticate": #"Basic realm="Registry Realm""#]) }
        let client = try RegistryClient(registry: "registry.test", http: http, credentials: row.credentials, insecure: false,
                                        retry: Self.noWait)
        let error = await thrownOCIError { _ = try await client.tags(repository: "team/app") }
        #expect(error?.kind == .unauthorized)
        #expect(error?.message.contains(row.complaint) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.contains("wrong") == false)  // the password never shows
    }

    @Test("a token server that refuses the credentials is reported as such")
    func tokenServerRefuses() async throws {
        let http = ScriptedHTTPClient { request in
            if request.url.host == "auth.test" { return .registryError(401, code: "UNAUTHORIZED", message: "bad password") }
            return HTTPResponse(status: 401, headers: ["WWW-Authenticate": Self.challenge])
        }
        let client = try RegistryClient(registry: "registry.test", http: http,
                                        credentials: RegistryCredentials(username: "u", password: "p"), insecure: false, retry: Self.noWait)
        let error = await thrownOCIError { _ = try await client.tags(repository: "team/app") }
        #expect(error?.kind == .unauthorized)
        #expect(error?.message == "token server auth.test answered HTTP 401 for scope repository:team/app:pull,push: UNAUTHORIZED: bad password")
    }

    @Test("credentials are not sent to a plain-HTTP token realm of a TLS registry")
    func plainHTTPRealm() async throws {
        let http = ScriptedHTTPClient { request in
            if request.url.host == "auth.test" { return HTTPResponse(status: 200, body: Array(#"{"token":"t"}"#.utf8)) }
            return HTTPResponse(status: 401, headers: ["WWW-Authenticate": #"Bearer realm="http://auth.test/token",service="s""#])
        }
        let client = try RegistryClient(registry: "registry.test", http: http,
                                        credentials: RegistryCredentials(username: "u", password: "p"), insecure: false, retry: Self.noWait)
        let error = await thrownOCIError { _ = try await client.tags(repository: "team/app") }
        #expect(error?.kind == .unauthorized)
        #expect(!http.requests.contains { $0.url.host == "auth.test" })
    }

    @Test("connection failures and 5xx are retried; a cut-off upload starts over, and no tag is set when it never succeeds")
    func retries() async throws {
        final class Counter: @unchecked Sendable {
            // @unchecked: only touched under `lock`.
            let lock = NSLock()
            var value = 0
            func next() -> Int { lock.withLock { value += 1; return value } }
        }
        let heads = Counter()
        let posts = Counter()
        let flaky = ScriptedHTTPClient { request in
            if request.method == "HEAD", heads.next() <= 2 {
                throw HTTPTransportError(.transport, "\(request.method) \(request.url): connection reset by peer")
            }
            if request.method == "POST", posts.next() <= 2 { return HTTPResponse(status: 503) }
            return Self.registryAnswer(request)
        }
        let client = try RegistryClient(registry: "registry.test", http: flaky, credentials: nil, insecure: false,
                                        retry: RetryPolicy(attempts: 4, initialDelay: .milliseconds(1)))
        let report = try await ImagePublisher.publish(try Self.smallImage(), to: RegistryDestination(client: client, repository: "team/app"),
                                                      tags: ["v1"])
        #expect(report.tagsSet == ["v1"])
        #expect(flaky.requests.filter { $0.method == "POST" }.count == 4)  // 2 × 503, then one per blob

        // Every PUT of blob bytes dies mid-stream: the upload is retried from a new session up to
        // the policy's limit, then the publish fails before any manifest or tag is sent.
        let cut = ScriptedHTTPClient { request in
            if request.method == "PUT", request.url.path.contains("/uploads/") {
                throw HTTPTransportError(.transport, "\(request.method) \(request.url): The network connection was lost.")
            }
            return Self.registryAnswer(request)
        }
        let cutClient = try RegistryClient(registry: "registry.test", http: cut, credentials: nil, insecure: false, retry: Self.noWait)
        let error = await thrownOCIError {
            _ = try await ImagePublisher.publish(try Self.smallImage(), to: RegistryDestination(client: cutClient, repository: "team/app"),
                                                 tags: ["v1"])
        }
        #expect(error?.kind == .transport)
        #expect(error?.description.contains("The network connection was lost.") == true)
        #expect(cut.requests.filter { $0.method == "POST" }.count == 3)
        #expect(!cut.requests.contains { $0.url.path.contains("/manifests/") && $0.method == "PUT" })
    }

    @Test("a rejected manifest reports the registry's code, message and detail; no tag follows")
    func rejectedManifest() async throws {
        let http = ScriptedHTTPClient { request in
            if request.method == "PUT", request.url.path.contains("/manifests/") {
                return .registryError(400, code: "MANIFEST_BLOB_UNKNOWN", message: "blob unknown to registry", detail: "sha256:1234")
            }
            return Self.registryAnswer(request)
        }
        let client = try RegistryClient(registry: "registry.test", http: http, credentials: nil, insecure: false, retry: Self.noWait)
        let image = try Self.smallImage()
        let error = await thrownOCIError {
            _ = try await ImagePublisher.publish(image, to: RegistryDestination(client: client, repository: "team/app"), tags: ["v1"])
        }
        #expect(error?.kind == .registry)
        #expect(error?.status == 400)
        #expect(error?.description == "registry.test/team/app: pushing manifest \(image.manifest.descriptor.digest): HTTP 400: MANIFEST_BLOB_UNKNOWN: blob unknown to registry (\"sha256:1234\")")
        #expect(http.requests.filter { $0.method == "PUT" && $0.url.lastPathComponent == "v1" }.isEmpty)
    }

    @Test("a response larger than its limit is refused")
    func boundedResponses() async throws {
        let http = ScriptedHTTPClient { _ in HTTPResponse(status: 200, body: Array(repeating: 0x20, count: (4 << 20) + 1)) }
        let client = try RegistryClient(registry: "registry.test", http: http, credentials: nil, insecure: false, retry: Self.noWait)
        let error = await thrownOCIError { _ = try await client.manifest(repository: "team/app", reference: "v1") }
        #expect(error?.kind == .tooLarge)
    }

    struct ChallengeCase: Sendable, CustomStringConvertible {
        let header: String
        let expected: [AuthChallenge]
        var description: String { header }
    }

    @Test("WWW-Authenticate headers parse into challenges", arguments: [
        ChallengeCase(header: #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push""#,
                      expected: [AuthChallenge(scheme: "Bearer", parameters: [
                          "realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                          "scope": "repository:library/alpine:pull,push"])]),
        ChallengeCase(header: #"Basic realm="Registry Realm""#, expected: [AuthChallenge(scheme: "basic", parameters: ["realm": "Registry Realm"])]),
        ChallengeCase(header: #"Basic realm="a", Bearer realm="https://t/x", service=svc"#, expected: [
            AuthChallenge(scheme: "basic", parameters: ["realm": "a"]),
            AuthChallenge(scheme: "bearer", parameters: ["realm": "https://t/x", "service": "svc"]),
        ]),
        ChallengeCase(header: #"bearer Realm="say \"hi\"""#, expected: [AuthChallenge(scheme: "bearer", parameters: ["realm": "say \"hi\""])]),
        ChallengeCase(header: "Negotiate", expected: [AuthChallenge(scheme: "negotiate", parameters: [:])]),
        ChallengeCase(header: "", expected: []),
    ])
    func challenges(_ row: ChallengeCase) {
        #expect(AuthChallenge.parse(row.header) == row.expected)
    }

    @Test("docker's config.json: base64 auth, username/password, Docker Hub aliases, and broken entries")
    func dockerConfig() throws {
        let text = """
            {"auths":{"https://index.docker.io/v1/":{"auth":"\(Data("hub:hubpass".utf8).base64EncodedString())"},
            "ghcr.io":{"username":"gh","password":"ghpass"},
            "http://localhost:5000/v2/":{"auth":"\(Data("local:pa:ss".utf8).base64EncodedString())"},
            "helper.example":{}},"credsStore":"desktop"}
            """
        let config = try DockerConfigFile(bytes: Array(text.utf8), source: "config.json")
        #expect(config.credentials(for: "docker.io") == RegistryCredentials(username: "hub", password: "hubpass"))
        #expect(config.credentials(for: "ghcr.io") == RegistryCredentials(username: "gh", password: "ghpass"))
        #expect(config.credentials(for: "localhost:5000") == RegistryCredentials(username: "local", password: "pa:ss"))
        #expect(config.credentials(for: "helper.example") == nil)
        #expect(config.credentials(for: "quay.io") == nil)
        #expect("\(config.credentials(for: "ghcr.io")!)" == "gh:***")

        let broken = #expect(throws: OCIError.self) {
            try DockerConfigFile(bytes: Array(#"{"auths":{"x.io":{"auth":"bm9jb2xvbg=="}}}"#.utf8), source: "config.json")
        }
        #expect(broken?.description == "config.json: auths[\"x.io\"].auth is not base64 of user:password")
        let scratch = try ScratchDirectory()
        #expect(try DockerConfigFile(path: scratch.path("missing.json")).credentials.isEmpty)
    }

    @Test("loopback and listed registries use plain HTTP; explicit credentials win")
    func access() throws {
        let config = try DockerConfigFile(bytes: Array(#"{"auths":{"ghcr.io":{"username":"a","password":"b"}}}"#.utf8), source: "c")
        var access = RegistryAccess(http: URLSessionHTTPClient(), insecureRegistries: ["registry.lan"], dockerConfig: config)
        #expect(access.isInsecure("localhost:5000"))
        #expect(access.isInsecure("127.0.0.1:41234"))
        #expect(access.isInsecure("[::1]:5000"))
        #expect(access.isInsecure("registry.lan:8080"))
        #expect(!access.isInsecure("ghcr.io"))
        #expect(try access.client(for: ImageReference(parsing: "127.0.0.1:5000/a")).baseURL.absoluteString == "http://127.0.0.1:5000")
        #expect(try access.client(for: ImageReference(parsing: "alpine")).baseURL.absoluteString == "https://registry-1.docker.io")
        #expect(access.credentials(for: "ghcr.io")?.username == "a")
        access.explicitCredentials = RegistryCredentials(username: "x", password: "y")
        #expect(access.credentials(for: "ghcr.io")?.username == "x")
    }
}

extension HTTPResponse {
    func with(header name: String, _ value: String) -> HTTPResponse {
        var headers = self.headers
        headers[name.lowercased()] = value
        return HTTPResponse(status: status, headers: headers, body: body)
    }
}
