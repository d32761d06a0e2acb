#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The APKINDEX text parser behind ``IndexText/parse(_:source:)`` and the signed-index reader,
/// which feeds it the text piece by piece while it inflates, so the text is never held whole.
///
/// An index is tens of megabytes read on every build, so the common shapes take short paths:
/// lines are found with `memchr`, numbers and dependency tokens are decoded in place, and a long
/// value that repeats (URLs, licenses, maintainers, commits, sonames) becomes a `String` once and
/// is shared. Anything outside those shapes — a byte that is not printable ASCII in a dependency,
/// a number that is not plain digits, a malformed token — goes through the general code
/// (`Dependency(parsing:)`, `FixedWidthInteger(_:)`), which decides and words the error, so the
/// result is the same as decoding every line into a `String` first and parsing that.
struct IndexTextParser {
    /// Named in errors.
    let source: String?
    /// Every finished record.
    private var packages: [PackageInfo] = []
    /// The record being read (`recordIsEmpty` false), filled field by field here rather than in
    /// `packages`, where every store would check that the array's buffer is not shared.
    private var record = IndexTextParser.emptyRecord()
    private var recordHasName = false
    private var recordHasVersion = false
    private var recordIsEmpty = true
    private var lineNumber = 0
    private var recordStartLine = 1
    /// The start of a line whose end is in a later piece.
    private var partialLine: [UInt8] = []
    private let strings = StringCache()
    private let tokens = DependencyTokens()

    /// - Parameter expectedSize: the length of the text, when known, so the records' array can be
    ///   allocated once (growing it copies every record made so far).
    init(source: String?, expectedSize: Int = 0) {
        self.source = source
        // Real records are 300 to 500 bytes; a larger guess only reserves address space.
        packages.reserveCapacity(expectedSize / 256)
    }

    /// Parses every complete line of `piece`, keeping an unfinished last line for the next piece.
    mutating func feed(_ piece: UnsafeBufferPointer<UInt8>) throws {
        guard var cursor = piece.baseAddress, !piece.isEmpty else { return }
        let end = cursor + piece.count
        if !partialLine.isEmpty {
            guard let newline = Self.newline(from: cursor, to: end) else {
                partialLine.append(contentsOf: piece)
                return
            }
            partialLine.append(contentsOf: UnsafeBufferPointer(start: cursor, count: newline - cursor))
            try parsePartialLine()
            cursor = newline + 1
        }
        while cursor < end {
            guard let newline = Self.newline(from: cursor, to: end) else {
                partialLine.append(contentsOf: UnsafeBufferPointer(start: cursor, count: end - cursor))
                return
            }
            try line(cursor, count: newline - cursor)
            cursor = newline + 1
        }
    }

    /// Parses what is left (a last line without a newline, the last record) and returns every
    /// record in text order.
    mutating func finish() throws -> [PackageInfo] {
        if !partialLine.isEmpty { try parsePartialLine() }
        if !recordIsEmpty { try finishRecord() }
        return packages
    }

    private static func newline(from start: UnsafePointer<UInt8>, to end: UnsafePointer<UInt8>) -> UnsafePointer<UInt8>? {
        guard let found = memchr(start, 0x0A, end - start) else { return nil }
        return UnsafePointer(found.assumingMemoryBound(to: UInt8.self))
    }

    private mutating func parsePartialLine() throws {
        // Swapped out so that parsing (which mutates self) does not overlap the array's buffer.
        var bytes: [UInt8] = []
        swap(&bytes, &partialLine)
        try bytes.withUnsafeBufferPointer { try line($0.baseAddress!, count: $0.count) }
        bytes.removeAll(keepingCapacity: true)
        partialLine = bytes
    }

