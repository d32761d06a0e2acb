/// One entry of `repositories`, `build_repositories` or `runtime_repositories`: `URL`, `@tag URL`,
/// or a local directory. Repositories hold `<location>/<apk arch>/APKINDEX.tar.gz`.
///
/// `description` hides URL credentials (`https://user:xxxxx@host/…`); ``spelling`` keeps them, for
/// the places that must use them (fetching, `/etc/apk/repositories`).
public struct RepositoryReference: Sendable, Hashable, CustomStringConvertible {
    /// `@tag`: only packages pinned with `name@tag` come from this repository.
    public var tag: String?
    /// The URL or local path, without trailing slashes.
    public var location: String

    /// A repository at `location`, tagged or not.
    public init(tag: String? = nil, location: String) {
        self.tag = tag
        self.location = location
    }

    /// Parses the config spelling; throws a ``ConfigError`` without a position (the caller adds it).
    public init(parsing text: String) throws {
        var rest = Substring(text).drop(while: { $0 == " " })
        while rest.last == " " { rest = rest.dropLast() }
        var tag: String?
        if rest.first == "@" {
            guard let space = rest.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
                throw ConfigError(.invalidValue, "repository \(quoted(text)) has a tag but no URL; write \"@tag https://…\"")
            }
            let tagText = rest[rest.index(after: rest.startIndex)..<space]
            guard !tagText.isEmpty, tagText.allSatisfy(isTagCharacter) else {
                throw ConfigError(.invalidValue, "repository tag \(quoted("@" + tagText)) may only use letters, digits, '_', '-' and '.'")
            }
            tag = String(tagText)
            rest = rest[space...].drop(while: { $0 == " " || $0 == "\t" })
        }
        guard !rest.isEmpty else {
            throw ConfigError(.invalidValue, "empty repository")
        }
        if let bad = rest.first(where: { $0 == " " || $0 == "\t" || $0.isNewline }) {
            throw ConfigError(.invalidValue, "repository \(quoted(redactingCredentials(in: text))) contains \(bad == " " ? "a space" : "whitespace"); the only form with a space is \"@tag URL\"")
        }
        if let scheme = urlScheme(of: rest), !["http", "https", "file"].contains(scheme.lowercased()) {
            throw ConfigError(.invalidValue, "repository \(quoted(redactingCredentials(in: text))) uses the unsupported scheme \"\(scheme)://\"; use https://, http://, file:// or a local directory")
        }
        while rest.count > 1 && rest.last == "/" && !rest.hasSuffix("://") {
            rest = rest.dropLast()
        }
        self.tag = tag
        self.location = String(rest)
    }

    /// Whether the repository is fetched over HTTP(S) rather than read from disk.
    public var isRemote: Bool {
        guard let scheme = urlScheme(of: Substring(location))?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    /// The config spelling with credentials, for fetching and for `/etc/apk/repositories`.
    public var spelling: String {
        if let tag { return "@\(tag) \(location)" }
        return location
    }

    /// The config spelling with URL credentials hidden.
    public var description: String {
        redactingCredentials(in: spelling)
    }
}

private func isTagCharacter(_ character: Character) -> Bool {
    character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-" || character == ".")
}

/// The scheme of `scheme://…`, nil for paths.
func urlScheme(of text: Substring) -> Substring? {
    guard let separator = text.firstRange(of: "://") else { return nil }
    let scheme = text[..<separator.lowerBound]
    guard let first = scheme.first, first.isASCII, first.isLetter,
          scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") }) else {
        return nil
    }
    return scheme
}

/// Hides the userinfo of every URL in `text`: `user:password@` becomes `user:xxxxx@`, and a lone
/// `token@` becomes `xxxxx@` (a lone user name is usually a token). Applied to everything Distill
/// prints that came from a repository or keyring entry.
public func redactingCredentials(in text: String) -> String {
    var result = ""
    var rest = Substring(text)
    while let separator = rest.firstRange(of: "://") {
        result += rest[..<separator.upperBound]
        rest = rest[separator.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == " " }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            if let colon = userinfo.firstIndex(of: ":") {
                result += userinfo[..<colon] + ":xxxxx"
            } else {
                result += "xxxxx"
            }
            rest = rest[at...]
        }
    }
    return result + rest
}
