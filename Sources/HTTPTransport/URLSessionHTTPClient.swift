import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// ``HTTPClient`` over Foundation's URLSession (libcurl on Linux, through FoundationNetworking).
///
/// Bodies are collected by a session delegate rather than `data(for:)` so that a response larger
/// than the caller's limit is cancelled as soon as it crosses the limit instead of being buffered
/// whole, and so that a download streams to its file. File request bodies are streamed by
/// URLSession from disk. No cookies, no cache, no credential storage: every request carries
/// exactly the headers its caller sets (plus `Accept-Encoding: identity` on downloads, so a
/// server's content coding can never alter the bytes being hashed).
public final class URLSessionHTTPClient: HTTPClient {
    private let session: URLSession
    private let delegate: SessionDelegate

    /// How long a request may go without progress, by default.
    public static let defaultTimeout: TimeInterval = 120

    /// A client whose requests time out after `timeout` seconds without progress.
    public init(timeout: TimeInterval = defaultTimeout) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCredentialStorage = nil
        delegate = SessionDelegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    deinit {
        // The session holds its delegate strongly until it is invalidated.
        session.invalidateAndCancel()
    }

    /// Sends `request`; see ``HTTPClient`` for the contract.
    public func send(_ request: HTTPRequest, maximumResponseSize: Int) async throws -> HTTPResponse {
        try await perform(request, limit: Int64(maximumResponseSize), downloadPath: nil)
    }

    /// Streams a 2xx body to `path`; see ``HTTPClient/download(_:to:maximumSize:)``.
    public func download(_ request: HTTPRequest, to path: String, maximumSize: Int64) async throws -> HTTPResponse {
        var request = request
        request.headers["Accept-Encoding"] = "identity"
        return try await perform(request, limit: maximumSize, downloadPath: path)
    }

    private func perform(_ request: HTTPRequest, limit: Int64, downloadPath: String?) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        for (name, value) in request.headers {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        var body = request.body
        // A POST or PUT without a body must still say `Content-Length: 0` (registries answer
        // 411 otherwise), which URLSession only sends for an upload task.
        if case .none = body, request.method != "GET", request.method != "HEAD" { body = .bytes([]) }
        let task: URLSessionTask
        switch body {
        case .none:
            task = session.dataTask(with: urlRequest)
        case .bytes(let bytes):
            urlRequest.setValue(String(bytes.count), forHTTPHeaderField: "Content-Length")
            task = session.uploadTask(with: urlRequest, from: Data(bytes))
        case .file(let path, let size):
            urlRequest.setValue(String(size), forHTTPHeaderField: "Content-Length")
            task = session.uploadTask(with: urlRequest, fromFile: URL(fileURLWithPath: path))
        }
        let description = "\(request.method) \(CredentialedURL(request.url.absoluteString))"
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                delegate.register(task, limit: limit, downloadPath: downloadPath, description: description,
                                  continuation: continuation)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }
}