    private mutating func line(_ start: UnsafePointer<UInt8>, count: Int) throws {
        lineNumber += 1
        var length = count
        if length > 0 && start[length - 1] == 0x0D { length -= 1 }  // tolerate CRLF
        if length == 0 {
            if !recordIsEmpty { try finishRecord() }
            recordStartLine = lineNumber + 1
            return
        }
        if recordIsEmpty { recordStartLine = lineNumber }
        guard length >= 2, start[1] == UInt8(ascii: ":") else {
            throw APKError(.malformedIndex, "line \(lineNumber) is not of the form X:value", source: source)
        }
        recordIsEmpty = false
        try field(start[0], UnsafeBufferPointer(start: start + 2, count: length - 2))
    }

    private mutating func field(_ letter: UInt8, _ value: UnsafeBufferPointer<UInt8>) throws {
        switch letter {
        case UInt8(ascii: "P"): record.name = strings.shared(value, at: .name); recordHasName = true
        case UInt8(ascii: "V"): record.version = strings.shared(value, at: .version); recordHasVersion = true
        case UInt8(ascii: "C"): record.checksum = Self.string(value)
        case UInt8(ascii: "A"): record.arch = strings.shared(value, at: .arch)
        case UInt8(ascii: "S"): record.fileSize = try Self.number(UInt64.self, letter, value, line: lineNumber, source: source)
        case UInt8(ascii: "I"): record.installedSize = try Self.number(UInt64.self, letter, value, line: lineNumber, source: source)
        case UInt8(ascii: "T"): record.description = Self.string(value)
        case UInt8(ascii: "U"): record.url = strings.shared(value, at: .url)
        case UInt8(ascii: "L"): record.license = strings.shared(value, at: .license)
        case UInt8(ascii: "o"): record.origin = strings.shared(value, at: .origin)
        case UInt8(ascii: "m"): record.maintainer = strings.shared(value, at: .maintainer)
        case UInt8(ascii: "t"): record.buildTime = try Self.number(Int64.self, letter, value, line: lineNumber, source: source)
        case UInt8(ascii: "c"): record.commit = strings.shared(value, at: .commit)
        case UInt8(ascii: "k"): record.providerPriority = try Self.number(Int.self, letter, value, line: lineNumber, source: source)
        case UInt8(ascii: "D"):
            try Self.dependencies(value, line: lineNumber, source: source, strings: strings, tokens: tokens, site: .depends,
                                  into: &record.depends)
        case UInt8(ascii: "p"):
            try Self.dependencies(value, line: lineNumber, source: source, strings: strings, tokens: tokens, site: .provides,
                                  into: &record.provides)
        case UInt8(ascii: "i"):
            try Self.dependencies(value, line: lineNumber, source: source, strings: strings, tokens: tokens, site: .installIf,
                                  into: &record.installIf)
        case UInt8(ascii: "r"):
            try Self.dependencies(value, line: lineNumber, source: source, strings: strings, tokens: tokens, site: .replaces,
                                  into: &record.replaces)
        case UInt8(ascii: "q"): record.replacesPriority = try Self.number(Int.self, letter, value, line: lineNumber, source: source)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"):
            // Installed-db letters (F M R Z) are handled by the installed-db reader; in an index an
            // unknown uppercase letter means a newer format this package needs.
            record.hasUnknownRequiredField = true
        default:
            break  // unknown lowercase letters are ignored for forward compatibility
        }
    }

    /// A record with no fields, made with the memberwise initializer (the public one costs a
    /// copy, see `PackageInfo`).
    private static func emptyRecord() -> PackageInfo {
        PackageInfo(checksum: nil, name: "", version: "", arch: nil, fileSize: nil, installedSize: nil, description: nil,
                    url: nil, license: nil, origin: nil, maintainer: nil, buildTime: nil, commit: nil, providerPriority: nil,
                    depends: [], provides: [], installIf: [], replaces: [], replacesPriority: nil, triggers: [], dataHash: nil,
                    hasUnknownRequiredField: false)
    }

