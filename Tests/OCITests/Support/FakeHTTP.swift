import Foundation
import HTTPTransport
import OCI

/// An ``HTTPClient`` that answers from a closure and records every request: a stand-in for a
/// registry and its token server in tests that need behaviour a real registry will not show
/// (bearer tokens, 401 forever, dropped connections).
final class ScriptedHTTPClient: HTTPClient, @unchecked Sendable {
    // @unchecked: `requests` is only touched under `lock`.
    private let lock = NSLock()
    private var recorded: [HTTPRequest] = []
    private let handler: @Sendable (HTTPRequest) throws -> HTTPResponse

    init(_ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        self.handler = handler
    }

    func send(_ request: HTTPRequest, maximumResponseSize: Int) async throws -> HTTPResponse {
        lock.withLock { recorded.append(request) }
        let response = try handler(request)
        if response.body.count > maximumResponseSize {
            throw HTTPTransportError(.tooLarge, "\(request.method) \(request.url): response body over \(maximumResponseSize) bytes")
        }
        return response
    }

    var requests: [HTTPRequest] { lock.withLock { recorded } }
}

/// Wraps another client, counting requests by method, and optionally rewriting them on the way
/// (to cut an upload short, or to pretend a blob exists).
final class CountingHTTPClient: HTTPClient, @unchecked Sendable {
    // @unchecked: the log is only touched under `lock`.
    private let lock = NSLock()
    private var log: [(method: String, path: String, status: Int)] = []
    private let inner: any HTTPClient
    private let intercept: @Sendable (HTTPRequest) -> HTTPResponse?
    private let rewrite: @Sendable (HTTPRequest) -> HTTPRequest

    init(_ inner: any HTTPClient, intercept: @escaping @Sendable (HTTPRequest) -> HTTPResponse? = { _ in nil },
         rewrite: @escaping @Sendable (HTTPRequest) -> HTTPRequest = { $0 }) {
        self.inner = inner
        self.intercept = intercept
        self.rewrite = rewrite
    }

    func send(_ request: HTTPRequest, maximumResponseSize: Int) async throws -> HTTPResponse {
        if let answer = intercept(request) {
            lock.withLock { log.append((request.method, request.url.path, answer.status)) }
            return answer
        }
        let response = try await inner.send(rewrite(request), maximumResponseSize: maximumResponseSize)
        lock.withLock { log.append((request.method, request.url.path, response.status)) }
        return response
    }

    /// How many requests used `method` (and, when given, a path containing `pathPart`).
    func count(_ method: String, pathContaining pathPart: String = "") -> Int {
        lock.withLock { log.filter { $0.method == method && (pathPart.isEmpty || $0.path.contains(pathPart)) }.count }
    }

    /// Blob uploads: POSTs that open an upload session plus the PATCHes and PUTs that send bytes.
    var blobUploadRequests: Int {
        count("POST", pathContaining: "/blobs/uploads") + count("PATCH", pathContaining: "/blobs/uploads")
            + count("PUT", pathContaining: "/blobs/uploads")
    }

    /// Every PUT, POST and PATCH.
    var writes: Int { count("PUT") + count("POST") + count("PATCH") }
}

extension HTTPResponse {
    /// A distribution error body.
    static func registryError(_ status: Int, code: String, message: String, detail: String? = nil) -> HTTPResponse {
        let detailJSON = detail.map { ",\"detail\":\"\($0)\"" } ?? ""
        return HTTPResponse(status: status, headers: ["Content-Type": "application/json"],
                            body: Array("{\"errors\":[{\"code\":\"\(code)\",\"message\":\"\(message)\"\(detailJSON)}]}".utf8))
    }
}
