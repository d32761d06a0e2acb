public import APK

/// apko's spelling of a world entry, `name[op version][@tag]` (the tag after the version), next to
/// apk-tools' own `name[@tag][op version]`, which is accepted too.
public enum PackageSpelling {
    /// Parses a `contents.packages` entry with the APK dependency parser. Throws a ``ConfigError``
    /// without a position (the caller adds it).
    public static func parse(_ text: String) throws -> Dependency {
        let operators: Set<Character> = ["=", "<", ">", "~"]
        var body = Substring(text)
        var suffixTag: Substring?
        if let opStart = body.firstIndex(where: { operators.contains($0) }),
           let at = body[opStart...].lastIndex(of: "@") {
            suffixTag = body[body.index(after: at)...]
            body = body[..<at]
        }
        var dependency: Dependency
        do {
            dependency = try Dependency(parsing: body)
        } catch let error as APKError {
            throw ConfigError(.invalidValue, "package \(quoted(text)): \(strippingPrefix(error.message))")
        }
        if let suffixTag {
            guard !suffixTag.isEmpty else {
                throw ConfigError(.invalidValue, "package \(quoted(text)): '@' is not followed by a repository tag")
            }
            guard dependency.tag == nil else {
                throw ConfigError(.invalidValue, "package \(quoted(text)) names two repository tags")
            }
            dependency.tag = String(suffixTag)
        }
        return dependency
    }

    /// apko's spelling: `[!]name[op version][@tag]`.
    public static func spelling(of dependency: Dependency) -> String {
        var text = dependency.isConflict ? "!" + dependency.name : dependency.name
        if let version = dependency.version { text += dependency.op.spelling + version }
        if let tag = dependency.tag { text += "@" + tag }
        return text
    }

    /// APK's messages start with "invalid dependency '…': "; the config message names the package itself.
    private static func strippingPrefix(_ message: String) -> String {
        guard message.hasPrefix("invalid dependency '"), let colon = message.firstRange(of: "': ") else {
            return message
        }
        return String(message[colon.upperBound...])
    }
}

/// Splits a command line into words as apko does (github.com/google/shlex): whitespace separates
/// words, single quotes are literal, double quotes and bare backslashes escape the next character,
/// and `#` at the start of a word comments out the rest of the line.
public enum ShellWords {
    /// The words of `text`; throws a ``ConfigError`` without a position for an unclosed quote or a
    /// trailing backslash (apko fails the build on those; Distill fails when loading).
    public static func split(_ text: String) throws -> [String] {
        enum State { case start, word, escaping, single, double, escapingInDouble, comment }
        var words: [String] = []
        var word = ""
        var state = State.start
        for character in text {
            let isSpace = character == " " || character == "\t" || character == "\n" || character == "\r"
            switch state {
            case .start:
                if isSpace { continue }
                switch character {
                case "'": state = .single
                case "\"": state = .double
                case "\\": state = .escaping
                case "#": state = .comment
                default: word.append(character); state = .word
                }
            case .word:
                if isSpace {
                    words.append(word); word = ""; state = .start
                    continue
                }
                switch character {
                case "'": state = .single
                case "\"": state = .double
                case "\\": state = .escaping
                default: word.append(character)
                }
            case .escaping:
                word.append(character); state = .word
            case .single:
                if character == "'" { state = .word } else { word.append(character) }
            case .double:
                switch character {
                case "\"": state = .word
                case "\\": state = .escapingInDouble
                default: word.append(character)
                }
            case .escapingInDouble:
                word.append(character); state = .double
            case .comment:
                if character == "\n" || character == "\r" { state = .start }
            }
        }
        switch state {
        case .single, .double, .escapingInDouble:
            throw ConfigError(.invalidValue, "\(quoted(text)) has a quote that is never closed")
        case .escaping:
            throw ConfigError(.invalidValue, "\(quoted(text)) ends with a backslash that escapes nothing")
        case .word:
            words.append(word)
        case .start, .comment:
            break
        }
        return words
    }
}
