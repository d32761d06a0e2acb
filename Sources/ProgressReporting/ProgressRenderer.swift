import Foundation

/// Turns ``ProgressEvent``s into text for a person or a log:
///
/// - ``Mode/terminal(width:)``: one line per activity, redrawn in place at most every
///   ``redrawInterval``: items done and running, bytes done of the expected total, rate and ETA,
///   and the item that moved last.
/// - ``Mode/plain``: each event's ``ProgressEvent/line`` on a line of its own, for logs and
///   scripts: every `plan`, `start`, `commit` and `done`, and a `run` only when the item printed
///   nothing for ``plainInterval`` (so slow items still show life without flooding a CI log).
/// - ``Mode/quiet``: nothing.
///
/// Other lines (warnings, log messages) go through ``log(_:)`` so they never tear a redrawn
/// block. Safe to call from any thread; text is handed to `write` under a lock, whole lines at a
/// time.
public final class ProgressRenderer: @unchecked Sendable {
    /// How events are shown.
    public enum Mode: Sendable, Hashable {
        /// Redrawn status lines (ANSI cursor movement), cut to `width` columns.
        case terminal(width: Int)
        /// One ``ProgressEvent/line`` per reported event.
        case plain
        /// No progress at all.
        case quiet
    }

    /// How events are shown.
    public let mode: Mode
    /// The least time between two redraws of the terminal block.
    public let redrawInterval: Duration
    /// The least time between two plain `run` lines of the same item.
    public let plainInterval: Duration

    private let now: @Sendable () -> Duration
    private let write: @Sendable (String) -> Void
    // Every field below is only touched with `lock` held.
    private let lock = NSLock()
    private var activities: [ActivityState] = []
    private var drawnLines = 0
    private var lastDraw: Duration?
    private var lastPlainLine: [String: Duration] = [:]

    /// A renderer in `mode` sending text to `write`. `now` is a monotonic clock (injected so tests
    /// control rates, ETAs and intervals).
    public init(mode: Mode, redrawInterval: Duration = .milliseconds(100), plainInterval: Duration = .seconds(10),
                now: @escaping @Sendable () -> Duration = ProgressRenderer.monotonicNow,
                write: @escaping @Sendable (String) -> Void) {
        self.mode = mode
        self.redrawInterval = redrawInterval
        self.plainInterval = plainInterval
        self.now = now
        self.write = write
    }

    /// Time since an arbitrary fixed point, from the monotonic clock.
    public static let monotonicNow: @Sendable () -> Duration = {
        let origin = ContinuousClock.now
        return { ContinuousClock.now - origin }
    }()

    /// A reporter that feeds this renderer (``none`` in quiet mode, so producers can skip work).
    public var reporter: ProgressReporter {
        mode == .quiet ? .none : ProgressReporter { [self] event in receive(event) }
    }

    /// Shows `event`.
    public func receive(_ event: ProgressEvent) {
        switch mode {
        case .quiet:
            return
        case .plain:
            let time = now()
            lock.withLock {
                let key = "\(event.activity.rawValue) \(event.item)"
                switch event.state {
                case .run:
                    if let last = lastPlainLine[key], time - last < plainInterval { return }
                    lastPlainLine[key] = time
                case .start:
                    lastPlainLine[key] = time
                case .done:
                    lastPlainLine[key] = nil
                case .plan, .commit:
                    break
                }
                write(event.line + "\n")
            }
        case .terminal(let width):
            let time = now()
            lock.withLock {
                let position: Int
                if let found = activities.firstIndex(where: { $0.activity == event.activity }) {
                    position = found
                } else {
                    activities.append(ActivityState(activity: event.activity, firstSeen: time))
                    position = activities.count - 1
                }
                let isNewLine = activities[position].apply(event, at: time)
                let settles = (event.state == .done || event.state == .commit) && activities[position].running == 0
                if isNewLine || settles || lastDraw.map({ time - $0 >= redrawInterval }) ?? true {
                    redraw(width: width, time: time)
                }
            }
        }
    }

    /// Writes `line` (without a line feed) above the progress block, which is redrawn below it.
    public func log(_ line: String) {
        lock.withLock {
            guard case .terminal(let width) = mode, drawnLines > 0 else {
                write(line + "\n")
                return
            }
            write(moveUp(drawnLines) + "\u{1B}[J" + line + "\n")
            drawnLines = 0
            redraw(width: width, time: now())
        }
    }