    private mutating func finishRecord() throws {
        guard recordHasName, !record.name.isEmpty else {
            throw APKError(.malformedIndex, "the record starting at line \(recordStartLine) has no P: (name) line", source: source)
        }
        guard recordHasVersion, !record.version.isEmpty else {
            throw APKError(.malformedIndex,
                           "the record for '\(record.name)' at line \(recordStartLine) has no V: (version) line",
                           source: source)
        }
        // Swapped out and then moved into the array: no field is retained or released.
        var finished = Self.emptyRecord()
        swap(&finished, &record)
        packages.append(finished)
        recordHasName = false
        recordHasVersion = false
        recordIsEmpty = true
    }

    /// A field's text; invalid UTF-8 is repaired (U+FFFD), as everywhere else in the module.
    fileprivate static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Static, like the other helpers `field` calls: a method on the parser would be handed a copy
    /// of it (the record being read included, some 370 bytes) on every call.
    private static func number<T: FixedWidthInteger>(_ type: T.Type, _ letter: UInt8, _ value: UnsafeBufferPointer<UInt8>,
                                                     line lineNumber: Int, source: String?) throws -> T {
        // Plain digits that fit: decoded here. Everything else (signs, overflow, junk) is for the
        // standard library's parser, which decides what a number is.
        if !value.isEmpty && value.count <= 18 {
            var result: UInt64 = 0
            var isPlain = true
            for byte in value {
                let digit = byte &- UInt8(ascii: "0")
                if digit > 9 {
                    isPlain = false
                    break
                }
                result = result &* 10 &+ UInt64(digit)
            }
            if isPlain, let exact = T(exactly: result) { return exact }
        }
        let text = Self.string(value)
        guard let parsed = T(text) else {
            throw APKError(.malformedIndex, "line \(lineNumber): '\(Character(Unicode.Scalar(letter))):\(text)' is not a number",
                           source: source)
        }
        return parsed
    }

    /// Decodes a dependency list in two passes: the first finds where each token's parts lie, so
    /// the list's array is made at its exact size before any of its strings; the second makes the
    /// values. The first pass costs less than counting separators, and the order matters: with the
    /// array made after its strings, the signed-index reader's parsing thread (whose memory comes
    /// from its own malloc arena) spent about 15% more time reading the synthetic 100k index.
    private static func dependencies(_ value: UnsafeBufferPointer<UInt8>, line: Int, source: String?, strings: StringCache,
                                     tokens: DependencyTokens, site: StringCache.Site, into list: inout [Dependency]) throws {
        guard let base = value.baseAddress, !value.isEmpty else { return }
        tokens.removeAll()
        ByteClass.withTable { classes in
            let end = value.count
            var start = 0
            while start < end {
                if classes[Int(base[start])] == ByteClass.separator {
                    start += 1
                    continue
                }
                let token = Dependency.shape(base, from: start, to: end, classes: classes)
                tokens.append(token)
                start = token.end
            }
        }
        guard tokens.count > 0 else { return }
        list.reserveCapacity(list.count + tokens.count)
        for index in 0..<tokens.count {
            let token = tokens[index]
            if !(token.isCommon && Dependency.make(token, in: base, strings: strings, site: site, into: &list)) {
                try uncommonDependency(UnsafeBufferPointer(start: base + token.start, count: token.end - token.start), line: line,
                                       source: source, into: &list)
            }
        }
    }
}

extension IndexTextParser {
    /// A token `Dependency.scan` leaves alone, through the general parser. Kept out of line:
    /// sharing the caller's code path makes the optimizer copy every common-case dependency.
    @inline(never)
    fileprivate static func uncommonDependency(_ token: UnsafeBufferPointer<UInt8>, line: Int, source: String?,
                                               into list: inout [Dependency]) throws {
        do {
            list.append(try Dependency(parsing: Substring(string(token))))
        } catch let error as APKError {
            throw APKError(.malformedIndex, "line \(line): \(error.message)", source: source)
        }
    }
}

