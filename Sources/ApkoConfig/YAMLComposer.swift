internal import CYaml

/// Caps that keep hostile input from costing more than a bounded amount of time and memory.
struct YAMLLimits: Sendable {
    /// The largest accepted input, in bytes.
    var maxBytes: Int
    /// The most nodes the document may have once every alias is expanded (billion laughs).
    var maxNodes: Int
    /// The deepest nesting of lists and mappings.
    var maxDepth: Int

    /// Limits for an apko.yaml: configs are a few kilobytes; 4 MiB leaves room for inline keys
    /// and certificates while refusing files that are plainly not configs.
    static let config = YAMLLimits(maxBytes: 4 << 20, maxNodes: 200_000, maxDepth: 64)
    /// Limits for an apko.lock.json: about 20 nodes per package and architecture.
    static let lockfile = YAMLLimits(maxBytes: 64 << 20, maxNodes: 4_000_000, maxDepth: 16)
}

/// Turns bytes into a ``YAMLNode`` tree with positions, refusing everything apko's yaml.v3 would
/// refuse and the hostile inputs it would choke on.
///
/// This composes libyaml's event stream itself (libyaml comes with Yams) instead of calling
/// `Yams.compose`: Yams' composer recurses once per nesting level, and it hashes every mapping key
/// to find duplicates, so a key that is an alias of an alias bomb never returns. Here keys must be
/// scalars, aliases are expanded against a node budget, nesting is capped, and a duplicate key is
/// reported at its second occurrence together with the first.
enum YAMLComposer {
    /// Composes the single document in `input`. Returns nil when there is no document at all
    /// (an empty file, or only comments).
    static func compose(_ input: [UInt8], file: String, limits: YAMLLimits) throws -> YAMLNode? {
        if input.count > limits.maxBytes {
            throw ConfigError(.tooLarge, "the file is \(input.count) bytes; the limit is \(limits.maxBytes) bytes", file: file)
        }
        if input.starts(with: [0xFF, 0xFE]) || input.starts(with: [0xFE, 0xFF]) {
            throw ConfigError(.encoding, "the file is UTF-16; save it as UTF-8", file: file)
        }
        var bytes = input
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes.removeFirst(3)
        }
        let text = TextPositions(bytes)
        if let offset = firstInvalidUTF8Offset(bytes) {
            let position = text.position(ofByte: offset)
            throw ConfigError(.encoding, "the file is not UTF-8 text: invalid byte 0x\(hex(bytes[offset]))",
                              file: file, line: position.line, column: position.column)
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) {
            return nil
        }
        var composer = Composer(file: file, text: text, limits: limits)
        return try composer.run(bytes)
    }
}

/// The position of every line start, to turn byte offsets into line:column.
struct TextPositions {
    let bytes: [UInt8]
    private let lineStarts: [Int]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            starts.append(index + 1)
        }
        lineStarts = starts
    }

    /// 1-based line and character column of a byte offset.
    func position(ofByte offset: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        let start = lineStarts[low]
        let characters = bytes[start..<min(offset, bytes.count)].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        return (low + 1, characters + 1)
    }

    /// The text of a 1-based line, without its line break.
    func line(_ number: Int) -> Substring {
        guard number >= 1, number <= lineStarts.count else { return "" }
        let start = lineStarts[number - 1]
        let end = number < lineStarts.count ? lineStarts[number] - 1 : bytes.count
        return Substring(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    /// The character at a 1-based line and column, nil past the end of the line.
    func character(line number: Int, column: Int) -> Character? {
        let text = line(number)
        guard column >= 1, column <= text.count else { return nil }
        return text[text.index(text.startIndex, offsetBy: column - 1)]
    }
}

/// The offset of the first byte that does not belong to a well-formed UTF-8 sequence.
func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
    var index = 0
    let count = bytes.count
    while index < count {
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            continue
        }
        let length: Int
        var lowest: UInt8 = 0x80
        var highest: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; highest = 0x9F
        case 0xF0: length = 4; lowest = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; highest = 0x8F
        default: return index
        }
        guard index + length <= count else { return index }
        let second = bytes[index + 1]
        guard second >= lowest && second <= highest else { return index }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            return index
        }
        index += length
    }
    return nil
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}

