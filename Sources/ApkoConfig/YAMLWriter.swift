/// A value to print as YAML: mappings keep their order, so output is deterministic.
indirect enum YAMLValue {
    case string(String)
    case integer(Int)
    case octal(UInt32)
    case bool(Bool)
    case list([YAMLValue])
    case mapping([(String, YAMLValue)])

    var isEmptyCollection: Bool {
        switch self {
        case .list(let items): return items.isEmpty
        case .mapping(let pairs): return pairs.isEmpty
        default: return false
        }
    }
}

/// Block-style YAML with two-space indentation. Strings are plain only when the composer reads
/// them back as the same string (never as null, a bool, a number or a merge key); otherwise they are
/// double-quoted, or a literal block when they span lines.
enum YAMLWriter {
    static func document(_ pairs: [(String, YAMLValue)]) -> String {
        var output = ""
        writeMapping(pairs, indent: 0, into: &output)
        return output
    }

    private static func writeMapping(_ pairs: [(String, YAMLValue)], indent: Int, into output: inout String) {
        let padding = String(repeating: " ", count: indent)
        for (key, value) in pairs where !value.isEmptyCollection {
            output += padding + scalar(key) + ":"
            writeValue(value, indent: indent, into: &output)
        }
    }

    /// Writes what follows `key:` (or `- `): inline for scalars, on following lines for collections.
    private static func writeValue(_ value: YAMLValue, indent: Int, into output: inout String) {
        switch value {
        case .list(let items):
            output += "\n"
            let padding = String(repeating: " ", count: indent + 2)
            for item in items {
                output += padding + "-"
                switch item {
                case .mapping(let pairs) where !pairs.isEmpty:
                    var nested = ""
                    writeMapping(pairs, indent: indent + 4, into: &nested)
                    // The first key shares the line with the dash.
                    output += nested.isEmpty ? " {}\n" : " " + nested.dropFirst(indent + 4)
                default:
                    writeValue(item, indent: indent + 2, into: &output)
                }
            }
        case .mapping(let pairs):
            output += "\n"
            writeMapping(pairs, indent: indent + 2, into: &output)
        case .string(let text):
            if let block = literalBlock(text, indent: indent + 2) {
                output += " " + block
            } else {
                output += " " + scalar(text) + "\n"
            }
        case .integer(let number):
            output += " \(number)\n"
        case .octal(let mode):
            output += " 0o\(String(mode, radix: 8))\n"
        case .bool(let flag):
            output += flag ? " true\n" : " false\n"
        }
    }

    /// `|`, `|-` or `|+` followed by the indented lines, for text with line breaks that a literal
    /// block reproduces exactly; nil when it would not.
    private static func literalBlock(_ text: String, indent: Int) -> String? {
        guard text.contains("\n") else { return nil }
        var body = Substring(text)
        var trailingNewlines = 0
        while body.last == "\n" {
            body = body.dropLast()
            trailingNewlines += 1
        }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, !first.isEmpty, first.first != " ", first.first != "\t" else { return nil }
        for line in lines {
            if line.last == " " || line.last == "\t" { return nil }
            if line.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F || $0 == "\u{FEFF}" }) {
                return nil
            }
        }
        let header = trailingNewlines == 0 ? "|-" : (trailingNewlines == 1 ? "|" : "|+")
        let padding = String(repeating: " ", count: indent)
        var block = header + "\n"
        for line in lines {
            block += line.isEmpty ? "\n" : padding + line + "\n"
        }
        block += String(repeating: "\n", count: max(0, trailingNewlines - 1))
        return block
    }

    /// A one-line scalar: plain when safe, double-quoted otherwise.
    static func scalar(_ text: String) -> String {
        isPlainSafe(text) ? text : doubleQuoted(text)
    }

    private static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last else { return false }
        if first == " " || last == " " || last == ":" { return false }
        if "-?:,[]{}#&*!|>'\"%@`".contains(first) { return false }
        if text.contains(": ") || text.contains(" #") || text == "<<" { return false }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x85 || $0 == "\u{FEFF}" || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            return false
        }
        let plain = YAMLScalar(text: text, style: .plain)
        if plain.isNull || plain.bool != nil || plain.number != nil { return false }
        return true
    }

    private static func doubleQuoted(_ text: String) -> String {
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
                    result += "\\x" + hex(UInt8(scalar.value))
                } else if scalar.value == 0x85 || scalar.value == 0xFEFF || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let digits = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