/// Where the parts of one dependency token lie (offsets into its list's text), found before any of
/// its strings is made.
struct DependencyToken {
    /// The token, `[start, end)`, as handed to the general parser when it is not the common case.
    var start: Int
    var end: Int
    var nameStart: Int
    var nameEnd: Int
    /// The first byte after `@`, or -1 without a tag.
    var tagStart: Int
    /// The end of the name and tag: where the operator starts, or `end` without one.
    var operatorStart: Int
    var versionStart: Int
    var mask: VersionOperator
    var isConflict: Bool
    /// Whether the token is well formed printable ASCII that ``Dependency/make(_:in:strings:site:into:)``
    /// may decode (it still checks the version); anything else is for the general parser.
    var isCommon: Bool
}

/// The tokens of the dependency list being decoded, in a buffer kept from list to list.
final class DependencyTokens {
    private var base: UnsafeMutablePointer<DependencyToken>
    private var capacity = 16
    /// Tokens held.
    private(set) var count = 0

    init() {
        base = .allocate(capacity: capacity)
    }

    deinit {
        // `DependencyToken` is trivial: nothing to deinitialize.
        base.deallocate()
    }

    subscript(index: Int) -> DependencyToken { base[index] }

    func append(_ token: DependencyToken) {
        if count == capacity {
            let larger = UnsafeMutablePointer<DependencyToken>.allocate(capacity: capacity * 2)
            larger.moveInitialize(from: base, count: count)
            base.deallocate()
            base = larger
            capacity *= 2
        }
        (base + count).initialize(to: token)
        count += 1
    }

    func removeAll() {
        count = 0
    }
}

/// What a byte means inside a dependency list, looked up in one table read.
enum ByteClass {
    /// Printable ASCII with no meaning of its own (name and version characters, `!`).
    static let plain: UInt8 = 0
    /// Space, tab or newline: separates tokens.
    static let separator: UInt8 = 1
    /// `<`, `>`, `=`, `~`.
    static let versionOperator: UInt8 = 2
    /// `@`: starts a repository tag.
    static let tag: UInt8 = 3
    /// Control characters, DEL and non-ASCII bytes: left to the general parser.
    static let unusual: UInt8 = 4

    private static let table: [UInt8] = (0...255).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"): return separator
        case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "="), UInt8(ascii: "~"): return versionOperator
        case UInt8(ascii: "@"): return tag
        case 0x21...0x7E: return plain
        default: return unusual
        }
    }

    /// Whether a byte of class `byteClass` ends a version (a separator, or a byte for the general
    /// parser). One test of a bit mask, so the loop over a version's bytes has a single branch.
    @inline(__always)
    static func endsVersion(_ byteClass: UInt8) -> Bool {
        (1 &<< byteClass) & (1 &<< separator | 1 &<< unusual) != 0
    }

    /// Lends the 256-entry table, indexed by byte.
    static func withTable<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try table.withUnsafeBufferPointer(body)
    }
}

