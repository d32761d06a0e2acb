/// A composed YAML node with the position it came from. Aliases are already expanded (within the
/// composer's size cap) and merge keys (`<<`) applied, so decoding never sees either.
struct YAMLNode: Sendable {
    enum Content: Sendable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    var content: Content
    /// 1-based line.
    var line: Int
    /// 1-based column, in characters.
    var column: Int

    /// How the node is named in messages ("a string", "a list", "a mapping", "null").
    var kindDescription: String {
        switch content {
        case .scalar(let scalar):
            if scalar.isNull { return "null" }
            return "the scalar \(quoted(scalar.text))"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    var isNull: Bool {
        if case .scalar(let scalar) = content { return scalar.isNull }
        return false
    }
}

/// One key and value of a mapping; keys are always scalars (the composer refuses other keys).
struct YAMLPair: Sendable {
    var key: String
    var keyLine: Int
    var keyColumn: Int
    var value: YAMLNode
}

/// A scalar as written, with what is needed to resolve it the way yaml.v3 (apko's decoder) does.
struct YAMLScalar: Sendable {
    enum Style: Sendable {
        /// Unquoted: subject to null/bool/int/float resolution.
        case plain
        /// Single- or double-quoted, or a literal/folded block: always a string.
        case quoted
    }

    var text: String
    var style: Style
    /// The explicit tag in its long form (`tag:yaml.org,2002:str`), nil when untagged.
    var tag: String?

    static let strTag = "tag:yaml.org,2002:str"
    static let nullTag = "tag:yaml.org,2002:null"
    static let boolTag = "tag:yaml.org,2002:bool"
    static let intTag = "tag:yaml.org,2002:int"
    static let floatTag = "tag:yaml.org,2002:float"
    static let mergeTag = "tag:yaml.org,2002:merge"

    /// yaml.v3 resolves plain `~`, `null`, `Null`, `NULL` and the empty scalar to null.
    var isNull: Bool {
        if tag == Self.nullTag { return true }
        guard style == .plain, tag == nil else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// The value for a boolean field. yaml.v3 accepts its own booleans and, for bool fields only,
    /// YAML 1.1's `yes/no/on/off/y/n` in any of their three capitalisations — quoted or not.
    var bool: Bool? {
        switch text {
        case "true", "True", "TRUE": return style == .plain || tag == Self.boolTag ? true : yaml11Bool
        case "false", "False", "FALSE": return style == .plain || tag == Self.boolTag ? false : yaml11Bool
        default: return yaml11Bool
        }
    }

    private var yaml11Bool: Bool? {
        switch text {
        case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "n", "N", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    /// The numeric value of a plain (or `!!int`/`!!float` tagged) scalar, as yaml.v3 resolves it:
    /// underscores dropped, then Go's base-prefix rules (`0x`, `0o`, `0b`, and a leading `0`
    /// meaning octal, so `0755` is 493), then a decimal float.
    var number: YAMLNumber? {
        guard tag == nil ? style == .plain : (tag == Self.intTag || tag == Self.floatTag) else { return nil }
        let plain = text.replacingAll("_", with: "")
        if let integer = Self.parseGoInteger(plain) { return integer }
        if let value = Self.parseFloat(plain) { return .float(value) }
        return nil
    }

    /// Go's `strconv.ParseInt(s, 0, 64)` / `ParseUint` accepted forms, as sign and magnitude so
    /// both the int64 and the uint64 range fit.
    static func parseGoInteger(_ text: String) -> YAMLNumber? {
        var digits = Substring(text)
        var negative = false
        if let first = digits.first, first == "+" || first == "-" {
            negative = first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var radix: UInt64 = 10
        let lower = digits.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16; digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8; digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2; digits = digits.dropFirst(2)
        } else if digits.count > 1, digits.first == "0" {
            radix = 8; digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for character in digits {
            guard let digit = character.hexDigitValue, UInt64(digit) < radix else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: radix)
            let (sum, overflow2) = shifted.addingReportingOverflow(UInt64(digit))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        if negative && value > UInt64(Int64.max) + 1 { return nil }
        return .integer(negative: negative && value != 0, magnitude: value)
    }

    /// yaml.v3's float form: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, plus `.inf`/`.nan`.
    static func parseFloat(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        var bytes = Substring(text).utf8[...]
        if let first = bytes.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            bytes = bytes.dropFirst()
        }
        let isDigit: (UInt8) -> Bool = { $0 >= 48 && $0 <= 57 }
        let mantissaEnd = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) ?? bytes.endIndex
        let mantissa = bytes[..<mantissaEnd]
        let parts = mantissa.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard !parts[0].isEmpty, parts[0].allSatisfy(isDigit) else { return nil }
        case 2:
            guard parts[0].allSatisfy(isDigit), parts[1].allSatisfy(isDigit),
                  !(parts[0].isEmpty && parts[1].isEmpty) else { return nil }
        default:
            return nil
        }
        if mantissaEnd != bytes.endIndex {
            var exponent = bytes[bytes.index(after: mantissaEnd)...]
            if let sign = exponent.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponent = exponent.dropFirst()
            }
            guard !exponent.isEmpty, exponent.allSatisfy(isDigit) else { return nil }
        }
        return Double(text)
    }
}

/// A resolved YAML number.
enum YAMLNumber: Sendable, Equatable {
    case integer(negative: Bool, magnitude: UInt64)
    case float(Double)
}

extension String {
    /// Every occurrence of `target` replaced, without Foundation.
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}

/// `"text"` with quotes and control characters escaped, for messages.
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
