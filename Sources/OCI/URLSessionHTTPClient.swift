import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// ``HTTPClient`` over Foundation's URLSession (libcurl on Linux, through FoundationNetworking).
///
/// Bodies are collected by a session delegate rather than `data(for:)` so that a response larger
/// than the caller's limit is cancelled as soon as it crosses the limit instead of being buffered
/// whole. File bodies are streamed by URLSession from disk. No cookies, no cache, no credential
/// storage: every request carries exactly the headers the registry client sets.
public final class URLSessionHTTPClient: HTTPClient {
    private let session: URLSession
    private let delegate: SessionDelegate

    /// A client whose requests time out after `timeout` seconds without progress.
    public init(timeout: TimeInterval = 120) {
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
        let description = "\(request.method) \(request.url.absoluteString)"
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                delegate.register(task, limit: maximumResponseSize, description: description, continuation: continuation)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }
}

/// Collects each task's body up to its limit and resumes its continuation when the task ends.
///
/// `@unchecked Sendable`: URLSession calls the delegate on its own serial delegate queue while
/// `register` runs on the caller's thread, so the per-task table is guarded by a lock.
private final class SessionDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private final class TaskState {
        let limit: Int
        let description: String
        let continuation: CheckedContinuation<HTTPResponse, any Error>
        var body: [UInt8] = []
        var exceeded = false
        /// The server asked for Basic or Digest authentication and the task was stopped (see
        /// the challenge handler).
        var challenged = false

        init(limit: Int, description: String, continuation: CheckedContinuation<HTTPResponse, any Error>) {
            self.limit = limit
            self.description = description
            self.continuation = continuation
        }
    }

    private let lock = NSLock()
    private var states: [Int: TaskState] = [:]

    func register(_ task: URLSessionTask, limit: Int, description: String,
                  continuation: CheckedContinuation<HTTPResponse, any Error>) {
        lock.withLock {
            states[task.taskIdentifier] = TaskState(limit: limit, description: description, continuation: continuation)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let overLimit: Bool = lock.withLock {
            guard let state = states[dataTask.taskIdentifier], !state.exceeded else { return false }
            if state.body.count + data.count > state.limit {
                state.exceeded = true
                state.body = []
                return true
            }
            state.body.append(contentsOf: data)
            return false
        }
        if overLimit { dataTask.cancel() }
    }

    /// FoundationNetworking turns a 401 with a `Basic` or `Digest` challenge into an authentication
    /// challenge, and its default handling never completes the task (seen with swift-corelibs-
    /// foundation in Swift 6.3 against docker-registry). The registry client answers challenges
    /// itself, so the task is stopped here and its 401 response is handed back (without a body).
    func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                    completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
        #if !canImport(FoundationNetworking)
        // On Darwin, TLS server trust is a challenge too; the system's evaluation stays in charge.
        guard challenge.protectionSpace.authenticationMethod != NSURLAuthenticationMethodServerTrust else {
            completionHandler(.performDefaultHandling, nil)
            return
        }
        #endif
        lock.withLock { states[task.taskIdentifier]?.challenged = true }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let state = lock.withLock({ states.removeValue(forKey: task.taskIdentifier) }) else { return }
        if state.challenged, let response = task.response as? HTTPURLResponse, response.statusCode == 401 {
            state.continuation.resume(returning: HTTPResponse(status: 401, headers: Self.headers(of: response)))
            return
        }
        if state.exceeded {
            state.continuation.resume(throwing: OCIError(
                .tooLarge, "\(state.description): response body is longer than the \(state.limit)-byte limit"))
            return
        }
        if let error {
            let reason = (error as? URLError).map { "\($0.localizedDescription) (URLError \($0.code.rawValue))" } ?? "\(error)"
            state.continuation.resume(throwing: OCIError(.transport, "\(state.description): \(reason)"))
            return
        }
        guard let response = task.response as? HTTPURLResponse else {
            state.continuation.resume(throwing: OCIError(.transport, "\(state.description): no HTTP response"))
            return
        }
        state.continuation.resume(returning: HTTPResponse(status: response.statusCode, headers: Self.headers(of: response),
                                                          body: state.body))
    }

    private static func headers(of response: HTTPURLResponse) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            headers[String(describing: name)] = String(describing: value)
        }
        return headers
    }
}
