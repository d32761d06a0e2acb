/// A version constraint operator, kept as apk-tools' bit mask so every spelling round-trips.
public struct VersionOperator: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let equal = VersionOperator(rawValue: 1)
    public static let less = VersionOperator(rawValue: 2)
    public static let greater = VersionOperator(rawValue: 4)
    public static let fuzzy = VersionOperator(rawValue: 8)

    /// No constraint: any version of any provider.
    public static let any: VersionOperator = [.equal, .less, .greater]
    /// `><`: match exactly the package whose identity checksum is the "version".
    public static let checksum: VersionOperator = [.less, .greater]

    /// The operator as written in world files, indexes and `.PKGINFO`.
    public var spelling: String {
        switch self {
        case .any: return ""
        case .equal: return "="
        case .less: return "<"
        case .greater: return ">"
        case [.less, .equal]: return "<="
        case [.greater, .equal]: return ">="
        case [.equal, .fuzzy]: return "~"
        case [.greater, .equal, .fuzzy]: return ">~"
        case [.less, .equal, .fuzzy]: return "<~"
        case .checksum: return "><"
        default:
            var text = ""
            if contains(.less) { text += "<" }
            if contains(.greater) { text += ">" }
            if contains(.fuzzy) { text += "~" } else if contains(.equal) { text += "=" }
            return text
        }
    }

    /// Whether a comparison result satisfies this operator.
    func accepts(_ order: APKVersion.Order) -> Bool {
        switch order {
        case .less: return contains(.less)
        case .equal: return contains(.equal)
        case .greater: return contains(.greater)
        }
    }
}

/// One dependency, provide, conflict or world entry: `[!]name[@tag][op version]`.
///
/// The same syntax is used in `.PKGINFO` (`depend`, `provides`, `install_if`, `replaces`), in
/// APKINDEX `D:`/`p:`/`i:` lines, in `/etc/apk/world`, and in apko's `contents.packages`.
public struct Dependency: Sendable, Hashable, CustomStringConvertible {
    // The public initializer is in an extension, so the type keeps its synthesized memberwise
    // initializer, `init(name:tag:version:op:isConflict:)`. Swift 6.3 builds a value made by an
    // explicit initializer in a temporary and copies it into place (a retain and release per
    // string); the index parser makes hundreds of thousands of dependencies and uses the
    // memberwise one. The two one-byte properties come last so that they share the strings' tail
    // padding: 56 bytes a dependency instead of 64, which an index of a hundred thousand packages
    // feels (every byte of its records is memory the parser touches for the first time).

    /// The package, provide or virtual name (`busybox`, `so:libc.so.6`, `cmd:sh`, `/bin/sh`).
    public var name: String
    /// `@tag`: allows packages from repositories declared as `@tag URL`.
    public var tag: String?
    /// The version after the operator; `nil` exactly when `op` is ``VersionOperator/any``.
    public var version: String?
    /// The constraint; ``VersionOperator/any`` when no version is given.
    public var op: VersionOperator
    /// `!name`: the named package (or its matching versions) must not be installed.
    public var isConflict: Bool
}

extension Dependency {
    /// A dependency on `name`; `op` is kept only with a `version` (``VersionOperator/any`` without).
    public init(name: String, tag: String? = nil, op: VersionOperator = .any, version: String? = nil,
                isConflict: Bool = false) {
        self.init(name: name, tag: tag, version: version, op: version == nil ? .any : op, isConflict: isConflict)
    }

