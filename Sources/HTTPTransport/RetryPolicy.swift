/// How often and how patiently a request that failed to connect, was cut off, or got a 5xx or
/// 429 answer is tried again.
public struct RetryPolicy: Sendable, Hashable {
    /// Total tries, the first included.
    public var attempts: Int
    /// The wait before the second try; it doubles for each further try.
    public var initialDelay: Duration
    /// The longest wait between tries.
    public var maximumDelay: Duration

    /// A policy; `attempts` is at least 1.
    public init(attempts: Int, initialDelay: Duration, maximumDelay: Duration = .seconds(10)) {
        self.attempts = max(1, attempts)
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
    }

    /// Four tries, waiting 0.5 s, 1 s and 2 s between them.
    public static let standard = RetryPolicy(attempts: 4, initialDelay: .milliseconds(500))

    /// The wait after failed try number `attempt` (1-based).
    public func delay(after attempt: Int) -> Duration {
        var delay = initialDelay
        for _ in 1..<max(1, attempt) { delay = min(delay * 2, maximumDelay) }
        return min(delay, maximumDelay)
    }

    /// Whether a response's status is worth another try (5xx, 429 Too Many Requests).
    public static func isRetryable(status: Int) -> Bool {
        status >= 500 || status == 429
    }

    /// Runs `operation` until it returns a response whose status is not retryable, throws an
    /// error other than ``HTTPTransportError/Kind/transport``, or the tries run out (then the
    /// last response is returned or the last error thrown). `operation` gets the try number.
    public func run(_ operation: (Int) async throws -> HTTPResponse) async throws -> HTTPResponse {
        var attempt = 1
        while true {
            do {
                let response = try await operation(attempt)
                if !Self.isRetryable(status: response.status) || attempt >= attempts { return response }
            } catch let error as HTTPTransportError where error.kind == .transport && attempt < attempts {
                // Retried below.
            }
            try await Task.sleep(for: delay(after: attempt))
            attempt += 1
        }
    }
}