    /// Draws the final state of every activity (terminal mode); call once the work is over.
    public func finish() {
        lock.withLock {
            if case .terminal(let width) = mode, !activities.isEmpty { redraw(width: width, time: now()) }
        }
    }

    // MARK: Terminal block

    private func redraw(width: Int, time: Duration) {
        var text = moveUp(drawnLines)
        for state in activities {
            text += "\r\u{1B}[2K" + Self.clip(state.summary(at: time), width: width) + "\n"
        }
        drawnLines = activities.count
        lastDraw = time
        write(text)
    }

    private func moveUp(_ lines: Int) -> String {
        lines > 0 ? "\u{1B}[\(lines)F" : ""
    }

    /// Cuts `text` to fit in `width - 1` columns: a line that wraps would break the cursor
    /// arithmetic of the redraw.
    static func clip(_ text: String, width: Int) -> String {
        let limit = max(10, width - 1)
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }

    /// What one activity has done so far.
    struct ActivityState {
        struct Item {
            var completed: Int64
            var total: Int64?
            var done: Bool
        }

        let activity: ProgressEvent.Activity
        let firstSeen: Duration
        var lastEvent: Duration
        var planned: Int64 = 0
        var hasPlan = false
        var planIsPartial = false
        var items: [String: Item] = [:]
        var running = 0
        var finished = 0
        var lastItem = ""

        init(activity: ProgressEvent.Activity, firstSeen: Duration) {
            self.activity = activity
            self.firstSeen = firstSeen
            lastEvent = firstSeen
        }

        /// Records `event`; true when it is the activity's first (its line is new).
        mutating func apply(_ event: ProgressEvent, at time: Duration) -> Bool {
            let wasEmpty = items.isEmpty && !hasPlan
            lastEvent = time
            if event.state == .plan {
                hasPlan = true
                if let total = event.total { planned += total } else { planIsPartial = true }
                return wasEmpty
            }
            var item = items[event.item] ?? Item(completed: 0, total: event.total, done: false)
            if items[event.item] == nil { running += 1 }
            item.completed = max(item.completed, event.completed)
            if event.total != nil { item.total = event.total }
            if event.state == .done && !item.done {
                item.done = true
                item.total = event.completed
                item.completed = event.completed
                running -= 1
                finished += 1
            }
            items[event.item] = item
            lastItem = event.item
            return wasEmpty
        }

        var completed: Int64 { items.values.reduce(0) { $0 + $1.completed } }

        /// The expected bytes: the plans' total when every plan had one, else the items' totals
        /// when all are known.
        var total: Int64? {
            if hasPlan && !planIsPartial { return max(planned, completed) }
            var sum: Int64 = 0
            for item in items.values {
                guard let total = item.total else { return nil }
                sum += max(total, item.completed)
            }
            return sum
        }

        func summary(at time: Duration) -> String {
            // A finished activity keeps the rate it finished at.
            let elapsed = (running == 0 && !items.isEmpty ? lastEvent : time) - firstSeen
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let done = completed
            let rate = seconds > 0 ? Double(done) / seconds : 0
            let name = activity.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
            var parts = [name]
            if running == 0 && !items.isEmpty {
                parts.append("\(finished) done")
                parts.append("\(ByteCount.text(done)) in \(ByteCount.duration(seconds))")
                if rate > 0 { parts.append("\(ByteCount.text(Int64(rate)))/s") }
                return parts.joined(separator: "  ")
            }
            parts.append("\(finished) done, \(running) running")
            if let total {
                parts.append("\(ByteCount.text(done)) / \(ByteCount.text(total))")
            } else {
                parts.append(ByteCount.text(done))
            }
            if rate > 0 {
                parts.append("\(ByteCount.text(Int64(rate)))/s")
                if let total, total > done {
                    parts.append("ETA \(ByteCount.duration(Double(total - done) / rate))")
                }
            }
            if !lastItem.isEmpty { parts.append(lastItem) }
            return parts.joined(separator: "  ")
        }
    }
}

/// Human-readable sizes and durations for the terminal lines.
enum ByteCount {
    /// `512 B`, `1.5 KiB`, `3.4 MiB`, `1.2 GiB`.
    static func text(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// `<1s`, `42s`, `3m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let whole = Int(min(max(seconds, 0), 1e9).rounded())
        if whole == 0 { return "<1s" }
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + String(format: "%02ds", whole % 60) }
        return "\(whole / 3600)h" + String(format: "%02dm", whole / 60 % 60)
    }
}
