/// An SPDX license expression (SPDX 2.3 Annex D), parsed and checked against the SPDX License
/// List (`SPDXLicenseList`).
///
/// Parsing follows the Annex D grammar: `WITH` binds tighter than `AND`, which binds tighter than
/// `OR`; `+` after a license identifier means "this version or later"; `LicenseRef-…` and
/// `DocumentRef-…:LicenseRef-…` name licenses outside the list. Two leniencies, both of which the
/// spec allows and the canonical `description` undoes: identifiers match the list without regard
/// to case (the spec says they are case-insensitive), and the operators are accepted in any case
/// (the spec says they *should* be upper case; Alpine writes `MIT and BSD-3-Clause`).
public indirect enum LicenseExpression: Sendable, Hashable, CustomStringConvertible {
    /// A license from the list, in the list's spelling; `orLater` when written with a `+`.
    case license(String, orLater: Bool)
    /// `LicenseRef-<id>` (`document` is nil) or `DocumentRef-<document>:LicenseRef-<id>`;
    /// `license` is the whole `LicenseRef-…` part.
    case reference(document: String?, license: String)
    /// `<license> WITH <exception>`, the exception in the list's spelling.
    case exception(LicenseExpression, String)
    /// Every operand applies; never fewer than two operands, none of them an `and`.
    case and([LicenseExpression])
    /// Any operand applies; never fewer than two operands, none of them an `or`.
    case or([LicenseExpression])

    /// Parses `text`, throwing `SBOMError.Kind.invalidLicenseExpression` with the reason (an
    /// unknown identifier, a missing operand, an unbalanced parenthesis, …).
    public init(parsing text: String) throws(SBOMError) {
        var parser = LicenseExpressionParser(tokens: try LicenseExpressionParser.tokenize(text), text: text)
        self = try parser.parseExpression()
        guard parser.position == parser.tokens.count else {
            throw parser.failure("unexpected '\(parser.tokens[parser.position].spelling)'")
        }
    }

    /// Whether `text` is a valid expression.
    public static func isValid(_ text: String) -> Bool {
        (try? LicenseExpression(parsing: text)) != nil
    }

    /// The canonical spelling: list spelling of identifiers, upper-case operators, single spaces,
    /// and parentheses only where precedence needs them.
    public var description: String {
        switch self {
        case .license(let id, let orLater):
            return orLater ? id + "+" : id
        case .reference(let document, let license):
            if let document { return "DocumentRef-\(document):\(license)" }
            return license
        case .exception(let license, let exception):
            return "\(license) WITH \(exception)"
        case .and(let operands):
            return operands.map { operand in
                if case .or = operand { return "(\(operand))" }
                return operand.description
            }.joined(separator: " AND ")
        case .or(let operands):
            return operands.map(\.description).joined(separator: " OR ")
        }
    }

    /// Every `LicenseRef-…` the expression uses, with the document it is in (nil for this one),
    /// in order of appearance.
    public var references: [(document: String?, license: String)] {
        switch self {
        case .license: return []
        case .reference(let document, let license): return [(document, license)]
        case .exception(let license, _): return license.references
        case .and(let operands), .or(let operands): return operands.flatMap(\.references)
        }
    }

    /// Whether some license carries the `+` ("or later") operator.
    public var usesOrLaterOperator: Bool {
        switch self {
        case .license(_, let orLater): return orLater
        case .reference: return false
        case .exception(let license, _): return license.usesOrLaterOperator
        case .and(let operands), .or(let operands): return operands.contains(where: \.usesOrLaterOperator)
        }
    }

    /// The list identifier for `id`, matched without regard to case; nil when it is not a
    /// license on the list (exceptions are not licenses).
    public static func listedLicense(_ id: String) -> String? {
        LicenseTables.licenses[id.lowercased()]
    }

    /// The list identifier for the exception `id`, matched without regard to case.
    public static func listedException(_ id: String) -> String? {
        LicenseTables.exceptions[id.lowercased()]
    }

    /// The version of the SPDX License List identifiers are checked against (e.g. `3.27`).
    public static var licenseListVersion: String { SPDXLicenseList.version }
}

/// The identifier tables, keyed by the lower-cased identifier.
private enum LicenseTables {
    static let licenses = table(SPDXLicenseList.licenseIdentifiers)
    static let exceptions = table(SPDXLicenseList.exceptionIdentifiers)

    private static func table(_ lines: String) -> [String: String] {
        var table: [String: String] = [:]
        for line in lines.split(separator: "\n") {
            let id = String(line)
            table[id.lowercased()] = id
        }
        return table
    }
}

private struct LicenseExpressionParser {
    enum Token: Equatable {
        case open, close, and, or, with
        case word(String)

        var spelling: String {
            switch self {
            case .open: return "("
            case .close: return ")"
            case .and: return "AND"
            case .or: return "OR"
            case .with: return "WITH"
            case .word(let word): return word
            }
        }
    }

    /// Expressions longer than this are not license fields; refusing them bounds the recursion.
    static let maximumLength = 4096

