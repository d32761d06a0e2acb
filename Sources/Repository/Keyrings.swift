import APK
import HTTPTransport

/// One trusted key as loaded: its apk key name (the file name an index signature refers to),
/// its PEM bytes, and where it came from.
public struct KeyFile: Sendable, Hashable {
    /// The key name, e.g. `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`.
    public var name: String
    /// The PEM text as read.
    public var bytes: [UInt8]
    /// The keyring entry it came from (a path or a URL without credentials).
    public var source: String

    /// A key called `name` with `bytes`, loaded from `source`.
    public init(name: String, bytes: [UInt8], source: String) {
        self.name = name
        self.bytes = bytes
        self.source = source
    }
}

/// The keys of a config's `keyring:` entries: the ``Keyring`` that verifies indexes, and the
/// files themselves (the image's `/etc/apk/keys` needs their bytes).
public struct LoadedKeyring: Sendable {
    /// The keys by name, for verification.
    public var keyring: Keyring
    /// Every key file, in entry order (a directory's keys in name order); a later file with the
    /// same name replaces an earlier one in ``keyring``, as copying both into one directory would.
    public var files: [KeyFile]

    /// A keyring from its parts.
    public init(keyring: Keyring = Keyring(), files: [KeyFile] = []) {
        self.keyring = keyring
        self.files = files
    }

    mutating func add(_ file: KeyFile) throws(RepositoryError) {
        do {
            keyring.add(try Keyring.publicKey(pem: file.bytes, source: file.source), named: file.name)
        } catch let error as APKError {
            throw RepositoryError(.keyring, error.message, source: file.source)
        } catch {
            throw RepositoryError(.keyring, "\(error)", source: file.source)
        }
        files.append(file)
    }
}

/// A keyring entry: a key file, a directory of `*.rsa.pub` files, or a key URL.
struct KeyringEntry {
    let text: String
    let location: SourceLocation
    let credentials: BasicCredentials?

    init(_ text: String) throws(RepositoryError) {
        self.text = text
        (location, credentials) = try SourceLocation.parse(text, what: "keyring entry")
    }

    /// The apk key name: the last path component, percent-decoded for URLs
    /// (`…/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub` is signed as `…@…`).
    var keyName: String {
        switch location {
        case .local(let path):
            return lastComponent(path)
        case .remote(let url):
            var path = Substring(url)
            if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
            return lastComponent(String(path)).removingPercentEncodingIfValid
        }
    }

    /// Where messages say the key came from (no credentials).
    var displayName: String {
        switch location {
        case .local(let path): return path
        case .remote(let url): return url
        }
    }
}

func lastComponent(_ path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    if let slash = trimmed.lastIndex(of: "/") { return String(trimmed[trimmed.index(after: slash)...]) }
    return String(trimmed)
}