extension Dependency {
    /// Finds the parts of the token at `start` (up to the next separator or `end`) and whether it
    /// is the common case of ``init(parsing:)-(Substring)`` — well formed, printable ASCII — that
    /// ``make(_:in:strings:site:into:)`` decodes in place. Anything else is for the general parser
    /// (`init(parsing:)`), which accepts or rejects it and words the error.
    @inline(__always)
    fileprivate static func shape(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int,
                                  classes: UnsafeBufferPointer<UInt8>) -> DependencyToken
    {
        let isConflict = base[start] == UInt8(ascii: "!")
        let nameStart = isConflict ? start + 1 : start
        var position = nameStart
        var at = -1
        var byteClass = ByteClass.separator
        // A tight loop over plain bytes, with `@` handled outside it: one loop testing every class
        // compiles to a jump table per byte, which cost more than the rest of the token.
        while true {
            while position < end && classes[Int(base[position])] == ByteClass.plain { position += 1 }
            guard position < end else { break }
            byteClass = classes[Int(base[position])]
            guard byteClass == ByteClass.tag else { break }
            if at < 0 { at = position }
            position += 1
        }
        let operatorStart = position
        var mask = VersionOperator()
        var versionStart = position
        if position < end && byteClass == ByteClass.versionOperator {
            scan: while versionStart < end {
                switch base[versionStart] {
                case UInt8(ascii: "<"): mask.insert(.less)
                case UInt8(ascii: ">"): mask.insert(.greater)
                case UInt8(ascii: "~"): mask.formUnion([.fuzzy, .equal])
                case UInt8(ascii: "="): mask.insert(.equal)
                default: break scan
                }
                versionStart += 1
            }
            position = versionStart
            byteClass = ByteClass.separator
            while position < end {
                byteClass = classes[Int(base[position])]
                if ByteClass.endsVersion(byteClass) { break }
                position += 1
            }
        }
        var isCommon = true
        if position < end && byteClass == ByteClass.unusual {
            while position < end && classes[Int(base[position])] != ByteClass.separator { position += 1 }
            isCommon = false
        }
        let tokenEnd = position
        let nameEnd = at >= 0 ? at : operatorStart
        let hasOperator = operatorStart < tokenEnd
        if at >= 0 && at + 1 == operatorStart { isCommon = false }  // '@' without a tag
        if nameEnd <= nameStart { isCommon = false }  // no name
        if hasOperator && versionStart == tokenEnd { isCommon = false }  // an operator without a version
        // Every order at once (`<>=`) is kept without a version; the general parser owns that rule.
        if hasOperator && mask == .any { isCommon = false }
        return DependencyToken(start: start, end: tokenEnd, nameStart: nameStart, nameEnd: nameEnd, tagStart: at >= 0 ? at + 1 : -1,
                               operatorStart: operatorStart, versionStart: versionStart, mask: mask, isConflict: isConflict,
                               isCommon: isCommon)
    }

    /// Decodes a common-case token (see ``shape(_:from:to:classes:)``) and appends it to `list`.
    /// Returns false, appending nothing, when its version is not one apk-tools accepts.
    @inline(__always)
    fileprivate static func make(_ token: DependencyToken, in base: UnsafePointer<UInt8>, strings: StringCache,
                                 site: StringCache.Site, into list: inout [Dependency]) -> Bool
    {
        let hasOperator = token.operatorStart < token.end
        // Every value is a `let` built once: with optionals assigned in branches the optimizer
        // copies the finished dependency into the array and destroys the original.
        let version: String?
        if !hasOperator {
            version = nil
        } else if token.mask == .checksum {
            version = strings.shared(UnsafeBufferPointer(start: base + token.versionStart, count: token.end - token.versionStart),
                                     at: .dependencyVersion)
        } else {
            let (text, isValid) = strings.version(UnsafeBufferPointer(start: base + token.versionStart,
                                                                      count: token.end - token.versionStart))
            guard isValid else { return false }
            version = text
        }
        let tag = token.tagStart >= 0
            ? strings.shared(UnsafeBufferPointer(start: base + token.tagStart, count: token.operatorStart - token.tagStart), at: .tag)
            : nil
        let name = strings.shared(UnsafeBufferPointer(start: base + token.nameStart, count: token.nameEnd - token.nameStart), at: site)
        // The memberwise initializer: the public one costs a copy (see `Dependency`).
        list.append(Dependency(name: name, tag: tag, version: version, op: hasOperator ? token.mask : .any,
                               isConflict: token.isConflict))
        return true
    }
}

