import DistillCrypto

/// Turns license fields (APK `L:` values, melange `licenseDeclared`) into values every SPDX
/// validator accepts, and collects the `LicenseRef-…` declarations the document needs.
///
/// A field is used as written (in canonical spelling) when it is a valid SPDX expression that
/// spdx-tools also accepts: no `+` operator (spdx-tools 0.8.5 reads `Apache-2.0+` as an unknown
/// identifier; listed names such as `GPL-2.0+` are fine) and no `DocumentRef-` (this document
/// declares no external documents). Anything else — `GPL2+`, `custom`, `MIT BSD` (a list
/// without operators is ambiguous: AND or OR?), `Public Domain` — is declared whole as
/// `LicenseRef-<sanitized text>` with the original text as `extractedText`, so nothing is guessed
/// and nothing is lost.
///
/// Use it in three steps so names do not depend on call order: `note` every field, `assignNames`
/// once, then `value(for:)`.
struct LicenseCatalog {
    /// Declarations by `licenseId`: those of merged documents first, then inline references,
    /// then the fallbacks `assignNames` made.
    private(set) var extracted: [String: ExtractedLicense] = [:]
    private var fallbackTexts: Set<String> = []
    private var fallbackNames: [String: String] = [:]

    /// Adds a declaration copied from another document; the first one with an identifier wins.
    mutating func declare(_ license: ExtractedLicense) {
        if extracted[license.licenseID] == nil { extracted[license.licenseID] = license }
    }

    /// Whether the document declares `licenseID`.
    func isDeclared(_ licenseID: String) -> Bool {
        extracted[licenseID] != nil
    }

    /// Step 1: records that `raw` will be written into the document.
    mutating func note(_ raw: String?) {
        switch classify(raw) {
        case .fallback(let text):
            fallbackTexts.insert(text)
        case .expression(let expression, let text):
            for reference in expression.references where extracted[reference.license] == nil {
                // The package names a LicenseRef nobody declared: declare it with the only text
                // there is, the field that used it.
                extracted[reference.license] = ExtractedLicense(licenseID: reference.license, extractedText: text,
                                                                name: reference.license)
            }
        case .keyword:
            break
        }
    }

    /// Step 2: names every fallback. Texts whose sanitized name collides (without regard to
    /// case, as SPDX matches license identifiers) with another fallback or a declared license
    /// keep the plain name only when they are that name verbatim and come first by bytes; the
    /// rest get `-` + the first 8 hex digits of the text's SHA-256, stable from build to build.
    mutating func assignNames() {
        var groups: [String: [String]] = [:]
        for text in fallbackTexts {
            groups[Self.baseName(text).lowercased(), default: []].append(text)
        }
        var taken = Set(extracted.keys.map { $0.lowercased() })
        for key in groups.keys.sorted() {
            let texts = groups[key]!.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var plainGiven = taken.contains(key)
            for text in texts {
                let base = Self.baseName(text)
                var name: String
                if !plainGiven, base == "LicenseRef-" + text {
                    name = base
                    plainGiven = true
                } else {
                    let hash = DigestAlgorithm.sha256.hash(Array(text.utf8)).hex
                    var length = 8
                    name = "\(base)-\(hash.prefix(length))"
                    while taken.contains(name.lowercased()), length < hash.count {
                        length += 8
                        name = "\(base)-\(hash.prefix(length))"
                    }
                }
                taken.insert(name.lowercased())
                fallbackNames[text] = name
                extracted[name] = ExtractedLicense(licenseID: name, extractedText: text, name: text)
            }
        }
    }

    /// Step 3: the value to write for `raw` (`NOASSERTION` when there is none).
    func value(for raw: String?) -> String {
        switch classify(raw) {
        case .keyword(let keyword): return keyword
        case .expression(let expression, _): return expression.description
        case .fallback(let text): return fallbackNames[text] ?? "NOASSERTION"
        }
    }

    private enum Classification {
        case keyword(String)
        case expression(LicenseExpression, text: String)
        case fallback(String)
    }

    private func classify(_ raw: String?) -> Classification {
        guard let text = raw?.trimmingSPDXWhitespace(), !text.isEmpty else { return .keyword("NOASSERTION") }
        if text == "NOASSERTION" || text == "NONE" { return .keyword(text) }
        guard let expression = try? LicenseExpression(parsing: text), !expression.usesOrLaterOperator,
              expression.references.allSatisfy({ $0.document == nil }) else {
            return .fallback(text)
        }
        return .expression(expression, text: text)
    }

    /// `LicenseRef-` + `text` with every run of characters outside the idstring set turned
    /// into one `-`, and no `-` at either end (`custom:multiple` → `LicenseRef-custom-multiple`).
    static func baseName(_ text: String) -> String {
        var result: [UInt8] = []
        for byte in text.utf8 {
            if SPDXIdentifier.isIDStringByte(byte) {
                result.append(byte)
            } else if result.last != UInt8(ascii: "-") {
                result.append(UInt8(ascii: "-"))
            }
        }
        while result.first == UInt8(ascii: "-") { result.removeFirst() }
        while result.last == UInt8(ascii: "-") { result.removeLast() }
        return "LicenseRef-" + (result.isEmpty ? "unnamed" : String(decoding: result, as: UTF8.self))
    }
}

extension String {
    func trimmingSPDXWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
