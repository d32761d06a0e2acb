import Foundation

/// A username and password (or token) for a registry.
public struct RegistryCredentials: Sendable, Hashable, CustomStringConvertible {
    /// The user name.
    public var username: String
    /// The password or access token.
    public var password: String

    /// Credentials for one registry.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The `Authorization: Basic` value.
    var basicAuthorization: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    /// The user name only; the password never appears in logs or errors.
    public var description: String { "\(username):***" }
}

/// Docker's client configuration file (`~/.docker/config.json`, or `$DOCKER_CONFIG/config.json`),
/// read for its `auths` section: per registry either `auth` (base64 of `user:password`) or
/// `username` and `password`.
///
/// Keys are matched by host: `https://ghcr.io`, `ghcr.io` and `ghcr.io/v2/` all name ghcr.io, and
/// Docker Hub's `https://index.docker.io/v1/` serves `docker.io`. Credential helpers (`credsStore`,
/// `credHelpers`) and OAuth `identitytoken`s are not supported: such an entry yields no credentials.
public struct DockerConfigFile: Sendable {
    /// Credentials by normalised registry host.
    public let credentials: [String: RegistryCredentials]

    /// The largest config file read.
    static let maximumSize = 1 << 20

    /// Reads the file at `path`; a missing file means no credentials.
    public init(path: String) throws(OCIError) {
        guard FileSystem.kind(of: path) != .missing else {
            self.init(credentials: [:])
            return
        }
        try self.init(bytes: try FileSystem.read(path, limit: Self.maximumSize), source: path)
    }

    /// Credentials given directly, keyed by registry (normalised here).
    public init(credentials: [String: RegistryCredentials]) {
        // Sorted first so that when two keys name the same host, the first in name order wins.
        self.credentials = Dictionary(credentials.sorted { $0.key < $1.key }.map { (Self.normalizedHost($0.key), $0.value) },
                                      uniquingKeysWith: { first, _ in first })
    }

    /// Parses a config file's bytes; `source` names it in errors.
    public init(bytes: [UInt8], source: String) throws(OCIError) {
        struct Entry: Decodable {
            let auth: String?
            let username: String?
            let password: String?
        }
        struct File: Decodable {
            let auths: [String: Entry]?
        }
        let file = try CanonicalJSON.decode(File.self, from: bytes, source: source)
        var credentials: [String: RegistryCredentials] = [:]
        // Sorted so that when two keys name the same host, the choice does not depend on hashing.
        for (key, entry) in (file.auths ?? [:]).sorted(by: { $0.key < $1.key }) {
            let host = Self.normalizedHost(key)
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth), let text = String(data: decoded, encoding: .utf8),
                      let colon = text.firstIndex(of: ":")
                else {
                    throw OCIError(.invalidJSON, "auths[\"\(key)\"].auth is not base64 of user:password", source: source)
                }
                credentials[host] = RegistryCredentials(username: String(text[..<colon]),
                                                        password: String(text[text.index(after: colon)...]))
            } else if let username = entry.username, let password = entry.password {
                credentials[host] = RegistryCredentials(username: username, password: password)
            }
        }
        self.credentials = credentials
    }

    /// The credentials stored for `registry` (as in an image reference, e.g. `docker.io`,
    /// `localhost:5000`).
    public func credentials(for registry: String) -> RegistryCredentials? {
        credentials[Self.normalizedHost(registry)]
    }

    /// A key or registry name reduced to its host and port, with Docker Hub's aliases folded.
    static func normalizedHost(_ key: String) -> String {
        var host = Substring(key.lowercased())
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) {
            host = host.dropFirst(scheme.count)
        }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        switch host {
        case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com": return ImageReference.dockerHub
        default: return String(host)
        }
    }
}