/// Hands out one `String` per recently seen byte sequence, so values that repeat through an index
/// (architectures, versions, maintainers, licenses, URLs and commits of subpackages,
/// `so:libc.musl-x86_64.so.1`) are decoded once and then shared instead of decoded, allocated
/// and copied again.
///
/// Two direct-mapped caches of fixed size: short values (up to 15 bytes, which a `String` holds
/// inline) keyed by their bytes, longer ones by a hash and checked against the cached string's
/// bytes. A miss replaces the slot. Memory stays bounded and time linear whatever the input;
/// what comes back is always the string `String(decoding:as:)` makes of the bytes.
///
/// Replacing a long slot releases a string that has usually left the CPU's cache by then, which
/// costs about as much as making a string. So each ``Site`` keeps count: where long values seldom
/// repeat (every provide naming a package's own library, say), sharing is switched off for a
/// stretch and then tried again. The stretch doubles each time the trial finds few repeats again
/// (up to 65,536 values) and is short again once it finds many: in a large index of unique URLs
/// and commits the trials alone cost about 6% of parsing.
final class StringCache {
    /// Where a value comes from: the fields differ in how often long values repeat.
    enum Site: Int, CaseIterable {
        case name, version, arch, url, license, origin, maintainer, commit, dependencyVersion, tag
        case depends, provides, installIf, replaces
    }

    private struct ShortKey: Equatable {
        var low: UInt64
        var high: UInt64
        var count: Int
    }

    private static let shortSlotBits = 12
    private static let longSlotBits = 14
    private let shortKeys: UnsafeMutablePointer<ShortKey>
    private let shortStrings: UnsafeMutablePointer<String>
    /// Per short slot, whether its bytes are a valid version: 0 not known yet, 1 valid, 2 not.
    private let shortVersionValidity: UnsafeMutablePointer<UInt8>
    private let longHashes: UnsafeMutablePointer<UInt64>
    private let longStrings: UnsafeMutablePointer<String>
    /// Per site: lookups and hits in the current window, and how many values are still to be
    /// made without sharing.
    private let lookups: UnsafeMutablePointer<Int32>
    private let hits: UnsafeMutablePointer<Int32>
    private let unsharedRemaining: UnsafeMutablePointer<Int32>
    /// Per site: how many values the next stretch without sharing lasts.
    private let unsharedStretch: UnsafeMutablePointer<Int32>
    private static let window: Int32 = 256
    private static let shortestUnsharedStretch: Int32 = 4096
    private static let longestUnsharedStretch: Int32 = 65536

    init() {
        let shortCount = 1 << Self.shortSlotBits, longCount = 1 << Self.longSlotBits
        shortKeys = .allocate(capacity: shortCount)
        // A count no key has: every slot starts empty.
        shortKeys.initialize(repeating: ShortKey(low: 0, high: 0, count: -1), count: shortCount)
        shortStrings = .allocate(capacity: shortCount)
        shortStrings.initialize(repeating: "", count: shortCount)
        shortVersionValidity = .allocate(capacity: shortCount)
        shortVersionValidity.initialize(repeating: 0, count: shortCount)
        longHashes = .allocate(capacity: longCount)
        longHashes.initialize(repeating: 0, count: longCount)
        longStrings = .allocate(capacity: longCount)
        longStrings.initialize(repeating: "", count: longCount)
        let sites = Site.allCases.count
        lookups = .allocate(capacity: sites)
        lookups.initialize(repeating: 0, count: sites)
        hits = .allocate(capacity: sites)
        hits.initialize(repeating: 0, count: sites)
        unsharedRemaining = .allocate(capacity: sites)
        unsharedRemaining.initialize(repeating: 0, count: sites)
        unsharedStretch = .allocate(capacity: sites)
        unsharedStretch.initialize(repeating: Self.shortestUnsharedStretch, count: sites)
    }

    deinit {
        let shortCount = 1 << Self.shortSlotBits, longCount = 1 << Self.longSlotBits
        shortKeys.deallocate()
        shortStrings.deinitialize(count: shortCount)
        shortStrings.deallocate()
        shortVersionValidity.deallocate()
        longHashes.deallocate()
        longStrings.deinitialize(count: longCount)
        longStrings.deallocate()
        lookups.deallocate()
        hits.deallocate()
        unsharedRemaining.deallocate()
        unsharedStretch.deallocate()
    }