/// One libyaml event, copied out of C memory.
private struct Event {
    enum Kind {
        case streamStart, streamEnd, documentStart, documentEnd
        case alias(anchor: String)
        case scalar(anchor: String?, tag: String?, value: String, plain: Bool)
        case sequenceStart(anchor: String?, tag: String?)
        case sequenceEnd
        case mappingStart(anchor: String?, tag: String?)
        case mappingEnd
    }

    var kind: Kind
    var line: Int
    var column: Int
}

/// A collection being composed.
private struct Frame {
    enum Collection {
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    var collection: Collection
    var line: Int
    var column: Int
    var anchor: String?
    /// Nodes in this subtree, aliases expanded.
    var size = 1
    /// A mapping's key waiting for its value.
    var pendingKey: (text: String, line: Int, column: Int, isMerge: Bool)?
    /// Where each key of a mapping was first written.
    var seenKeys: [String: (line: Int, column: Int)] = [:]
    /// Values of `<<` keys, applied when the mapping ends.
    var merges: [YAMLNode] = []
}

private struct Composer {
    let file: String
    let text: TextPositions
    let limits: YAMLLimits
    private var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    private var frames: [Frame] = []
    private var totalNodes = 0

    init(file: String, text: TextPositions, limits: YAMLLimits) {
        self.file = file
        self.text = text
        self.limits = limits
    }

