/// APK ("Gentoo-style") version strings and their ordering, exactly as apk-tools 2.14 compares them.
///
/// The grammar is `digit{.digit}...{letter}{_suffix{digits}}...{-rN}`, but apk-tools never rejects a
/// string while comparing: it walks both strings token by token and stops at the first difference,
/// so invalid strings still have a well-defined (if odd) order. ``APKVersion`` keeps the original
/// text and reproduces that walk; ``isValid`` answers what `apk version -c` answers.
public struct APKVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The version as written, e.g. `1.2.3_rc1-r0`.
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    public var description: String { text }

    /// Whether apk-tools would accept this string where a valid version is required
    /// (after a dependency operator, or in `apk version -c`).
    public var isValid: Bool {
        var text = text
        return text.withUTF8 { Self.isValid($0) }
    }

    /// Three-way comparison result with apk's semantics.
    public enum Order: Sendable, Equatable {
        case less, equal, greater
    }

    /// Compares two versions; with `fuzzy`, a version that is a token-prefix of the other is equal
    /// (the `~` operator: `~1.2` matches `1.2.3` and, symmetrically, `1.2.3` matches `1.2`).
    public static func compare(_ a: APKVersion, _ b: APKVersion, fuzzy: Bool = false) -> Order {
        // withUTF8 reads native strings in place: no array per comparison (the solver compares often).
        var textA = a.text, textB = b.text
        return textA.withUTF8 { bytesA in textB.withUTF8 { bytesB in compareBytes(bytesA, bytesB, fuzzy: fuzzy) } }
    }

    public static func < (lhs: APKVersion, rhs: APKVersion) -> Bool {
        compare(lhs, rhs) == .less
    }

    /// Equality is apk's equality (`1.0-r0` equals `1.0-r00`), not string equality.
    public static func == (lhs: APKVersion, rhs: APKVersion) -> Bool {
        compare(lhs, rhs) == .equal
    }

    /// Hashing must agree with apk's equality, so it hashes the token sequence, not the text.
    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { bytes in
            var scanner = Scanner(bytes)
            var kind = TokenKind.digit
            while kind != .end && kind != .invalid {
                let value = scanner.nextValue(&kind)
                hasher.combine(value)
            }
            hasher.combine(kind == .end)
        }
    }
}

// MARK: - The tokenizer (apk-tools src/version.c, reproduced from its documented behaviour)

/// Token kinds in the order apk-tools uses them; the order matters for the comparison.
enum TokenKind: Int, Comparable {
    case invalid = -1
    case digitOrZero = 0
    case digit = 1
    case letter = 2
    case suffix = 3
    case suffixNumber = 4
    case revisionNumber = 5
    case end = 6

    static func < (lhs: TokenKind, rhs: TokenKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

private let preReleaseSuffixes: [[UInt8]] = ["alpha", "beta", "pre", "rc"].map { Array($0.utf8) }
private let postReleaseSuffixes: [[UInt8]] = ["cvs", "svn", "git", "hg", "p"].map { Array($0.utf8) }

/// Walks a version string. `position` is where the next token's text begins. The bytes are
/// borrowed: a scanner lives only inside the closure that lends them.
struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private var remaining: Int { bytes.count - position }

    private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7A }

    /// Decides the kind of the token that follows the one just read, consuming its separator.
    private mutating func advanceKind(_ kind: inout TokenKind) {
        var next = TokenKind.invalid
        if remaining == 0 || bytes[position] == 0 {
            next = .end
        } else if (kind == .digit || kind == .digitOrZero) && isLower(bytes[position]) {
            next = .letter
        } else if kind == .letter && isDigit(bytes[position]) {
            next = .digit
        } else if kind == .suffix && isDigit(bytes[position]) {
            next = .suffixNumber
        } else {
            switch bytes[position] {
            case UInt8(ascii: "."):
                next = .digitOrZero
            case UInt8(ascii: "_"):
                next = .suffix
            case UInt8(ascii: "-"):
                if remaining > 1 && bytes[position + 1] == UInt8(ascii: "r") {
                    next = .revisionNumber
                    position += 1
                } else {
                    next = .invalid
                }
            default:
                break
            }
            position += 1
        }
        // Tokens may only move forward through the grammar, with three allowed steps back:
        // another `.digit` after a digit, another `_suffix` after a suffix number, and a digit
        // after a letter.
        if next < kind {
            let allowed = (next == .digitOrZero && kind == .digit)
                || (next == .suffix && kind == .suffixNumber)
                || (next == .digit && kind == .letter)
            if !allowed { next = .invalid }
        }
        kind = next
    }

