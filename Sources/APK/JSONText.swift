/// A small JSON value for the command line's machine-readable output, written the way the
/// project writes all JSON: keys sorted, two-space indentation, `/` not escaped, one trailing
/// newline.
enum JSONText {
    indirect enum Value {
        case string(String)
        case integer(Int64)
        case bool(Bool)
        case null
        case array([Value])
        case object([String: Value])

        static func optional(_ text: String?) -> Value { text.map(Value.string) ?? .null }
        static func optional<T: BinaryInteger>(_ number: T?) -> Value { number.map { .integer(Int64($0)) } ?? .null }
    }

    static func render(_ value: Value) -> String {
        var output = ""
        write(value, indent: 0, to: &output)
        return output + "\n"
    }

    private static func write(_ value: Value, indent: Int, to output: inout String) {
        let padding = String(repeating: " ", count: indent + 2)
        switch value {
        case .string(let text): output += quote(text)
        case .integer(let number): output += String(number)
        case .bool(let flag): output += flag ? "true" : "false"
        case .null: output += "null"
        case .array(let items):
            guard !items.isEmpty else { output += "[]"; return }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += padding
                write(item, indent: indent + 2, to: &output)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "]"
        case .object(let members):
            guard !members.isEmpty else { output += "{}"; return }
            output += "{\n"
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                output += padding + quote(key) + ": "
                write(members[key]!, indent: indent + 2, to: &output)
                output += index == keys.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: " ", count: indent) + "}"
        }
    }

    private static func quote(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