/// Collects each task's body up to its limit (or streams it to its download file) and resumes
/// its continuation when the task ends.
///
/// `@unchecked Sendable`: URLSession calls the delegate on its own serial delegate queue while
/// `register` runs on the caller's thread, so the per-task table is guarded by a lock.
private final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// The most of an error response's body kept for a download (enough for any error page).
    static let errorBodyLimit: Int64 = 64 << 10

    private final class TaskState {
        let limit: Int64
        let downloadPath: String?
        let description: String
        let continuation: CheckedContinuation<HTTPResponse, any Error>
        var body: [UInt8] = []
        var file: FileHandle?
        var received: Int64 = 0
        var failure: HTTPTransportError?
        /// Redirects followed so far.
        var redirects = 0
        /// The 401 behind an authentication challenge that was cancelled.
        var challengeResponse: HTTPURLResponse?

        init(limit: Int64, downloadPath: String?, description: String, continuation: CheckedContinuation<HTTPResponse, any Error>) {
            self.limit = limit
            self.downloadPath = downloadPath
            self.description = description
            self.continuation = continuation
        }
    }

    private let lock = NSLock()
    private var states: [Int: TaskState] = [:]

    func register(_ task: URLSessionTask, limit: Int64, downloadPath: String?, description: String,
                  continuation: CheckedContinuation<HTTPResponse, any Error>) {
        lock.withLock {
            states[task.taskIdentifier] = TaskState(limit: limit, downloadPath: downloadPath, description: description,
                                                    continuation: continuation)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        let proceed: Bool = lock.withLock {
            guard let state = states[dataTask.taskIdentifier] else { return true }
            guard let path = state.downloadPath, let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode) else {
                return true
            }
            if http.expectedContentLength > state.limit {
                state.failure = HTTPTransportError(.tooLarge, "\(state.description): the body of \(http.expectedContentLength) bytes is over the \(state.limit)-byte limit")
                return false
            }
            // Opened in place, not with FileManager.createFile: that one writes a `.dat.nosync…`
            // temporary beside the file and renames it, which a kill at that moment leaves behind
            // under a name no cleanup knows.
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                state.failure = HTTPTransportError(.io, "\(state.description): cannot create \(path): \(String(cString: strerror(errno)))")
                return false
            }
            state.file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            return true
        }
        completionHandler(proceed ? .allow : .cancel)
    }

    /// Credentials are the caller's business (an `Authorization` header it sets): a 401 must come
    /// back as a response, not be answered by URLSession. swift-corelibs-foundation turns a 401
    /// with `WWW-Authenticate` into a challenge that can only be cancelled (answering without a
    /// credential crashes it, default handling waits forever), so the challenge is cancelled and
    /// its failure response returned as the answer.
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        #if !canImport(FoundationNetworking)
        if challenge.protectionSpace.authenticationMethod == NSURLAuthenticationMethodServerTrust {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        #endif
        lock.withLock {
            states[task.taskIdentifier]?.challengeResponse = challenge.failureResponse as? HTTPURLResponse
        }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    /// The most redirects one request follows (curl's and Go's default is 10 too).
    static let maximumRedirects = 10

    /// Redirects stay on HTTP: a server must not be able to send a request to `file://` (reading
    /// a local file as if it had been downloaded) or any other scheme, and a redirect loop ends
    /// after ``maximumRedirects`` instead of running until the timeout.
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        let refusal: Bool = lock.withLock {
            guard let state = states[task.taskIdentifier] else { return false }
            // swift-corelibs-foundation resolves a `Location: file:///…` against the current
            // server (it asks for the path there), so the header itself is what must be judged.
            let location = Self.header("Location", of: response)
            let target = location.map { CredentialedURL($0).description }
                ?? request.url.map { CredentialedURL($0.absoluteString).description } ?? "an invalid URL"
            let scheme = (location.flatMap(Self.scheme) ?? request.url?.scheme ?? "").lowercased()
            if scheme != "http" && scheme != "https" {
                state.failure = HTTPTransportError(.redirect, "\(state.description): refused a redirect to \(target) (only http and https are followed)")
                return true
            }
            state.redirects += 1
            if state.redirects > Self.maximumRedirects {
                state.failure = HTTPTransportError(.redirect, "\(state.description): more than \(Self.maximumRedirects) redirects (a redirect loop?), the last to \(target)")
                return true
            }
            return false
        }
        completionHandler(refusal ? nil : request)
        if refusal { task.cancel() }
    }

    /// A response header by name, in any case.
    static func header(_ name: String, of response: HTTPURLResponse) -> String? {
        for (key, value) in response.allHeaderFields where String(describing: key).lowercased() == name.lowercased() {
            return String(describing: value)
        }
        return nil
    }

    /// The scheme of an absolute URL reference (`file` in `file:///etc/passwd`); nil for a relative one.
    static func scheme(of reference: String) -> String? {
        // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
        guard let colon = reference.firstIndex(of: ":") else { return nil }
        let candidate = reference[..<colon].utf8
        func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
        guard let first = candidate.first, isLetter(first),
              candidate.allSatisfy({ isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "+")
                                     || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else { return nil }
        return String(reference[..<colon])
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let stop: Bool = lock.withLock {
            guard let state = states[dataTask.taskIdentifier], state.failure == nil else { return false }
            if state.file == nil && state.downloadPath != nil {
                // An error answer to a download: its first bytes are enough to say what went wrong.
                state.body.append(contentsOf: data.prefix(max(0, Int(Self.errorBodyLimit) - state.body.count)))
                return false
            }
            let limit = state.limit
            if state.received + Int64(data.count) > limit {
                state.failure = HTTPTransportError(.tooLarge, "\(state.description): the response body is longer than the \(limit)-byte limit")
                state.body = []
                return true
            }
            state.received += Int64(data.count)
            if let file = state.file {
                do {
                    try file.write(contentsOf: data)
                } catch {
                    state.failure = HTTPTransportError(.io, "\(state.description): cannot write \(state.downloadPath ?? ""): \(error.localizedDescription)")
                    return true
                }
            } else {
                state.body.append(contentsOf: data)
            }
            return false
        }
        if stop { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let state = lock.withLock({ states.removeValue(forKey: task.taskIdentifier) }) else { return }
        var closeFailure: (any Error)?
        if let file = state.file {
            do { try file.close() } catch { closeFailure = error }
        }
        if let failure = state.failure {
            state.continuation.resume(throwing: failure)
            return
        }
        if let challenged = state.challengeResponse {
            state.continuation.resume(returning: HTTPResponse(status: challenged.statusCode, headers: Self.headers(of: challenged)))
            return
        }
        if let error {
            let reason = (error as? URLError).map(Self.describe) ?? "\(error)"
            state.continuation.resume(throwing: HTTPTransportError(.transport, "\(state.description): \(reason)"))
            return
        }
        if let closeFailure {
            state.continuation.resume(throwing: HTTPTransportError(.io, "\(state.description): cannot write \(state.downloadPath ?? ""): \(closeFailure)"))
            return
        }
        guard let response = task.response as? HTTPURLResponse else {
            state.continuation.resume(throwing: HTTPTransportError(.transport, "\(state.description): no HTTP response"))
            return
        }
        let result = HTTPResponse(status: response.statusCode, headers: Self.headers(of: response), body: state.body)
        if state.file != nil {
            // A content coding changes what Content-Length counts; downloads ask for none.
            let coding = result.header("content-encoding")?.lowercased() ?? "identity"
            if coding == "identity" {
                do {
                    try BodyLength.check(received: state.received, declared: result.header("content-length"), description: state.description)
                } catch {
                    state.continuation.resume(throwing: error)
                    return
                }
            }
        }
        state.continuation.resume(returning: result)
    }

    /// Foundation's descriptions on Linux are "The operation could not be completed"; say what
    /// happened instead, keeping the code for searching.
    static func describe(_ error: URLError) -> String {
        let what: String
        switch error.code {
        case .timedOut: what = "no response in time (the request timed out)"
        case .cannotConnectToHost: what = "the connection was refused"
        case .cannotFindHost, .dnsLookupFailed: what = "the host name could not be resolved"
        case .networkConnectionLost: what = "the connection was lost"
        case .notConnectedToInternet: what = "there is no network"
        case .httpTooManyRedirects: what = "too many redirects"
        case .unsupportedURL: what = "the URL is not supported"
        case .badServerResponse: what = "the server's answer is not valid HTTP"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            what = "the TLS connection failed"
        default: what = error.localizedDescription
        }
        return "\(what) (URLError \(error.code.rawValue))"
    }

    private static func headers(of response: HTTPURLResponse) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            headers[String(describing: name)] = String(describing: value)
        }
        return headers
    }
}
