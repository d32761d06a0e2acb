import Foundation
import HTTPTransport

/// Where repository or keyring bytes live: a local file or directory, or an `http(s)://` URL.
public enum SourceLocation: Sendable, Hashable {
    /// A local path, relative to the working directory unless absolute (a `file://` URL becomes
    /// its path). Read in place: never copied into the cache.
    case local(path: String)
    /// An `http(s)://` URL without its userinfo, fetched through the cache.
    case remote(url: String)

    /// Classifies `text`: `http://`/`https://` is remote, `file://` and anything without a
    /// scheme is local; any other scheme is refused.
    static func parse(_ text: String, what: String) throws(RepositoryError) -> (SourceLocation, BasicCredentials?) {
        let lower = text.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            let split = CredentialedURL(text)
            guard !split.host.isEmpty else {
                throw RepositoryError(.invalidLocation, "\(what) URL has no host", source: split.description)
            }
            return (.remote(url: split.url), split.credentials)
        }
        if lower.hasPrefix("file://") {
            var path = Substring(text.dropFirst("file://".count))
            if path.lowercased().hasPrefix("localhost/") { path = path.dropFirst("localhost".count) }
            guard path.hasPrefix("/") else {
                throw RepositoryError(.invalidLocation, "a file:// \(what) URL must name an absolute path (file:///path)", source: text)
            }
            return (.local(path: path.removingPercentEncodingIfValid), nil)
        }
        if let scheme = text.range(of: "://") {
            throw RepositoryError(.invalidLocation, "\(what) uses the unsupported scheme \"\(text[..<scheme.lowerBound])://\"; use https://, http://, file:// or a local path",
                                  source: CredentialedURL(text).description)
        }
        guard !text.isEmpty else { throw RepositoryError(.invalidLocation, "empty \(what)") }
        return (.local(path: text), nil)
    }
}

/// One repository as configured (`URL`, `@tag URL` or a local directory), able to say where its
/// index and packages are for an architecture: `<location>/<apk arch>/APKINDEX.tar.gz` and
/// `<location>/<apk arch>/<name>-<version>.apk`.
///
/// URLs keep the configured spelling (so locks and `show-packages` print what the config says)
/// minus any userinfo: credentials are sent as a header, never recorded or shown.
public struct RepositorySource: Sendable, Hashable, CustomStringConvertible {
    /// `@tag`: only packages asked for as `name@tag` (and their dependencies) come from here.
    public let tag: String?
    /// The location as written, without trailing slashes and without userinfo.
    public let base: String
    /// Where the bytes are.
    public let location: SourceLocation
    /// Basic credentials from the URL's userinfo, if it had one.
    public let credentials: BasicCredentials?

    /// A repository at `location` (a path, `file://`, `http://` or `https://` URL).
    public init(tag: String? = nil, location text: String) throws(RepositoryError) {
        var trimmed = Substring(text)
        while trimmed.count > 1 && trimmed.hasSuffix("/") && !trimmed.hasSuffix("://") { trimmed = trimmed.dropLast() }
        let (location, credentials) = try SourceLocation.parse(String(trimmed), what: "repository")
        self.tag = tag
        self.location = location
        self.credentials = credentials
        if case .remote(let url) = location { base = url } else { base = String(trimmed) }
    }

    /// Whether the repository is fetched over HTTP(S).
    public var isRemote: Bool {
        if case .remote = location { return true }
        return false
    }

    /// `<base>/<arch>`: what apko's lock calls the repository (before removing the scheme).
    public func architectureURL(_ architecture: String) -> String {
        "\(base)/\(architecture)"
    }

    /// The index URL (or path) for `architecture`.
    public func indexURL(architecture: String) -> String {
        "\(base)/\(architecture)/APKINDEX.tar.gz"
    }

    /// The package URL (or path) of `fileName` (`name-version.apk`) for `architecture`.
    public func packageURL(architecture: String, fileName: String) -> String {
        "\(base)/\(architecture)/\(fileName)"
    }

    /// `@tag location`, or the location; credentials are never part of it.
    public var description: String {
        if let tag { return "@\(tag) \(base)" }
        return base
    }
}

extension String {
    /// The path a `file://` URL names: `%XX` decoded when the escapes are valid UTF-8.
    var removingPercentEncodingIfValid: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var input = Array(utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2,
               let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}

extension Substring {
    var removingPercentEncodingIfValid: String { String(self).removingPercentEncodingIfValid }
}
