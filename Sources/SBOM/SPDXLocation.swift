/// URLs for `downloadLocation` and `homepage`.
///
/// spdx-tools 0.8.5 accepts a URL only when its host looks like a public DNS name (letters,
/// digits and single `-`/`.` separators ending in an alphabetic top-level label): a local
/// repository (`/srv/repo`, `file://…`, `http://127.0.0.1:8080/…`, `http://localhost/…`) makes
/// `pyspdxtools -i` reject the whole document. Such locations are recorded as `NOASSERTION`
/// (and the repository goes into `sourceInfo`, free text, instead).
public enum SPDXLocation {
    private static let schemes = ["http", "https", "ftp", "sftp", "ssh", "git", "svn"]
    private static let vcsPrefixes = ["git+", "hg+", "svn+", "bzr+"]

    /// `url` without any `user:password@` part (an SBOM must never carry repository
    /// credentials), when it is a URL that SPDX validators accept; nil otherwise.
    public static func portableURL(_ url: String) -> String? {
        var rest = Substring(url)
        var vcsPrefix = ""
        if let prefix = vcsPrefixes.first(where: { rest.lowercased().hasPrefix($0) }) {
            vcsPrefix = String(rest.prefix(prefix.count))
            rest = rest.dropFirst(prefix.count)
        }
        guard let schemeEnd = rest.firstRange(of: "://") else { return nil }
        let scheme = rest[..<schemeEnd.lowerBound]
        guard schemes.contains(scheme.lowercased()) else { return nil }
        let afterScheme = rest[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        var authority = afterScheme[..<authorityEnd]
        let path = afterScheme[authorityEnd...]
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        var host = authority
        if let colon = authority.lastIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard (1...5).contains(port.count), port.allSatisfy(\.isASCIIDigit), let number = Int(port),
                  number <= 65535 else { return nil }
            host = authority[..<colon]
        }
        guard isPublicHostName(host) else { return nil }
        guard path.isEmpty || path.hasPrefix("/") else { return nil }
        guard !url.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" }) else { return nil }
        return vcsPrefix + scheme + "://" + authority + path
    }

    /// `url` with any `user:password@` removed from its authority; anything that is not
    /// `scheme://…` comes back unchanged.
    public static func withoutCredentials(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        guard let at = afterScheme[..<authorityEnd].lastIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + String(url[url.index(after: at)...])
    }

    /// Letters and digits in labels joined by single `-` or `.`, at least one `.`, and a last
    /// label that starts with two letters.
    static func isPublicHostName(_ host: Substring) -> Bool {
        let bytes = Array(host.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        var previousWasSeparator = false
        for byte in bytes {
            if isAlphanumeric(byte) {
                previousWasSeparator = false
            } else if byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") {
                if previousWasSeparator { return false }
                previousWasSeparator = true
            } else {
                return false
            }
        }
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")) else { return false }
        let topLevel = bytes[(dot + 1)...]
        return topLevel.count >= 2 && topLevel.prefix(2).allSatisfy(isLetter)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