    let tokens: [Token]
    let text: String
    var position = 0
    var depth = 0

    init(tokens: [Token], text: String) {
        self.tokens = tokens
        self.text = text
    }

    func failure(_ reason: String) -> SBOMError {
        SBOMError(.invalidLicenseExpression, "invalid license expression '\(text)': \(reason)")
    }

    static func tokenize(_ text: String) throws(SBOMError) -> [Token] {
        guard text.utf8.count <= maximumLength else {
            throw SBOMError(.invalidLicenseExpression, "license expression longer than \(maximumLength) bytes")
        }
        var tokens: [Token] = []
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            switch word.uppercased() {
            case "AND": tokens.append(.and)
            case "OR": tokens.append(.or)
            case "WITH": tokens.append(.with)
            default: tokens.append(.word(word))
            }
            word = ""
        }
        for character in text.unicodeScalars {
            switch character {
            case " ", "\t", "\n", "\r":
                flush()
            case "(":
                flush()
                tokens.append(.open)
            case ")":
                flush()
                tokens.append(.close)
            default:
                word.unicodeScalars.append(character)
            }
        }
        flush()
        return tokens
    }

    var current: Token? { position < tokens.count ? tokens[position] : nil }

    // or-expression = and-expression *("OR" and-expression)
    mutating func parseExpression() throws(SBOMError) -> LicenseExpression {
        var operands = [try parseAnd()]
        while current == .or {
            position += 1
            operands.append(try parseAnd())
        }
        return operands.count == 1 ? operands[0] : .or(operands.flatMap { operand -> [LicenseExpression] in
            if case .or(let inner) = operand { return inner }
            return [operand]
        })
    }

    // and-expression = with-expression *("AND" with-expression)
    mutating func parseAnd() throws(SBOMError) -> LicenseExpression {
        var operands = [try parseWith()]
        while current == .and {
            position += 1
            operands.append(try parseWith())
        }
        return operands.count == 1 ? operands[0] : .and(operands.flatMap { operand -> [LicenseExpression] in
            if case .and(let inner) = operand { return inner }
            return [operand]
        })
    }

    // with-expression = "(" expression ")" / simple-expression ["WITH" exception-id]
    mutating func parseWith() throws(SBOMError) -> LicenseExpression {
        guard let token = current else { throw failure("expected a license after the end") }
        switch token {
        case .open:
            depth += 1
            guard depth <= 32 else { throw failure("parentheses nested deeper than 32 levels") }
            position += 1
            let inner = try parseExpression()
            guard current == .close else { throw failure("missing ')'") }
            position += 1
            depth -= 1
            if current == .with {
                // Annex D allows WITH only after a simple expression, never after a parenthesis.
                throw failure("WITH must follow a single license, not a parenthesized expression")
            }
            return inner
        case .word(let word):
            position += 1
            let simple = try simpleExpression(word)
            guard current == .with else { return simple }
            position += 1
            guard case .word(let exceptionWord)? = current else { throw failure("WITH needs an exception identifier") }
            position += 1
            guard case .license = simple else { throw failure("WITH must follow a license from the SPDX list") }
            guard let exception = LicenseExpression.listedException(exceptionWord) else {
                throw failure("unknown license exception '\(exceptionWord)'")
            }
            return .exception(simple, exception)
        case .close:
            throw failure("unexpected ')'")
        case .and, .or, .with:
            throw failure("\(token.spelling) needs a license before it")
        }
    }

    func simpleExpression(_ word: String) throws(SBOMError) -> LicenseExpression {
        if word.hasPrefix("LicenseRef-") || word.hasPrefix("DocumentRef-") {
            return try reference(word)
        }
        // Deprecated identifiers such as GPL-2.0+ carry the plus in their name: they win over
        // reading the plus as the operator.
        if let listed = LicenseExpression.listedLicense(word) { return .license(listed, orLater: false) }
        if word.hasSuffix("+"), isIDString(word.dropLast()), let listed = LicenseExpression.listedLicense(String(word.dropLast())) {
            return .license(listed, orLater: true)
        }
        if LicenseExpression.listedException(word) != nil {
            throw failure("'\(word)' is a license exception, not a license")
        }
        throw failure("unknown license identifier '\(word)'")
    }

    func reference(_ word: String) throws(SBOMError) -> LicenseExpression {
        var document: String?
        var license = Substring(word)
        if word.hasPrefix("DocumentRef-") {
            let parts = word.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let documentID = parts[0].dropFirst("DocumentRef-".count)
            guard parts.count == 2, isIDString(documentID) else {
                throw failure("malformed license reference '\(word)'")
            }
            document = String(documentID)
            license = parts[1]
        }
        guard license.hasPrefix("LicenseRef-"), isIDString(license.dropFirst("LicenseRef-".count)) else {
            throw failure("malformed license reference '\(word)'")
        }
        return .reference(document: document, license: String(license))
    }

    /// Annex D `idstring`: one or more ASCII letters, digits, `-` or `.`.
    func isIDString(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(SPDXIdentifier.isIDStringByte)
    }
}
