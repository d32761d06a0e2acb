/// SPDX element identifiers (`SPDXRef-…`) and the text they are made from.
public enum SPDXIdentifier {
    /// Whether `byte` may appear in an SPDX `idstring`: ASCII letters, digits, `.` and `-`.
    public static func isIDStringByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    /// Whether `id` is a valid identifier of an element in this document: `SPDXRef-` followed by
    /// at least one idstring character and nothing else.
    public static func isValid(_ id: String) -> Bool {
        guard id.hasPrefix("SPDXRef-") else { return false }
        let rest = id.utf8.dropFirst("SPDXRef-".count)
        return !rest.isEmpty && rest.allSatisfy(isIDStringByte)
    }

    /// `text` made into an idstring the way apko's `stringToIdentifier` does it, so identifiers
    /// stay recognisable next to apko's: `:` becomes `-`, every other character outside
    /// the idstring set becomes `C` followed by its decimal code point (`libstdc++` →
    /// `libstdcC43C43`, `1.0_rc1` → `1.0C95rc1`). Different names rarely meet in the result;
    /// `SPDXIdentifierAllocator` settles the rare collision. An empty `text` becomes `C0`, so the result is never empty.
    public static func sanitize(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.isASCII, isIDStringByte(UInt8(scalar.value)) {
                result.unicodeScalars.append(scalar)
            } else if scalar == ":" {
                result += "-"
            } else {
                result += "C\(scalar.value)"
            }
        }
        return result.isEmpty ? "C0" : result
    }

    /// `SPDXRef-` + the sanitized parts joined with `-`.
    public static func make(_ parts: String...) -> String {
        "SPDXRef-" + parts.map(sanitize).joined(separator: "-")
    }
}

/// Hands out element identifiers that are unique within one document: the first element that
/// asks for an identifier gets it, later ones get `-2`, `-3`, … appended. Callers ask in a
/// deterministic order (install order, then layer order), so the result is reproducible.
struct SPDXIdentifierAllocator {
    private(set) var used: Set<String> = []

    /// Reserves `id` exactly (for identifiers copied from another document); false when taken.
    mutating func reserve(_ id: String) -> Bool {
        used.insert(id).inserted
    }

    /// `preferred`, or the first free `preferred-N`.
    mutating func allocate(_ preferred: String) -> String {
        if used.insert(preferred).inserted { return preferred }
        var suffix = 2
        while !used.insert("\(preferred)-\(suffix)").inserted { suffix += 1 }
        return "\(preferred)-\(suffix)"
    }
}
