import APK
import Foundation
import HTTPTransport
import Testing
import TestSupport
@testable import Repository

/// Remote repositories served by the loopback fault server from the fixtures: keys, indexes and
/// packages through the cache, ETag revalidation, `--offline`, faults survived or reported,
/// tampered cache entries, credentials.
@Suite struct HTTPRepositoryTests {
    static let quick = RetryPolicy(attempts: 3, initialDelay: .milliseconds(20))

    struct Setup {
        let scratch: ScratchDirectory
        let server: LoopbackServer

        init() throws {
            scratch = try ScratchDirectory()
            server = try LoopbackServer(serving: Fixtures.root, in: scratch)
        }

        func client(offline: Bool = false, limits: RepositoryLimits = RepositoryLimits(),
                    authentication: [HTTPAuthentication] = []) -> RepositoryClient {
            RepositoryClient(options: RepositoryOptions(cache: RepositoryCache(root: scratch.path("cache")), offline: offline,
                                                        limits: limits, authentication: authentication, retry: HTTPRepositoryTests.quick))
        }

        func repository(_ mode: String) throws -> RepositorySource {
            try RepositorySource(location: server.url(mode, "apko-testrepo"))
        }

        var keyURL: String { server.url("ok", "apko-testrepo/melange.rsa.pub") }

        func keyring(_ client: RepositoryClient) async throws -> Keyring {
            try await client.loadKeyring([keyURL]).keyring
        }

        /// Temporary files left in the cache (there must be none: every file appears by rename).
        func leftovers() throws -> [String] {
            let root = scratch.path("cache")
            let names = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
            return names.filter { ($0 as NSString).lastPathComponent.hasPrefix(".") }
        }

        /// GETs of paths containing `part`, with their statuses.
        func statuses(_ part: String) throws -> [Int] {
            try server.requests().filter { $0.path.contains(part) }.map(\.status)
        }
    }

    /// Resolve-side reads and downloads through the server, then the same from the cache with
    /// `offline` and not one request more.
    @Test func onlineThenOffline() async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        var fetchedPaths: [String] = []
        for arch in ["x86_64", "aarch64"] {
            let index = try #require(try await client.loadIndex(try setup.repository("ok"), architecture: arch, keyring: keyring))
            #expect(index.index.packages.count == 4)
            let fetched = try await client.fetch(Scratch.requests(for: index))
            for package in fetched {
                #expect(package.path == (try client.options.cache.packagePath(checksum: package.request.checksum)))
                #expect(package.expandedDataPath != nil)
                fetchedPaths.append(package.path)
            }
        }
        #expect(Set(fetchedPaths).count == 8)
        let served = try setup.server.requests().count
        #expect(served == 1 + 2 + 8)

