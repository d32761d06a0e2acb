import Foundation

/// The body of an HTTP request.
public enum HTTPRequestBody: Sendable, Hashable {
    /// No body.
    case none
    /// Bytes in memory (manifests, upload chunks, token requests).
    case bytes([UInt8])
    /// A whole file, streamed by the transport (monolithic layer uploads).
    case file(String, size: Int64)

    /// The number of bytes the body holds.
    public var count: Int64 {
        switch self {
        case .none: 0
        case .bytes(let bytes): Int64(bytes.count)
        case .file(_, let size): size
        }
    }
}

/// One HTTP request.
public struct HTTPRequest: Sendable {
    /// `GET`, `HEAD`, `POST`, `PUT`, `PATCH`, `DELETE`.
    public var method: String
    /// The absolute URL.
    public var url: URL
    /// Header fields; names are case-insensitive on the wire, set them once each.
    public var headers: [String: String]
    /// The body.
    public var body: HTTPRequestBody

    /// A request; `headers` and `body` default to none.
    public init(method: String, url: URL, headers: [String: String] = [:], body: HTTPRequestBody = .none) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// One HTTP response, its body read into memory (bounded by the request's limit) — or, for a
/// download, written to a file and left empty here.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields with lowercased names; repeated fields joined with ", ".
    public var headers: [String: String]
    /// The body (empty for a successful download, whose body is in the file).
    public var body: [UInt8]

    /// A response; header names are lowercased here.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { "\($0), \($1)" })
        self.body = body
    }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// The transport every module that talks to servers goes through. ``URLSessionHTTPClient`` is
/// the real one; tests plug in fakes or wrappers.
///
/// Contract: redirects are followed; a connection failure (refused, reset, timeout, a body cut
/// off) throws ``HTTPTransportError`` of kind ``HTTPTransportError/Kind/transport`` (worth
/// retrying, see ``RetryPolicy``); a response body longer than the caller's cap throws
/// ``HTTPTransportError/Kind/tooLarge`` without reading the rest. Any status code is a response,
/// not an error.
public protocol HTTPClient: Sendable {
    /// Sends `request` and returns the response with its body in memory.
    func send(_ request: HTTPRequest, maximumResponseSize: Int) async throws -> HTTPResponse

    /// Sends `request` and streams a 2xx response's body into a new file at `path` (created or
    /// truncated), never holding it in memory. A body that ends before its `Content-Length`
    /// throws `.transport`; one longer than its `Content-Length` or than `maximumSize` throws
    /// `.tooLarge`. Other statuses come back with their (small) body in memory and `path`
    /// untouched.
    func download(_ request: HTTPRequest, to path: String, maximumSize: Int64) async throws -> HTTPResponse
}

extension HTTPClient {
    /// A download through ``send(_:maximumResponseSize:)``, for clients (fakes) that hold bodies
    /// in memory anyway; the same length checks apply.
    public func download(_ request: HTTPRequest, to path: String, maximumSize: Int64) async throws -> HTTPResponse {
        var response = try await send(request, maximumResponseSize: Int(clamping: maximumSize))
        guard response.isSuccess else { return response }
        try BodyLength.check(received: Int64(response.body.count), declared: response.header("content-length"),
                             description: "\(request.method) \(request.url.absoluteString)")
        do {
            try Data(response.body).write(to: URL(fileURLWithPath: path))
        } catch {
            throw HTTPTransportError(.io, "cannot write \(path): \(error.localizedDescription)")
        }
        response.body = []
        return response
    }
}

/// The length rules for a received body.
enum BodyLength {
    /// Throws unless `received` equals the declared `Content-Length` (when there is one).
    static func check(received: Int64, declared: String?, description: String) throws(HTTPTransportError) {
        guard let declared, let expected = Int64(declared.trimmingCharacters(in: .whitespaces)) else { return }
        if received < expected {
            throw HTTPTransportError(.transport, "\(description): the body ended after \(received) of its \(expected) bytes")
        }
        if received > expected {
            throw HTTPTransportError(.tooLarge, "\(description): the body is longer than its Content-Length of \(expected) bytes")
        }
    }
}
