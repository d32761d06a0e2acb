/// One thing a long-running step reports: an item of an activity started, advanced, is about to be
/// committed, or finished, with how many bytes of it are done out of how many.
///
/// Every event has one plain-text form, one line that `distill` prints on standard error when it
/// is not a terminal (and that tests and scripts parse):
///
/// ```
/// progress: <activity> <item> <completed>/<total> <state>
/// ```
///
/// - `activity`: `fetch` (downloading and verifying packages), `layer` (writing a layer's tar and
///   compressing it), `write` (writing the output: OCI layout, docker archive or minirootfs
///   tarball) or `push` (uploading to a registry).
/// - `item`: what the activity works on, with no spaces: `fetch` items are `<arch>/<name>-<version>`
///   (or a remote index's URL),
///   `layer` items `<arch>/<n>` (1-based), `write` items the output path, `push` items the
///   image reference; a `plan` names the group (`x86_64`). Bytes below 0x21, 0x7F and `%` are
///   written as `%XX`.
/// - `completed`, `total`: bytes (decimal); `total` is `?` when unknown. A `layer` total is an
///   estimate (the installed size of its files), so `completed` may pass it; `done` gives the
///   real size for both.
/// - `state`: `plan` (the group's expected total bytes, before its items start), `start`, `run`
///   (advanced), `commit` (every byte is written; the output is renamed into place next) or
///   `done`.
///
/// Example: `progress: fetch x86_64/busybox-1.36.1-r7 0/512734 start`.
public struct ProgressEvent: Sendable, Hashable, CustomStringConvertible {
    /// What kind of work an event is about.
    public enum Activity: String, Sendable, Hashable, CaseIterable {
        /// Downloading (or reading) and verifying packages.
        case fetch
        /// Writing one layer's tar through the compressor.
        case layer
        /// Writing the build's output (layout directory, docker archive, minirootfs tarball).
        case write
        /// Uploading blobs and manifests to a registry.
        case push
    }

    /// Where in its life the item is.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// The total a group of items is expected to reach; `completed` is 0.
        case plan
        /// The item began.
        case start
        /// The item advanced to `completed`.
        case run
        /// Every byte is written; the output is about to be made visible (renamed into place).
        case commit
        /// The item is complete; `completed` is its final size.
        case done
    }

    /// The activity.
    public var activity: Activity
    /// The item within the activity (free text; encoded when printed).
    public var item: String
    /// Bytes done so far.
    public var completed: Int64
    /// Bytes expected in all, when known.
    public var total: Int64?
    /// Where the item is.
    public var state: State

    /// An event for `item` of `activity`.
    public init(_ activity: Activity, _ item: String, completed: Int64, total: Int64?, state: State) {
        self.activity = activity
        self.item = item
        self.completed = completed
        self.total = total
        self.state = state
    }

    /// The plain line, without a line feed: `progress: fetch x86_64/zlib-1.3-r0 0/12345 start`.
    public var line: String {
        "progress: \(activity.rawValue) \(Self.encode(item)) \(completed)/\(total.map(String.init) ?? "?") \(state.rawValue)"
    }

    /// ``line``.
    public var description: String { line }

    /// Reads a line written by ``line`` (without its line feed); nil when it is not one.
    public init?(line: String) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0] == "progress:",
              let activity = Activity(rawValue: String(fields[1])),
              let item = Self.decode(fields[2]), !item.isEmpty,
              let state = State(rawValue: String(fields[4])) else { return nil }
        let amounts = fields[3].split(separator: "/", omittingEmptySubsequences: false)
        guard amounts.count == 2, let completed = Int64(amounts[0]), completed >= 0 else { return nil }
        let total: Int64?
        if amounts[1] == "?" {
            total = nil
        } else {
            guard let value = Int64(amounts[1]), value >= 0 else { return nil }
            total = value
        }
        self.init(activity, item, completed: completed, total: total, state: state)
    }

    /// Percent-encodes the bytes that would break the one-line, space-separated form.
    static func encode(_ item: String) -> String {
        guard item.utf8.contains(where: needsEscape) else { return item }
        var bytes: [UInt8] = []
        for byte in item.utf8 {
            if needsEscape(byte) {
                bytes += Array("%".utf8) + hexDigits(byte)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            } else if needsEscape(byte) {
                return nil
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "%")
    }

    private static func hexDigits(_ byte: UInt8) -> [UInt8] {
        let digits = Array("0123456789ABCDEF".utf8)
        return [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
