/// A position in a config file, 1-based, columns counted in characters as editors show them.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it (the path given on the command line, or an include's path
    /// joined to the directory of the file that includes it).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, in characters.
    public var column: Int

    /// A position in `file`.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }
}

/// Everything ApkoConfig refuses: one line saying what is wrong and where, with a kind to match on.
///
/// `description` is `file:line:column: message` when the position is known, e.g.
/// `apko.yaml:12:5: unknown key "workdir" in the top level (did you mean "work-dir"?)`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; tests and callers match on this, not on the message.
    public enum Kind: String, Sendable, Equatable {
        /// Reading a file failed, or an include names a file that does not exist.
        case io
        /// A size cap was exceeded: the file, the expanded alias size, the nesting depth.
        case tooLarge
        /// The bytes are not UTF-8 text.
        case encoding
        /// The text is not YAML (or JSON): bad indentation, tabs, unclosed quotes, several documents.
        case syntax
        /// The same key twice in one mapping.
        case duplicateKey
        /// A key apko's schema does not have.
        case unknownKey
        /// A value of the wrong YAML type (a list where a string belongs, text where a number belongs).
        case wrongType
        /// A value of the right type that apko's rules refuse (uid 0, an unknown enum value, …).
        case invalidValue
        /// An include cycle, or an include that cannot be used.
        case include
        /// A command-line override (`--arch`, `--annotations`, `--build-date`, `SOURCE_DATE_EPOCH`).
        case override
        /// A lock file that was made from another config.
        case lockfile
    }

    /// The category, for matching.
    public var kind: Kind
    /// One line, no trailing period.
    public var message: String
    /// The file the problem is in, when it is in a file.
    public var file: String?
    /// Line and column, when known (then `file` is set too).
    public var line: Int?
    /// 1-based column in characters, when known.
    public var column: Int?

    /// An error with as much of its position as is known.
    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
        self.column = column
    }

    /// An error at a position.
    public init(_ kind: Kind, _ message: String, at location: SourcePosition) {
        self.init(kind, message, file: location.file, line: location.line, column: location.column)
    }

    /// Where the problem is, when the error points into a file.
    public var location: SourcePosition? {
        guard let file, let line, let column else { return nil }
        return SourcePosition(file: file, line: line, column: column)
    }

    /// `file:line:column: message`, or less when the position is not known.
    public var description: String {
        switch (file, line, column) {
        case let (file?, line?, column?): return "\(file):\(line):\(column): \(message)"
        case let (file?, line?, nil): return "\(file):\(line): \(message)"
        case let (file?, _, _): return "\(file): \(message)"
        default: return message
        }
    }
}
