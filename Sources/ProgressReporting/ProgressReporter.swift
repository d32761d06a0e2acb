/// Where a step sends its ``ProgressEvent``s: a Sendable closure handed down by whoever renders
/// them (the command line), or ``none``. Passing a reporter instead of reaching for a global keeps
/// every library module testable and free of shared mutable state.
///
/// ```swift
/// progress.plan(.fetch, "x86_64", total: 10_485_760)
/// progress.start(.fetch, "x86_64/zlib-1.3-r0", total: 12_345)
/// progress.finish(.fetch, "x86_64/zlib-1.3-r0", bytes: 12_345)
/// ```
///
/// The receiver may be called from several threads at once and must not block for long.
public struct ProgressReporter: Sendable {
    private let receiver: (@Sendable (ProgressEvent) -> Void)?

    /// A reporter handing every event to `receiver`.
    public init(_ receiver: @escaping @Sendable (ProgressEvent) -> Void) {
        self.receiver = receiver
    }

    private init() {
        receiver = nil
    }

    /// Drops every event.
    public static let none = ProgressReporter()

    /// Whether events go anywhere (callers can skip work that only feeds progress).
    public var isEnabled: Bool { receiver != nil }

    /// Sends `event`.
    public func report(_ event: ProgressEvent) {
        receiver?(event)
    }

    /// A group (`item`) of `activity` is expected to reach `total` bytes.
    public func plan(_ activity: ProgressEvent.Activity, _ item: String, total: Int64?) {
        report(ProgressEvent(activity, item, completed: 0, total: total, state: .plan))
    }

    /// `item` began; `total` bytes are expected when known.
    public func start(_ activity: ProgressEvent.Activity, _ item: String, total: Int64?) {
        report(ProgressEvent(activity, item, completed: 0, total: total, state: .start))
    }

    /// `item` has `completed` bytes done.
    public func advance(_ activity: ProgressEvent.Activity, _ item: String, completed: Int64, total: Int64?) {
        report(ProgressEvent(activity, item, completed: completed, total: total, state: .run))
    }

    /// Every byte of `item` is written; it is renamed into place next.
    public func commit(_ activity: ProgressEvent.Activity, _ item: String, bytes: Int64) {
        report(ProgressEvent(activity, item, completed: bytes, total: bytes, state: .commit))
    }

    /// `item` is complete at `bytes`.
    public func finish(_ activity: ProgressEvent.Activity, _ item: String, bytes: Int64) {
        report(ProgressEvent(activity, item, completed: bytes, total: bytes, state: .done))
    }
}

/// Counts the bytes of one item as they stream past and reports a ``ProgressEvent/State/run``
/// event each time another `step` bytes are done, so a fast stream does not flood the receiver.
/// Used from one thread at a time (the writer of the stream).
public final class ByteProgress {
    /// The reporter events go to.
    public let reporter: ProgressReporter
    /// The activity.
    public let activity: ProgressEvent.Activity
    /// The item.
    public let item: String
    /// The expected total, when known.
    public let total: Int64?
    /// Bytes between two `run` events.
    public let step: Int64
    /// Bytes counted so far.
    public private(set) var completed: Int64 = 0
    private var nextReport: Int64

    /// Starts `item` (reports its `start` event).
    public init(_ reporter: ProgressReporter, _ activity: ProgressEvent.Activity, _ item: String, total: Int64?,
                step: Int64 = 1 << 20) {
        self.reporter = reporter
        self.activity = activity
        self.item = item
        self.total = total
        self.step = max(1, step)
        nextReport = self.step
        reporter.start(activity, item, total: total)
    }

    /// Counts `count` more bytes.
    public func add(_ count: Int) {
        completed += Int64(count)
        if completed >= nextReport {
            nextReport = (completed / step + 1) * step
            reporter.advance(activity, item, completed: completed, total: total)
        }
    }

    /// Reports the item `done` at `bytes` (by default, the bytes counted).
    public func finish(bytes: Int64? = nil) {
        reporter.finish(activity, item, bytes: bytes ?? completed)
    }
}
