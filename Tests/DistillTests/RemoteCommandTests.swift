import Foundation
import Testing
import TestSupport

/// The commands against an http repository served by the loopback fault server: resolve and
/// download through it (each file's first transfer is cut off half way and retried), then the
/// same from the cache with `--offline`.
@Suite struct RemoteCommandTests {
    @Test func lockOnlineThenOffline() throws {
        let scratch = try ScratchDirectory()
        let server = try LoopbackServer(serving: Fixtures.root, in: scratch)
        let repository = server.url("cutonce", "apko-testrepo")
        try scratch.write("apko.yaml", text: """
            contents:
              repositories: ["\(repository)"]
              keyring: ["\(server.url("ok", "apko-testrepo/melange.rsa.pub"))"]
              packages: [replayout]
            archs: [x86_64, aarch64]
            """)
        try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache"], in: scratch)
        let lock = try scratch.readText("apko.lock.json")
        let host = repository.dropFirst("http://".count)
        #expect(lock.contains("\"name\": \"\(host)/x86_64\""))
        #expect(lock.contains("\"url\": \"\(repository)/aarch64/replayout-1.0.0-r0.apk\""))
        // Same packages, ranges and checksums as apko's lock of the local copy.
        for checksum in ["sha256-ckBapsaMu5EOb/e4Ei1s2l/+dZMEamHhUmaoJ8yeZwg=", "sha256-zmiHBvaqKHsF8CxQeHa0M4mZKwj7T4T5kRe9VpTkXUw=",
                         "sha256-cY5bE593kEpYKyqepLmkPc/RnAiPsIsm92XAHwi+U9I=", "sha256-IMtgng48z5PaYwqYWLrGUKoaZUHFmigOnKRJ7KcmTQo="] {
            #expect(lock.contains(checksum))
        }
        // Every file was cut off once and fetched again.
        let served = try server.requests()
        #expect(served.filter { $0.path.hasSuffix(".apk") }.map(\.status).count == 8)

        let offline = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "--offline", "--format", "name=version"],
                                            in: scratch)
        #expect(offline.text == "pretend-baselayout=1.0.0-r0\nreplayout=1.0.0-r0\npretend-baselayout=1.0.0-r0\nreplayout=1.0.0-r0\n")
        try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache", "--offline", "-o", "offline.lock.json"], in: scratch)
        #expect(try scratch.readText("offline.lock.json") == lock)
        #expect(try server.requests().count == served.count)

        let empty = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "empty-cache", "--offline"], in: scratch,
                                          expectSuccess: false)
        #expect(empty.status == 1)
        #expect(empty.standardError.hasPrefix("Error: \(server.url("ok", "apko-testrepo/melange.rsa.pub")): the key is not in the cache and --offline forbids fetching it"))
    }

    @Test func badHTTPAuthIsRefused() throws {
        let scratch = try Workspace.apkoTestRepo()
        let result = try DistillBinary.run(["show-packages", "apko.yaml"], in: scratch, environment: ["HTTP_AUTH": "token:abc"],
                                           expectSuccess: false)
        #expect(result.status != 0)
        #expect(result.standardError.contains("HTTP_AUTH must be basic:HOST:USER:PASSWORD"))
    }
}