    /// The string for `bytes` (invalid UTF-8 repaired, as `String(decoding:as:)` does).
    func shared(_ bytes: UnsafeBufferPointer<UInt8>, at site: Site) -> String {
        bytes.count <= Self.longestShortString ? shortStrings[shortSlot(bytes)] : long(bytes, at: site)
    }

    /// The string for a version's bytes and whether apk-tools accepts it as a version
    /// (``APKVersion/isValid``), worked out once while the value stays cached.
    func version(_ bytes: UnsafeBufferPointer<UInt8>) -> (String, isValid: Bool) {
        guard bytes.count <= Self.longestShortString else {
            return (long(bytes, at: .dependencyVersion), APKVersion.isValid(bytes))
        }
        let slot = shortSlot(bytes)
        if shortVersionValidity[slot] == 0 { shortVersionValidity[slot] = APKVersion.isValid(bytes) ? 1 : 2 }
        return (shortStrings[slot], shortVersionValidity[slot] == 1)
    }

    private static let longestShortString = 15

    /// The short slot holding `bytes`, filled with them first if it held something else.
    private func shortSlot(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let count = bytes.count
        // The bytes as two words (overlapping, or zero-padded below 8), which with the count
        // identify them exactly.
        var key = ShortKey(low: 0, high: 0, count: count)
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            if count >= 8 {
                key.low = raw.loadUnaligned(as: UInt64.self)
                key.high = raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            } else if count >= 4 {
                key.low = UInt64(raw.loadUnaligned(as: UInt32.self))
                key.high = UInt64(raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
            } else {
                for index in 0..<count { key.low = key.low << 8 | UInt64(base[index]) }
            }
        }
        let mixed = (key.low ^ key.high.rotated(by: 29) ^ UInt64(count)) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: mixed >> UInt64(64 - Self.shortSlotBits))
        if shortKeys[slot] != key {
            shortKeys[slot] = key
            shortStrings[slot] = String(decoding: bytes, as: UTF8.self)
            shortVersionValidity[slot] = 0
        }
        return slot
    }

    private func long(_ bytes: UnsafeBufferPointer<UInt8>, at site: Site) -> String {
        let site = site.rawValue
        if unsharedRemaining[site] > 0 {
            unsharedRemaining[site] -= 1
            return String(decoding: bytes, as: UTF8.self)
        }
        lookups[site] += 1
        if lookups[site] == Self.window {
            if hits[site] < Self.window / 4 {
                unsharedRemaining[site] = unsharedStretch[site]
                unsharedStretch[site] = min(unsharedStretch[site] * 2, Self.longestUnsharedStretch)
            } else {
                unsharedStretch[site] = Self.shortestUnsharedStretch
            }
            lookups[site] = 0
            hits[site] = 0
        }
        let base = bytes.baseAddress!, count = bytes.count
        let hash = Self.hash(UnsafeRawPointer(base), count: count)
        let slot = Int(truncatingIfNeeded: hash >> UInt64(64 - Self.longSlotBits))
        if longHashes[slot] == hash {
            let cached = longStrings[slot]
            let matches = cached.utf8.withContiguousStorageIfAvailable { stored in
                stored.count == count && memcmp(stored.baseAddress!, base, count) == 0
            }
            if matches == true {
                hits[site] += 1
                return cached
            }
        }
        let string = String(decoding: bytes, as: UTF8.self)
        longHashes[slot] = hash
        longStrings[slot] = string
        return string
    }

    /// A multiply-xorshift hash of 8-byte words; `count` is at least 8.
    @inline(__always)
    private static func hash(_ raw: UnsafeRawPointer, count: Int) -> UInt64 {
        var hash = UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        var offset = 0
        while offset + 8 <= count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
            offset += 8
        }
        if offset < count {
            // The last 1...7 bytes, read as the final (overlapping) word.
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) &* 0x94D0_49BB_1331_11EB
            hash ^= hash >> 29
        }
        return hash
    }
}

extension UInt64 {
    fileprivate func rotated(by bits: UInt64) -> UInt64 {
        self << bits | self >> (64 - bits)
    }
}
