import Foundation
import HTTPTransport
import Testing
@testable import Repository

/// Repository and keyring locations: what is local, what is remote, what is refused, and where
/// indexes and packages are for an architecture.
@Suite struct SourceTests {
    struct LocationCase: Sendable, CustomStringConvertible {
        let text: String
        let base: String
        let local: String?
        let remote: String?
        let user: String?
        let shown: String
        var description: String { text }
    }

    @Test(arguments: [
        LocationCase(text: "./testdata/packages", base: "./testdata/packages", local: "./testdata/packages", remote: nil, user: nil,
                     shown: "./testdata/packages"),
        LocationCase(text: "packages///", base: "packages", local: "packages", remote: nil, user: nil, shown: "packages"),
        LocationCase(text: "/srv/repo/", base: "/srv/repo", local: "/srv/repo", remote: nil, user: nil, shown: "/srv/repo"),
        LocationCase(text: "file:///srv/my%20repo", base: "file:///srv/my%20repo", local: "/srv/my repo", remote: nil, user: nil,
                     shown: "file:///srv/my%20repo"),
        LocationCase(text: "file://localhost/srv/repo", base: "file://localhost/srv/repo", local: "/srv/repo", remote: nil, user: nil,
                     shown: "file://localhost/srv/repo"),
        LocationCase(text: "https://packages.wolfi.dev/os/", base: "https://packages.wolfi.dev/os", local: nil,
                     remote: "https://packages.wolfi.dev/os", user: nil, shown: "https://packages.wolfi.dev/os"),
        LocationCase(text: "https://me:s3cr%40t@example.com:8443/alpine/v3.20/main", base: "https://example.com:8443/alpine/v3.20/main",
                     local: nil, remote: "https://example.com:8443/alpine/v3.20/main", user: "me",
                     shown: "https://example.com:8443/alpine/v3.20/main"),
    ])
    func locations(_ row: LocationCase) throws {
        let source = try RepositorySource(location: row.text)
        #expect(source.base == row.base)
        #expect(source.description == row.shown)
        switch source.location {
        case .local(let path): #expect(path == row.local)
        case .remote(let url): #expect(url == row.remote)
        }
        #expect(source.credentials?.user == row.user)
        #expect(source.indexURL(architecture: "x86_64") == row.base + "/x86_64/APKINDEX.tar.gz")
        #expect(source.packageURL(architecture: "aarch64", fileName: "a-1-r0.apk") == row.base + "/aarch64/a-1-r0.apk")
    }

    @Test func credentialsAreKeptOutOfURLsAndDescriptions() throws {
        let source = try RepositorySource(tag: "private", location: "https://me:s3cr%40t@example.com/repo")
        #expect(source.credentials == BasicCredentials(user: "me", password: "s3cr@t"))
        #expect(source.description == "@private https://example.com/repo")
        #expect(!source.indexURL(architecture: "x86_64").contains("s3cr"))
    }

    struct RefusedCase: Sendable, CustomStringConvertible {
        let text: String
        let fragment: String
        var description: String { text }
    }

    @Test(arguments: [
        RefusedCase(text: "s3://bucket/repo", fragment: "unsupported scheme \"s3://\""),
        RefusedCase(text: "file://relative/path", fragment: "absolute path"),
        RefusedCase(text: "https:///no-host", fragment: "has no host"),
        RefusedCase(text: "", fragment: "empty repository"),
    ])
    func refusedLocations(_ row: RefusedCase) {
        #expect {
            try RepositorySource(location: row.text)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .invalidLocation && error.message.contains(row.fragment)
        }
    }

    struct KeyNameCase: Sendable, CustomStringConvertible {
        let entry: String
        let name: String
        var description: String { entry }
    }

    /// The key name is what `.SIGN.RSA.<name>` must say; URL escapes are decoded (Alpine's key
    /// URLs spell `@` as `%40`).
    @Test(arguments: [
        KeyNameCase(entry: "./testdata/melange.rsa.pub", name: "melange.rsa.pub"),
        KeyNameCase(entry: "https://alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub",
                    name: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"),
        KeyNameCase(entry: "https://packages.wolfi.dev/os/wolfi-signing.rsa.pub?x=1", name: "wolfi-signing.rsa.pub"),
        KeyNameCase(entry: "file:///etc/apk/keys/a.rsa.pub", name: "a.rsa.pub"),
    ])
    func keyNames(_ row: KeyNameCase) throws {
        #expect(try KeyringEntry(row.entry).keyName == row.name)
    }

    struct SizeCase: Sendable, CustomStringConvertible {
        let text: String
        let bytes: Int64?
        var description: String { text }
    }

    @Test(arguments: [
        SizeCase(text: "1024", bytes: 1024), SizeCase(text: "300M", bytes: 300 << 20), SizeCase(text: "16GiB", bytes: 16 << 30),
        SizeCase(text: "8gb", bytes: 8 << 30), SizeCase(text: "10k", bytes: 10 << 10), SizeCase(text: "0", bytes: nil),
        SizeCase(text: "-5", bytes: nil), SizeCase(text: "12Q", bytes: nil), SizeCase(text: "", bytes: nil),
        SizeCase(text: "99999999999T", bytes: nil),
    ])
    func sizes(_ row: SizeCase) {
        #expect(RepositoryLimits.parseSize(row.text) == row.bytes)
    }

    @Test func apkoDefaultLimits() {
        let limits = RepositoryLimits()
        #expect(limits.maximumIndexSize == 300 * 1024 * 1024)
        #expect(limits.maximumControlSize == 10 * 1024 * 1024)
        #expect(limits.maximumDataSize == 16 * 1024 * 1024 * 1024)
        #expect(limits.maximumHTTPResponseSize == 8 * 1024 * 1024 * 1024)
    }

    @Test func defaultCacheLocation() {
        #expect(RepositoryCache.defaultRoot(environment: ["XDG_CACHE_HOME": "/x/cache", "HOME": "/home/u"]) == "/x/cache/distill")
        #expect(RepositoryCache.defaultRoot(environment: ["XDG_CACHE_HOME": "relative", "HOME": "/home/u"]) == "/home/u/.cache/distill")
        #expect(RepositoryCache.defaultRoot(environment: ["HOME": "/home/u"]) == "/home/u/.cache/distill")
    }

    @Test func cacheLayout() throws {
        let cache = RepositoryCache(root: "/c/")
        // Q1 + base64 and X1 + hex name the same SHA-1.
        #expect(try cache.packagePath(checksum: "Q1m6wB0UFePGN8Drz82pC8y2uAiu8=")
                == "/c/packages/9bac01d1415e3c637c0ebcfcda90bccb6b808aef.apk")
        #expect(try cache.expandedDataPath(checksum: "X19bac01d1415e3c637c0ebcfcda90bccb6b808aef")
                == "/c/packages/9bac01d1415e3c637c0ebcfcda90bccb6b808aef.tar")
        #expect(throws: RepositoryError.self) { try cache.packagePath(checksum: "../../etc/passwd") }
    }
}