    /// Reads the value of a token of kind `kind` and advances `kind` to the following token's kind.
    mutating func nextValue(_ kind: inout TokenKind) -> Int64 {
        if remaining <= 0 {
            kind = .end
            return 0
        }
        var length = 0
        var value: Int64 = 0
        var forcedNext: TokenKind? = nil

        switch kind {
        case .digitOrZero where bytes[position] == UInt8(ascii: "0"):
            // A component after "." that starts with "0" sorts below every component that does
            // not: it yields -(extra leading zeros), then the rest is read as a plain number.
            while length + 1 < remaining && bytes[position + length + 1] == UInt8(ascii: "0") {
                length += 1
            }
            value = -Int64(length)
            forcedNext = .digit
        case .digitOrZero, .digit, .suffixNumber, .revisionNumber:
            while length < remaining && isDigit(bytes[position + length]) {
                value = value * 10 + Int64(bytes[position + length] - 0x30)
                length += 1
                if length >= 18 {
                    kind = .invalid
                    return -1
                }
            }
        case .letter:
            value = Int64(bytes[position])
            length = 1
        case .suffix:
            if let index = Self.match(preReleaseSuffixes, in: bytes, at: position) {
                // Pre-release suffixes are negative so that `1.0_rc < 1.0`.
                value = Int64(index) - Int64(preReleaseSuffixes.count)
                length = preReleaseSuffixes[index].count
            } else if let index = Self.match(postReleaseSuffixes, in: bytes, at: position) {
                value = Int64(index)
                length = postReleaseSuffixes[index].count
            } else {
                kind = .invalid
                return -1
            }
        case .invalid, .end:
            kind = .invalid
            return -1
        }

        position += length
        if remaining == 0 {
            kind = .end
        } else if let forcedNext {
            kind = forcedNext
        } else {
            advanceKind(&kind)
        }
        return value
    }

    private static func match(_ table: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>, at position: Int) -> Int? {
        for (index, word) in table.enumerated() where position + word.count <= bytes.count {
            if bytes[position..<(position + word.count)].elementsEqual(word) { return index }
        }
        return nil
    }
}

extension APKVersion {
    /// Whether `bytes` is a version apk-tools accepts (see ``isValid``).
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var scanner = Scanner(bytes)
        var kind = TokenKind.digit
        while kind != .end && kind != .invalid {
            _ = scanner.nextValue(&kind)
        }
        return kind == .end
    }

    static func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, fuzzy: Bool) -> Order {
        var sa = Scanner(a), sb = Scanner(b)
        var kindA = TokenKind.digit, kindB = TokenKind.digit
        var valueA: Int64 = 0, valueB: Int64 = 0

        while kindA == kindB && kindA != .end && kindA != .invalid && valueA == valueB {
            valueA = sa.nextValue(&kindA)
            valueB = sb.nextValue(&kindB)
        }
        if valueA < valueB { return .less }
        if valueA > valueB { return .greater }
        if kindA == kindB || fuzzy { return .equal }

        // Equal so far, one side goes on: it is greater unless what follows is a pre-release suffix.
        if kindA == .suffix {
            var probe = sa, kind = kindA
            if probe.nextValue(&kind) < 0 { return .less }
        }
        if kindB == .suffix {
            var probe = sb, kind = kindB
            if probe.nextValue(&kind) < 0 { return .greater }
        }
        if kindA > kindB { return .less }
        if kindB > kindA { return .greater }
        return .equal
    }
}
