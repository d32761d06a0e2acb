import SBOM

/// The JSON this module writes by hand and reads strictly.
///
/// The documents that get signed (the simple-signing payload, the in-toto statement, the DSSE
/// envelope) are written in the key order of the Go structs cosign marshals, compact, so they
/// read like cosign's own. Reading goes through the SBOM module's parser, which refuses
/// duplicate keys and trailing data the way containers/image's paranoid decoder does.
enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// `/` and non-ASCII left as they are (as Go writes them, minus its HTML escaping).
    static func string(_ text: String) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): output += Array("\\\\".utf8)
            case 0x0A: output += Array("\\n".utf8)
            case 0x0D: output += Array("\\r".utf8)
            case 0x09: output += Array("\\t".utf8)
            case 0x00..<0x20:
                output += Array("\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
        return output
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Parses one JSON text strictly; `what` names the document in errors of kind `kind`.
    static func parse(_ bytes: [UInt8], as what: String, kind: SigningError.Kind) throws(SigningError) -> JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw SigningError(kind, "\(what) is not valid JSON: \(error.message)")
        }
    }

    /// `bytes` (already known to be valid JSON) without the whitespace between tokens. Strings
    /// are copied byte for byte, so escapes and numbers keep their exact spelling.
    static func compact(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                output.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                continue
            case UInt8(ascii: "\""):
                inString = true
                output.append(byte)
            default:
                output.append(byte)
            }
        }
        return output
    }
}

/// Field access on parsed JSON objects with one-line errors naming the field's path.
struct JSONObject {
    let members: [String: JSONValue]
    /// The path of this object in the document (`critical.image`), for messages.
    let path: String
    let kind: SigningError.Kind

    /// `value` as an object, or an error naming `path`.
    init(_ value: JSONValue, path: String, kind: SigningError.Kind) throws(SigningError) {
        guard let members = value.objectValue else {
            throw SigningError(kind, "\(path.isEmpty ? "the document" : path) is not a JSON object")
        }
        self.members = members
        self.path = path
        self.kind = kind
    }

    /// The path of member `key`.
    func pathOf(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// Refuses members other than `allowed` and requires every one of `allowed`, as
    /// containers/image's `ParanoidUnmarshalJSONObjectExactFields` does.
    func requireExactly(_ allowed: Set<String>) throws(SigningError) {
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw SigningError(kind, "unknown key \"\(unknown)\" in \(path.isEmpty ? "the document" : path)")
        }
        if let missing = allowed.sorted().first(where: { members[$0] == nil }) {
            throw SigningError(kind, "key \"\(pathOf(missing))\" is missing")
        }
    }

    /// Member `key`, which must be present.
    func value(_ key: String) throws(SigningError) -> JSONValue {
        guard let value = members[key] else { throw SigningError(kind, "key \"\(pathOf(key))\" is missing") }
        return value
    }

    /// Member `key` as a string.
    func string(_ key: String) throws(SigningError) -> String {
        guard let text = try value(key).stringValue else {
            throw SigningError(kind, "\"\(pathOf(key))\" is not a string")
        }
        return text
    }

    /// Member `key` as an object.
    func object(_ key: String) throws(SigningError) -> JSONObject {
        try JSONObject(try value(key), path: pathOf(key), kind: kind)
    }

    /// Member `key` as an array.
    func array(_ key: String) throws(SigningError) -> [JSONValue] {
        guard let elements = try value(key).arrayValue else {
            throw SigningError(kind, "\"\(pathOf(key))\" is not an array")
        }
        return elements
    }
}
