/// Reads values out of ``YAMLNode``s the way yaml.v3 decodes them into apko's Go structs, strictly:
/// every mistake becomes a ``ConfigError`` at the node's position, naming the field by its path
/// (`accounts.users[0].uid`).
struct NodeDecoder {
    let file: String

    func error(_ kind: ConfigError.Kind, _ message: String, at node: YAMLNode) -> ConfigError {
        ConfigError(kind, message, file: file, line: node.line, column: node.column)
    }

    func location(of node: YAMLNode) -> SourcePosition {
        SourcePosition(file: file, line: node.line, column: node.column)
    }

    func location(ofKey pair: YAMLPair) -> SourcePosition {
        SourcePosition(file: file, line: pair.keyLine, column: pair.keyColumn)
    }

    /// An error from a parser that has no position (repositories, packages, shell words), placed.
    func relocate(_ error: Error, at node: YAMLNode, field: String) -> ConfigError {
        guard var configError = error as? ConfigError else {
            return self.error(.invalidValue, "\(field): \(error)", at: node)
        }
        configError.file = file
        configError.line = node.line
        configError.column = node.column
        configError.message = "\(field): \(configError.message)"
        return configError
    }

    /// The pairs of a mapping whose keys must all be in `keys`; null reads as an empty mapping.
    /// An unknown key is reported with the closest valid key, or with the section it belongs in.
    func fields(of node: YAMLNode, path: String, keys: [String]) throws -> [YAMLPair] {
        switch node.content {
        case .scalar where node.isNull:
            return []
        case .mapping(let pairs):
            for pair in pairs where !keys.contains(pair.key) {
                throw ConfigError(.unknownKey, unknownKeyMessage(pair.key, path: path, keys: keys),
                                  file: file, line: pair.keyLine, column: pair.keyColumn)
            }
            return pairs
        default:
            throw error(.wrongType, "\(path.isEmpty ? "the config" : path) must be a mapping of keys to values, not \(node.kindDescription)", at: node)
        }
    }

    private func unknownKeyMessage(_ key: String, path: String, keys: [String]) -> String {
        let place = path.isEmpty ? "the top level" : path
        var message = "unknown key \(quoted(key)) in \(place)"
        if path.isEmpty, let note = ConfigSchema.removedTopLevel[key] {
            message += " (\(note))"
        } else if let section = ConfigSchema.section(holding: key), section != place {
            message += section == "the top level" ? " (it belongs at the top level)" : " (it belongs under \(quoted(section)))"
        } else if let suggestion = closestKey(to: key, among: keys) {
            message += " (did you mean \(quoted(suggestion))?)"
        }
        return message
    }

    /// A string field: any scalar reads as its text (yaml.v3 turns `65532` into "65532"); null is nil.
    func string(_ node: YAMLNode, path: String) throws -> String? {
        guard case .scalar(let scalar) = node.content else {
            throw error(.wrongType, "\(path) must be a string, not \(node.kindDescription)", at: node)
        }
        return scalar.isNull ? nil : scalar.text
    }

    /// A list; null is empty. A single scalar where a list belongs gets a hint to write it as a list.
    func list(_ node: YAMLNode, path: String) throws -> [YAMLNode] {
        switch node.content {
        case .sequence(let items):
            return items
        case .scalar where node.isNull:
            return []
        case .scalar(let scalar):
            throw error(.wrongType, "\(path) must be a list, not \(node.kindDescription); write it as a list item: \"- \(scalar.text)\"", at: node)
        case .mapping:
            throw error(.wrongType, "\(path) must be a list, not a mapping", at: node)
        }
    }

    /// A list of strings, each with its node (for positions).
    func stringList(_ node: YAMLNode, path: String) throws -> [(value: String, node: YAMLNode)] {
        var result: [(String, YAMLNode)] = []
        for (index, item) in try list(node, path: path).enumerated() {
            guard let value = try string(item, path: "\(path)[\(index)]") else {
                throw error(.wrongType, "\(path)[\(index)] is empty (null); remove it or write a value", at: item)
            }
            result.append((value, item))
        }
        return result
    }

    /// A mapping of strings to strings (`environment`, `annotations`, `services`); null values read
    /// as empty strings, as yaml.v3 leaves them.
    func stringMap(_ node: YAMLNode, path: String) throws -> [(key: String, value: String, pair: YAMLPair)] {
        switch node.content {
        case .scalar where node.isNull:
            return []
        case .mapping(let pairs):
            return try pairs.map { pair in
                (pair.key, try string(pair.value, path: "\(path).\(pair.key)") ?? "", pair)
            }
        default:
            throw error(.wrongType, "\(path) must be a mapping of names to strings, not \(node.kindDescription)", at: node)
        }
    }