    mutating func run(_ bytes: [UInt8]) throws -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigError(.tooLarge, "out of memory while reading YAML", file: file)
        }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeBufferPointer { buffer -> YAMLNode? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var root: YAMLNode?
            var documents = 0
            while true {
                let event = try nextEvent(&parser)
                switch event.kind {
                case .streamStart, .documentEnd:
                    continue
                case .streamEnd:
                    return root
                case .documentStart:
                    documents += 1
                    if documents > 1 {
                        throw error(.syntax, "a second YAML document starts here; an apko config is a single document",
                                    line: event.line, column: event.column)
                    }
                    anchors.removeAll()
                default:
                    if let node = try consume(event) {
                        root = node
                    }
                }
            }
        }
    }

    private func error(_ kind: ConfigError.Kind, _ message: String, line: Int, column: Int) -> ConfigError {
        ConfigError(kind, message, file: file, line: line, column: column)
    }

    /// Feeds one node event to the frame stack; returns the root when it completes.
    private mutating func consume(_ event: Event) throws -> YAMLNode? {
        switch event.kind {
        case .scalar(let anchor, let tag, let value, let plain):
            try count(1, event)
            try checkScalarTag(tag, event)
            let scalar = YAMLScalar(text: value, style: plain ? .plain : .quoted,
                                    tag: tag == "!" ? YAMLScalar.strTag : tag)
            let node = YAMLNode(content: .scalar(scalar), line: event.line, column: event.column)
            if let anchor { anchors[anchor] = (node, 1) }
            return try deliver(node, size: 1, event: event)
        case .alias(let anchor):
            guard let target = anchors[anchor] else {
                throw error(.syntax, "alias *\(anchor) refers to no anchor &\(anchor) defined before it",
                            line: event.line, column: event.column)
            }
            try count(target.size, event)
            var node = target.node
            node.line = event.line
            node.column = event.column
            return try deliver(node, size: target.size, event: event)
        case .sequenceStart(let anchor, let tag), .mappingStart(let anchor, let tag):
            try checkCollectionTag(tag, event)
            if let top = frames.last, case .mapping = top.collection, top.pendingKey == nil {
                throw error(.syntax, "a list or a mapping cannot be a key; apko config keys are plain names",
                            line: event.line, column: event.column)
            }
            if frames.count >= limits.maxDepth {
                throw error(.tooLarge, "lists and mappings are nested more than \(limits.maxDepth) levels deep",
                            line: event.line, column: event.column)
            }
            try count(1, event)
            let isSequence: Bool
            if case .sequenceStart = event.kind { isSequence = true } else { isSequence = false }
            frames.append(Frame(collection: isSequence ? .sequence([]) : .mapping([]),
                                line: event.line, column: event.column, anchor: anchor))
            return nil
        case .sequenceEnd, .mappingEnd:
            var frame = frames.removeLast()
            let content: YAMLNode.Content
            switch frame.collection {
            case .sequence(let items):
                content = .sequence(items)
            case .mapping(var pairs):
                try applyMerges(&pairs, frame: &frame)
                content = .mapping(pairs)
            }
            let node = YAMLNode(content: content, line: frame.line, column: frame.column)
            if let anchor = frame.anchor { anchors[anchor] = (node, frame.size) }
            return try deliver(node, size: frame.size, event: event)
        case .streamStart, .streamEnd, .documentStart, .documentEnd:
            return nil
        }
    }

    private mutating func count(_ nodes: Int, _ event: Event) throws {
        totalNodes += nodes
        if totalNodes > limits.maxNodes {
            throw error(.tooLarge, "the document expands to more than \(limits.maxNodes) nodes through its aliases (an alias bomb?)",
                        line: event.line, column: event.column)
        }
    }

    /// Hands a finished node to the collection it belongs to, or returns it as the root.
    private mutating func deliver(_ node: YAMLNode, size: Int, event: Event) throws -> YAMLNode? {
        guard !frames.isEmpty else { return node }
        let top = frames.count - 1
        frames[top].size += size
        switch frames[top].collection {
        case .sequence(var items):
            frames[top].collection = .sequence([])
            items.append(node)
            frames[top].collection = .sequence(items)
        case .mapping(var pairs):
            if let key = frames[top].pendingKey {
                frames[top].pendingKey = nil
                if key.isMerge {
                    frames[top].merges.append(node)
                } else {
                    frames[top].collection = .mapping([])
                    pairs.append(YAMLPair(key: key.text, keyLine: key.line, keyColumn: key.column, value: node))
                    frames[top].collection = .mapping(pairs)
                }
                return nil
            }
            guard case .scalar(let scalar) = node.content else {
                throw error(.syntax, "a list or a mapping cannot be a key; apko config keys are plain names",
                            line: node.line, column: node.column)
            }
            let isMerge = scalar.tag == YAMLScalar.mergeTag || (scalar.style == .plain && scalar.tag == nil && scalar.text == "<<")
            if !isMerge {
                if let first = frames[top].seenKeys[scalar.text] {
                    throw error(.duplicateKey, "key \(quoted(scalar.text)) is already defined at line \(first.line), column \(first.column) of this mapping",
                                line: node.line, column: node.column)
                }
                frames[top].seenKeys[scalar.text] = (node.line, node.column)
            }
            frames[top].pendingKey = (scalar.text, node.line, node.column, isMerge)
        }
        return nil
    }

    /// `<<: *base` and `<<: [*a, *b]`: keys written in the mapping win, then earlier sources.
    private func applyMerges(_ pairs: inout [YAMLPair], frame: inout Frame) throws {
        guard !frame.merges.isEmpty else { return }
        var present = Set(pairs.map(\.key))
        for merge in frame.merges {
            let sources: [YAMLNode]
            switch merge.content {
            case .mapping: sources = [merge]
            case .sequence(let items): sources = items
            case .scalar:
                throw error(.syntax, "the merge key << needs a mapping or a list of mappings, not \(merge.kindDescription)",
                            line: merge.line, column: merge.column)
            }
            for source in sources {
                guard case .mapping(let sourcePairs) = source.content else {
                    throw error(.syntax, "the merge key << needs a mapping or a list of mappings, not \(source.kindDescription)",
                                line: source.line, column: source.column)
                }
                for pair in sourcePairs where !present.contains(pair.key) {
                    present.insert(pair.key)
                    pairs.append(pair)
                }
            }
        }
    }

    private func checkScalarTag(_ tag: String?, _ event: Event) throws {
        guard let tag, tag != "!" else { return }
        let allowed = [YAMLScalar.strTag, YAMLScalar.nullTag, YAMLScalar.boolTag, YAMLScalar.intTag,
                       YAMLScalar.floatTag, YAMLScalar.mergeTag]
        if !allowed.contains(tag) {
            throw error(.syntax, "the YAML tag \(displayTag(tag)) is not supported here; use !!str, !!int, !!bool or no tag",
                        line: event.line, column: event.column)
        }
    }

    private func checkCollectionTag(_ tag: String?, _ event: Event) throws {
        guard let tag, tag != "!", tag != "tag:yaml.org,2002:seq", tag != "tag:yaml.org,2002:map" else { return }
        throw error(.syntax, "the YAML tag \(displayTag(tag)) is not supported here",
                    line: event.line, column: event.column)
    }

    private func displayTag(_ tag: String) -> String {
        tag.hasPrefix("tag:yaml.org,2002:") ? "!!" + tag.dropFirst("tag:yaml.org,2002:".count) : tag
    }

    // MARK: libyaml

    private func nextEvent(_ parser: inout yaml_parser_t) throws -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else {
            throw syntaxError(parser)
        }
        defer { yaml_event_delete(&event) }
        let line = Int(event.start_mark.line) + 1
        let column = Int(event.start_mark.column) + 1
        let kind: Event.Kind
        switch event.type {
        case YAML_STREAM_START_EVENT: kind = .streamStart
        case YAML_STREAM_END_EVENT: kind = .streamEnd
        case YAML_DOCUMENT_START_EVENT: kind = .documentStart
        case YAML_DOCUMENT_END_EVENT: kind = .documentEnd
        case YAML_ALIAS_EVENT:
            kind = .alias(anchor: cString(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = scalar.value.map {
                String(decoding: UnsafeBufferPointer(start: $0, count: Int(scalar.length)), as: UTF8.self)
            } ?? ""
            kind = .scalar(anchor: cString(scalar.anchor), tag: cString(scalar.tag), value: value,
                           plain: scalar.style == YAML_PLAIN_SCALAR_STYLE)
        case YAML_SEQUENCE_START_EVENT:
            kind = .sequenceStart(anchor: cString(event.data.sequence_start.anchor),
                                  tag: cString(event.data.sequence_start.tag))
        case YAML_SEQUENCE_END_EVENT: kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            kind = .mappingStart(anchor: cString(event.data.mapping_start.anchor),
                                 tag: cString(event.data.mapping_start.tag))
        case YAML_MAPPING_END_EVENT: kind = .mappingEnd
        default:
            throw ConfigError(.syntax, "unexpected YAML event", file: file, line: line, column: column)
        }
        return Event(kind: kind, line: line, column: column)
    }

    private func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        var length = 0
        while pointer[length] != 0 { length += 1 }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// libyaml's problem, on one line, with a hint for the mistakes people make most.
    private func syntaxError(_ parser: yaml_parser_t) -> ConfigError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return ConfigError(.tooLarge, "out of memory while reading YAML", file: file)
        case YAML_READER_ERROR:
            let position = text.position(ofByte: Int(parser.problem_offset))
            var message = problem
            if parser.problem_value >= 0 {
                message += " (character U+\(String(parser.problem_value, radix: 16, uppercase: true)))"
            }
            return ConfigError(.encoding, message, file: file, line: position.line, column: position.column)
        default:
            let line = Int(parser.problem_mark.line) + 1
            let column = Int(parser.problem_mark.column) + 1
            if problem.hasPrefix("Maximum nesting level reached") {
                return ConfigError(.tooLarge, "lists and mappings are nested more than \(limits.maxDepth) levels deep",
                                   file: file, line: line, column: column)
            }
            let lineText = text.line(line)
            let leading = lineText.prefix(while: { $0 == " " || $0 == "\t" })
            if text.character(line: line, column: column) == "\t" || problem.contains("tab") {
                if leading.contains("\t") {
                    let tabColumn = (leading.firstIndex(of: "\t").map { leading.distance(from: leading.startIndex, to: $0) } ?? 0) + 1
                    return ConfigError(.syntax, "a tab character indents this line; YAML indents with spaces only",
                                       file: file, line: line, column: tabColumn)
                }
                return ConfigError(.syntax, "a tab character cannot start a YAML token here; use spaces",
                                   file: file, line: line, column: column)
            }
            var message = problem
            if let context = parser.context.map({ String(cString: $0) }) {
                let contextLine = Int(parser.context_mark.line) + 1
                let contextColumn = Int(parser.context_mark.column) + 1
                if contextLine == line && contextColumn == column {
                    message += " (\(context))"
                } else {
                    message += " (\(context) that starts at \(contextLine):\(contextColumn))"
                }
            }
            switch problem {
            case "mapping values are not allowed in this context":
                message += "; quote a value that contains \": \""
            case "did not find expected key", "did not find expected '-' indicator":
                message += "; check this line's indentation"
            case "could not find expected ':'":
                message += "; is a \":\" missing after a key?"
            default:
                break
            }
            return ConfigError(.syntax, message, file: file, line: line, column: column)
        }
    }
}
