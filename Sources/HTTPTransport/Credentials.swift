import Foundation

/// A user name and password for HTTP basic authentication.
public struct BasicCredentials: Sendable, Hashable {
    /// The user name.
    public var user: String
    /// The password (may be empty: a lone token in the userinfo is sent as the user name).
    public var password: String

    /// Credentials for `user` with `password`.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The `Authorization` header value: `Basic base64(user:password)`.
    public var authorizationHeader: String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}

/// An `http(s)://` URL taken apart around its userinfo, so that the URL can be shown, hashed and
/// recorded without its credentials and the credentials sent as a header instead.
///
/// `https://user:pass@host/path` has `url` `https://host/path` and credentials `user`/`pass`.
/// Userinfo is percent-decoded, as URL parsers do.
public struct CredentialedURL: Sendable, Hashable, CustomStringConvertible {
    /// The URL without userinfo.
    public var url: String
    /// The userinfo, when the URL had one.
    public var credentials: BasicCredentials?

    /// Splits `text`; a string without `scheme://` is kept whole with no credentials.
    public init(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else {
            url = text
            credentials = nil
            return
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else {
            url = text
            credentials = nil
            return
        }
        let userinfo = authority[..<at]
        url = String(text[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
        if let colon = userinfo.firstIndex(of: ":") {
            credentials = BasicCredentials(user: percentDecoded(userinfo[..<colon]),
                                           password: percentDecoded(userinfo[userinfo.index(after: colon)...]))
        } else {
            credentials = BasicCredentials(user: percentDecoded(userinfo), password: "")
        }
    }

    /// The host (without port), lowercased; empty when there is none.
    public var host: String { hostName(of: url) }

    /// The URL with the user name kept and the password hidden (`https://user:xxxxx@host/…`), or
    /// a lone token hidden (`https://xxxxx@host/…`): what messages show.
    public var description: String {
        guard let credentials, let schemeEnd = url.range(of: "://") else { return url }
        let shown = credentials.password.isEmpty ? "xxxxx" : "\(credentials.user):xxxxx"
        return String(url[..<schemeEnd.upperBound]) + shown + "@" + String(url[schemeEnd.upperBound...])
    }
}

/// `HTTP_AUTH=basic:HOST:USER:PASS` (apko's variable): basic credentials sent to one host.
public struct HTTPAuthentication: Sendable, Hashable {
    /// The host the credentials are for (lowercased, no port).
    public var host: String
    /// The credentials.
    public var credentials: BasicCredentials

    /// Credentials for `host`.
    public init(host: String, credentials: BasicCredentials) {
        self.host = host.lowercased()
        self.credentials = credentials
    }

    /// Parses the value of `HTTP_AUTH`. The password is everything after the third colon, so it
    /// may itself contain colons.
    public init(parsing text: String) throws(HTTPTransportError) {
        let parts = text.split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].lowercased() == "basic", !parts[1].isEmpty, !parts[2].isEmpty else {
            throw HTTPTransportError(.authentication, "HTTP_AUTH must be basic:HOST:USER:PASSWORD (only basic authentication is supported)")
        }
        self.init(host: String(parts[1]), credentials: BasicCredentials(user: String(parts[2]), password: String(parts[3])))
    }
}

/// The host part of `scheme://[userinfo@]host[:port]/…`, lowercased; IPv6 literals keep their brackets.
func hostName(of url: String) -> String {
    guard let schemeEnd = url.range(of: "://") else { return "" }
    let rest = url[schemeEnd.upperBound...]
    var authority = rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex)]
    if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
    if authority.hasPrefix("[") {
        if let close = authority.firstIndex(of: "]") { return authority[...close].lowercased() }
        return authority.lowercased()
    }
    if let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
    return authority.lowercased()
}

/// `%XX` sequences decoded as UTF-8; anything malformed is kept as written.
func percentDecoded(_ text: Substring) -> String {
    String(text).removingPercentEncoding ?? String(text)
}
