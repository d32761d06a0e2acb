/// One reason a world cannot be satisfied, in words a person can act on: the shortest chain of
/// dependencies from a world entry to the point of failure, and what is wrong there.
///
/// `nginx → so:libssl.so.3 → libssl3 (>= 3.2) — repository has only 3.1.4-r0`
public struct Problem: Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: String, Sendable, Hashable {
        /// Nothing in any repository has the name.
        case noSuchPackage
        /// Only unversioned provides of the name exist, none with a priority, and none of their
        /// packages is asked for by name.
        case noAutomaticChoice
        /// The package chosen for a name does not satisfy a dependency on it (a version
        /// constraint, or a `!conflict`).
        case constraintNotMet
        /// Two selected packages provide the same name (with a version).
        case sameNameProvided
        /// The package is only in a tagged repository the request did not name.
        case pinned
        /// The package's repository cannot be used (apk's `--no-network`).
        case unavailable
        /// The package carries an index field this resolver does not understand.
        case unusable
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// Dependency texts from a world entry to the failing one; the last element is where the
    /// failure is. Versioned entries read `name (>= 1.2)`.
    public var chain: [String]
    /// What is wrong at the end of the chain.
    public var reason: String
    /// Names the problem is about (package and provided names), for tools that match on them.
    public var names: [String]
    /// Close names when a package does not exist (edit distance over all names and provides).
    public var suggestions: [String]

    /// Creates a problem from its parts.
    public init(kind: Kind, chain: [String], reason: String, names: [String], suggestions: [String] = []) {
        self.kind = kind
        self.chain = chain
        self.reason = reason
        self.names = names
        self.suggestions = suggestions
    }

    /// `a → b → c (>= 2) — reason`: the chain, then what is wrong.
    public var description: String {
        chain.isEmpty ? reason : chain.joined(separator: " → ") + " — " + reason
    }
}

/// Close-name suggestions for a name that does not exist.
enum NameSuggestions {
    /// Up to `limit` names within an edit distance that grows with the name's length, closest
    /// first, ties in byte order.
    static func suggest(for name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let target = Array(name.utf8)
        let allowed = max(2, target.count / 3)
        var scored: [(distance: Int, name: String)] = []
        for candidate in candidates where candidate != name {
            let bytes = Array(candidate.utf8)
            if abs(bytes.count - target.count) > allowed { continue }
            let distance = editDistance(target, bytes, limit: allowed)
            if distance <= allowed { scored.append((distance, candidate)) }
        }
        scored.sort { $0.distance != $1.distance ? $0.distance < $1.distance : Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        return scored.prefix(limit).map(\.name)
    }

    /// Levenshtein distance with an early exit once every cell of a row exceeds `limit`.
    static func editDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