    /// An unsigned 32-bit field (uids, gids, modes); null is nil.
    func uint32(_ node: YAMLNode, path: String) throws -> UInt32? {
        guard let value = try integer(node, path: path, range: 0...Int64(UInt32.max), what: "a whole number from 0 to 4294967295") else {
            return nil
        }
        return UInt32(value)
    }

    /// A Go `int` field; null is nil.
    func int(_ node: YAMLNode, path: String) throws -> Int? {
        try integer(node, path: path, range: Int64.min...Int64.max, what: "a whole number").map { Int($0) }
    }

    private func integer(_ node: YAMLNode, path: String, range: ClosedRange<Int64>, what: String) throws -> Int64? {
        guard case .scalar(let scalar) = node.content else {
            throw error(.wrongType, "\(path) must be \(what), not \(node.kindDescription)", at: node)
        }
        if scalar.isNull { return nil }
        let value: Int64?
        switch scalar.number {
        case .integer(let negative, let magnitude)?:
            if negative {
                value = magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : (magnitude == UInt64(Int64.max) + 1 ? Int64.min : nil)
            } else {
                value = magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
            }
        case .float(let double)?:
            // yaml.v3 stores an integral float (1e3, 1000.0) in an integer field; a fraction is a mistake.
            value = double.rounded() == double && abs(double) < 9.0e18 ? Int64(double) : nil
            if value == nil {
                throw error(.wrongType, "\(path) must be \(what), not \(scalar.text)", at: node)
            }
        case nil:
            let hint = scalar.style == .quoted && YAMLScalar(text: scalar.text, style: .plain).number != nil
                ? " (remove the quotes)" : ""
            throw error(.wrongType, "\(path) must be \(what), not \(node.kindDescription)\(hint)", at: node)
        }
        guard let value, range.contains(value) else {
            throw error(.invalidValue, "\(path) must be \(what), not \(scalar.text)", at: node)
        }
        return value
    }

    /// A boolean field; null is nil.
    func bool(_ node: YAMLNode, path: String) throws -> Bool? {
        guard case .scalar(let scalar) = node.content else {
            throw error(.wrongType, "\(path) must be true or false, not \(node.kindDescription)", at: node)
        }
        if scalar.isNull { return nil }
        guard let value = scalar.bool else {
            throw error(.wrongType, "\(path) must be true or false, not \(node.kindDescription)", at: node)
        }
        return value
    }

    /// One of a fixed set of strings; null is nil.
    func choice<Value: RawRepresentable & CaseIterable>(_ node: YAMLNode, path: String, as type: Value.Type) throws -> Value?
    where Value.RawValue == String {
        guard let text = try string(node, path: path), !text.isEmpty else { return nil }
        if let value = Value(rawValue: text) { return value }
        let allowed = Value.allCases.map { quoted($0.rawValue) }
        var message = "\(path) is \(quoted(text)), which is not one of \(allowed.joined(separator: ", "))"
        if let suggestion = closestKey(to: text, among: Value.allCases.map(\.rawValue)) {
            message += " (did you mean \(quoted(suggestion))?)"
        }
        throw error(.invalidValue, message, at: node)
    }
}

/// The valid key closest to a mistyped one: same letters ignoring case, `-` and `_`, or within a
/// small edit distance. nil when nothing is close enough to be a plausible typo.
func closestKey(to key: String, among keys: [String]) -> String? {
    func normalised(_ text: String) -> [Character] {
        Array(text.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " })
    }
    let typed = normalised(key)
    if let exact = keys.first(where: { normalised($0) == typed }) { return exact }
    var best: (key: String, distance: Int)?
    for candidate in keys {
        let distance = editDistance(typed, normalised(candidate))
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    guard let best else { return nil }
    let allowance = max(1, min(3, max(typed.count, best.key.count) / 3))
    return best.distance <= allowance ? best.key : nil
}

/// Damerau–Levenshtein distance (adjacent swaps count once: "wrok" → "work" is 1).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previousPrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], previousPrevious[j - 2] + 1)
            }
        }
        previousPrevious = previous
        previous = current
    }
    return previous[b.count]
}
