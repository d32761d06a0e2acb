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

/// One HTTP response, its body read into memory (bounded by the request's limit).
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields with lowercased names; repeated fields joined with ", ".
    public var headers: [String: String]
    /// The body.
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
}

/// The transport the registry client talks through. ``URLSessionHTTPClient`` is the real one;
/// tests plug in fakes (a token server, a registry that answers 401 forever) or wrappers that
/// count requests.
///
/// Contract: redirects are followed; a connection failure (refused, reset, timeout, a body cut
/// off) throws an ``OCIError`` of kind ``OCIError/Kind/transport`` (the registry client retries
/// those); a response body longer than `maximumResponseSize` throws ``OCIError/Kind/tooLarge``
/// without reading the rest. Any status code is a response, not an error.
public protocol HTTPClient: Sendable {
    /// Sends `request` and returns the response.
    func send(_ request: HTTPRequest, maximumResponseSize: Int) async throws -> HTTPResponse
}