        let offline = setup.client(offline: true)
        let cachedKeys = try await setup.keyring(offline)
        #expect(cachedKeys == keyring)
        for arch in ["x86_64", "aarch64"] {
            let index = try #require(try await offline.loadIndex(try setup.repository("ok"), architecture: arch, keyring: cachedKeys))
            let fetched = try await offline.fetch(Scratch.requests(for: index))
            #expect(fetched.count == 4)
        }
        #expect(try setup.server.requests().count == served)
        #expect(try setup.leftovers().isEmpty)
    }

    @Test func offlineWithAnEmptyCacheSaysWhatIsMissing() async throws {
        let setup = try Setup()
        let offline = setup.client(offline: true)
        await #expect {
            _ = try await offline.loadKeyring([setup.keyURL])
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .notCached && error.source == setup.keyURL && error.message.contains("--offline")
        }
        let source = try setup.repository("ok")
        await #expect {
            _ = try await offline.loadIndex(source, architecture: "x86_64", keyring: Keyring())
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .notCached && error.message == "the index \(source.indexURL(architecture: "x86_64")) is not in the cache and --offline forbids fetching it; run once without --offline"
        }
        let request = PackageRequest(name: "replayout", version: "1.0.0-r0", architecture: "x86_64",
                                     url: source.packageURL(architecture: "x86_64", fileName: "replayout-1.0.0-r0.apk"),
                                     checksum: "Q11/HhSewwwOXgl0r0ffb0O0BRtYc=", repository: source.description)
        await #expect {
            _ = try await offline.fetch(request)
        } throws: { error in
            (error as! RepositoryError).message.hasPrefix("replayout-1.0.0-r0 from \(source.description) is not in the cache")
        }
        #expect(try setup.server.requests().isEmpty)
    }

    /// The second load revalidates with the stored ETag and gets a 304: no body is sent again.
    @Test func indexesAreRevalidatedWithTheirETag() async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let source = try setup.repository("ok")
        _ = try await client.loadIndex(source, architecture: "x86_64", keyring: keyring)
        _ = try await client.loadIndex(source, architecture: "x86_64", keyring: keyring)
        let requests = try setup.server.requests().filter { $0.path.hasSuffix("APKINDEX.tar.gz") }
        #expect(requests.map(\.status) == [200, 304])
        #expect(requests[0].ifNoneMatch == nil)
        let etag = try String(contentsOfFile: client.options.cache.indexDirectory(url: source.indexURL(architecture: "x86_64")) + "/etag",
                              encoding: .utf8)
        #expect(requests[1].ifNoneMatch == etag)
        #expect(requests[1].sent == 0)
    }

    /// A server whose ETag changes on every answer (and that ignores If-None-Match): each load
    /// downloads again and the stored ETag follows.
    @Test func changingETagsAreFollowed() async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let source = try setup.repository("rotate")
        let etagPath = client.options.cache.indexDirectory(url: source.indexURL(architecture: "aarch64")) + "/etag"
        _ = try await client.loadIndex(source, architecture: "aarch64", keyring: keyring)
        let first = try String(contentsOfFile: etagPath, encoding: .utf8)
        _ = try await client.loadIndex(source, architecture: "aarch64", keyring: keyring)
        let second = try String(contentsOfFile: etagPath, encoding: .utf8)
        #expect(first != second)
        let requests = try setup.server.requests().filter { $0.path.hasSuffix("APKINDEX.tar.gz") }
        #expect(requests.map(\.status) == [200, 200])
        #expect(requests[1].ifNoneMatch == first)
    }

    struct FaultCase: Sendable, CustomStringConvertible {
        let mode: String
        var description: String { mode }
    }

    /// Faults that happen once per file are survived: every index and package arrives intact.
    @Test(arguments: [FaultCase(mode: "fail500once"), FaultCase(mode: "cutonce"), FaultCase(mode: "shortonce"),
                      FaultCase(mode: "longonce")])
    func transientFaultsAreSurvived(_ row: FaultCase) async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let index = try #require(try await client.loadIndex(try setup.repository(row.mode), architecture: "x86_64", keyring: keyring))
        let fetched = try await client.fetch(Scratch.requests(for: index))
        #expect(fetched.count == 4)
        for package in fetched {
            let served = [UInt8](try Data(contentsOf: URL(fileURLWithPath: package.path)))
            let original = [UInt8](try Fixtures.data("apko-testrepo/x86_64/\(package.request.name)-1.0.0-r0.apk"))
            #expect(served == original)
        }
        #expect(try setup.leftovers().isEmpty)
        if row.mode != "longonce" {
            #expect(try setup.statuses("/\(row.mode)/").count == 2 * 5)
        }
    }

    /// Faults that do not go away are reported with the URL, after the retries.
    @Test func persistentFaultsAreReported() async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        await #expect {
            _ = try await client.loadIndex(try setup.repository("fail500"), architecture: "x86_64", keyring: keyring)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .httpStatus && error.message.contains("answered HTTP 500 after 3 tries")
        }
        #expect(try setup.statuses("/fail500/") == [500, 500, 500])
        await #expect {
            _ = try await client.loadIndex(try setup.repository("cut"), architecture: "x86_64", keyring: keyring)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .network && error.message.hasPrefix("the index could not be fetched after 3 tries")
        }
        let missing = try setup.repository("notfound")
        await #expect {
            _ = try await client.loadIndex(missing, architecture: "x86_64", keyring: keyring)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .notFound && error.source == missing.description
                && error.message == "the index is not there: \(missing.indexURL(architecture: "x86_64")) answered HTTP 404"
        }
        let request = PackageRequest(name: "replayout", version: "1.0.0-r0", architecture: "x86_64",
                                     url: missing.packageURL(architecture: "x86_64", fileName: "replayout-1.0.0-r0.apk"),
                                     checksum: "Q11/HhSewwwOXgl0r0ffb0O0BRtYc=", repository: missing.description)
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .notFound && error.message.hasPrefix("replayout-1.0.0-r0 from \(missing.description) is not there")
        }
    }

    /// A cached package that was tampered with is detected when read: fetched again online,
    /// refused (and removed) offline.
    @Test func tamperedCachedPackage() async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let index = try #require(try await client.loadIndex(try setup.repository("ok"), architecture: "x86_64", keyring: keyring))
        let request = try #require(Scratch.requests(for: index).first { $0.name == "custom-ca-certs-1" })
        let first = try await client.fetch(request)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: first.path)))
        var tampered = original
        tampered[tampered.count - 50] ^= 0x20
        try Data(tampered).write(to: URL(fileURLWithPath: first.path))

        let offline = setup.client(offline: true)
        await #expect {
            _ = try await offline.fetch(request)
        } throws: { error in
            (error as! RepositoryError).message.contains("the damaged cached copy was removed, and --offline forbids fetching it again")
        }
        #expect(!FileManager.default.fileExists(atPath: first.path))

        try Data(tampered).write(to: URL(fileURLWithPath: first.path))
        let before = try setup.statuses("custom-ca-certs-1").count
        let again = try await client.fetch(request)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: again.path))) == original)
        #expect(try setup.statuses("custom-ca-certs-1").count == before + 1)
    }

    /// A cached index that no longer verifies is fetched afresh even though the server says 304.
    @Test func tamperedCachedIndex() async throws {
        let setup = try Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let source = try setup.repository("ok")
        _ = try await client.loadIndex(source, architecture: "x86_64", keyring: keyring)
        let cached = client.options.cache.indexDirectory(url: source.indexURL(architecture: "x86_64")) + "/APKINDEX.tar.gz"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cached)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: cached))
        let loaded = try #require(try await client.loadIndex(source, architecture: "x86_64", keyring: keyring))
        #expect(loaded.index.packages.count == 4)
        #expect(try setup.statuses("x86_64/APKINDEX.tar.gz") == [200, 304, 200])
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: cached))) == [UInt8](try Fixtures.data("apko-testrepo/x86_64/APKINDEX.tar.gz")))
        #expect(try setup.leftovers().isEmpty)
    }

    /// A remote index without a valid signature by the keyring: refused, nothing cached.
    @Test func untrustedRemoteIndex() async throws {
        let setup = try Setup()
        let client = setup.client()
        let wrong = try await client.loadKeyring([setup.server.url("ok", "apko-private-repo/private_pkg_key.rsa.pub")]).keyring
        let source = try setup.repository("ok")
        await #expect {
            _ = try await client.loadIndex(source, architecture: "x86_64", keyring: wrong)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .untrustedIndex && error.source == source.description
                && error.message.contains("is signed with melange.rsa.pub, which is not in the keyring (the keyring has private_pkg_key.rsa.pub)")
        }
        let directory = client.options.cache.indexDirectory(url: source.indexURL(architecture: "x86_64"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/APKINDEX.tar.gz"))
    }

    /// Credentials from the URL's userinfo or from HTTP_AUTH; without them, a clear refusal.
    @Test func credentials() async throws {
        let setup = try Setup()
        let keyring = try await setup.keyring(setup.client())
        let protected = setup.server.url("auth-me-s3cret", "apko-testrepo")
        let withUserinfo = try RepositorySource(location: protected.replacingOccurrences(of: "http://", with: "http://me:s3cret@"))
        #expect(!withUserinfo.description.contains("me:s3cret@") && withUserinfo.credentials?.password == "s3cret")
        #expect(try await setup.client().loadIndex(withUserinfo, architecture: "x86_64", keyring: keyring) != nil)

        let plain = try RepositorySource(location: protected)
        let viaEnvironment = setup.client(authentication: [try HTTPAuthentication(parsing: "basic:127.0.0.1:me:s3cret")])
        let index = try #require(try await viaEnvironment.loadIndex(plain, architecture: "aarch64", keyring: keyring))
        #expect(try await viaEnvironment.fetch(Scratch.requests(for: index)).count == 4)
        let expected = BasicCredentials(user: "me", password: "s3cret").authorizationHeader
        #expect(try setup.server.requests().filter { $0.path.contains("auth-me") }.allSatisfy { $0.authorization == expected })

        await #expect {
            _ = try await setup.client().loadIndex(plain, architecture: "x86_64", keyring: keyring)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .authentication && error.message.contains("answered HTTP 401") && error.message.contains("HTTP_AUTH")
        }
    }

    @Test func responseSizeCap() async throws {
        let setup = try Setup()
        let client = setup.client(limits: RepositoryLimits(maximumHTTPResponseSize: 1000))
        let keyring = try await setup.keyring(client)
        await #expect {
            _ = try await client.loadIndex(try setup.repository("ok"), architecture: "x86_64", keyring: keyring)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .tooLarge && error.message.contains("--max-http-response-size")
        }
    }
}