    /// Parses one dependency token. Throws an ``APKError`` of kind ``APKError/Kind/invalidDependency``
    /// when apk-tools would refuse the text (empty name, operator without a valid version, …).
    public init(parsing text: Substring) throws {
        // Works on UTF-8 bytes: every byte the syntax cares about is ASCII, and an index stores
        // hundreds of thousands of dependencies, so Character-by-Character scanning would dominate.
        var body = text
        var conflict = false
        if body.utf8.first == UInt8(ascii: "!") {
            conflict = true
            body = body.dropFirst()
        }
        func isOperator(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "=") || byte == UInt8(ascii: "~")
        }
        var namePart = body
        var op = VersionOperator.any
        var version: String? = nil
        if let opStart = body.utf8.firstIndex(where: isOperator) {
            namePart = body[..<opStart]
            let rest = body[opStart...]
            let opEnd = rest.utf8.firstIndex(where: { !isOperator($0) }) ?? rest.endIndex
            let opText = rest[..<opEnd]
            let versionText = rest[opEnd...]
            var mask = VersionOperator()
            for byte in opText.utf8 {
                switch byte {
                case UInt8(ascii: "<"): mask.insert(.less)
                case UInt8(ascii: ">"): mask.insert(.greater)
                case UInt8(ascii: "~"): mask.formUnion([.fuzzy, .equal])
                default: mask.insert(.equal)
                }
            }
            if versionText.isEmpty {
                throw APKError.invalidDependency(String(text), "operator '\(opText)' has no version after it")
            }
            let versionString = String(versionText)
            if mask != .checksum && !APKVersion(versionString).isValid {
                throw APKError.invalidDependency(String(text), "'\(versionText)' is not a valid apk version")
            }
            // `<>=` in any order allows every version, and apk-tools then matches like a bare name
            // (unversioned provides too), so it is kept as one: `.any` never carries a version.
            if mask != .any {
                op = mask
                version = versionString
            }
        }
        var tag: String? = nil
        if let at = namePart.utf8.firstIndex(of: UInt8(ascii: "@")) {
            let tagText = namePart[namePart.utf8.index(after: at)...]
            if tagText.isEmpty {
                throw APKError.invalidDependency(String(text), "'@' is not followed by a repository tag")
            }
            tag = String(tagText)
            namePart = namePart[..<at]
        }
        if namePart.isEmpty {
            throw APKError.invalidDependency(String(text), "the package name is empty")
        }
        // Bytes of multi-byte UTF-8 sequences are all >= 0x80, so this finds exactly the ASCII
        // control and space characters.
        if let bad = namePart.utf8.first(where: { $0 <= 0x20 || $0 == 0x7F }) {
            throw APKError.invalidDependency(String(text), "the name contains the control or space character U+\(String(bad, radix: 16, uppercase: true))")
        }
        self.init(name: String(namePart), tag: tag, op: op, version: version, isConflict: conflict)
    }

    public init(parsing text: String) throws {
        try self.init(parsing: Substring(text))
    }

    /// Parses a space- or newline-separated list (an APKINDEX `D:` line, a `.PKGINFO` `install_if`).
    public static func parseList(_ text: Substring) throws -> [Dependency] {
        try text.utf8.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\t") })
            .map { try Dependency(parsing: Substring($0)) }
    }

    public static func parseList(_ text: String) throws -> [Dependency] {
        try parseList(Substring(text))
    }

    /// The canonical spelling, as apk-tools writes it back.
    public var description: String {
        var text = isConflict ? "!" + name : name
        if let tag { text += "@" + tag }
        if let version { text += op.spelling + version }
        return text
    }

    /// Whether a provider offering `name` at `providedVersion` satisfies this dependency, ignoring
    /// `isConflict` (callers decide what a match means for a conflict).
    ///
    /// An unversioned provide (`providedVersion == nil`) satisfies only an unversioned dependency:
    /// `so:libfoo.so.1>=2` is never met by a bare `so:libfoo.so.1`.
    public func versionMatches(_ providedVersion: APKVersion?) -> Bool {
        guard let version else { return true }
        guard let providedVersion else { return false }
        if op == .checksum { return false }
        let order = APKVersion.compare(providedVersion, APKVersion(version), fuzzy: op.contains(.fuzzy))
        return op.accepts(order)
    }

    /// Whether a package with identity checksum `checksum` is the one a `><Q1…` dependency pins.
    public func checksumMatches(_ checksum: String) -> Bool {
        op == .checksum && version == checksum
    }
}

