import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

@Suite struct LockfileTests {
    static let lockFiles = [
        "configs/rules_apko/alpine-busybox-smoke/apko.lock.json",
        "configs/rules_apko/wolfi-base/apko.lock.json",
        "configs/taihen-base-image/base.lock.json",
        "configs/taihen-base-image/debug.lock.json",
        "configs/taihen-base-image/glibc.lock.json",
    ]

    @Test func everyFixtureLockIsListed() throws {
        let found = try FileManager.default.subpathsOfDirectory(atPath: Fixtures.root.path)
            .filter { $0.hasSuffix(".lock.json") }
        #expect(Set(found) == Set(Self.lockFiles))
    }

    @Test(arguments: lockFiles)
    func roundTripsByteForByte(_ relativePath: String) throws {
        let bytes = [UInt8](try Fixtures.data(relativePath))
        let lock = try Lockfile.parse(bytes, name: relativePath)
        #expect(lock.encoded() == bytes)
        #expect(lock.version == "v1")
        #expect(!lock.contents.packages.isEmpty)
    }

    @Test func readsEveryField() throws {
        let lock = try Lockfile.read(path: Fixtures.url("configs/rules_apko/alpine-busybox-smoke/apko.lock.json").path)
        #expect(lock.config == LockConfig(name: "./e2e/smoke/apko.yaml", checksum: "sha256-W5wS8HLGz9qI5ILWqVoV7YS+m3qz2hppgI0FxC1dtMU="))
        #expect(lock.contents.keyring == [LockKeyring(
            name: "alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub",
            url: "https://alpinelinux.org/keys/alpine-devel%40lists.alpinelinux.org-6165ee59.rsa.pub")])
        #expect(lock.contents.repositories == [LockRepository(
            name: "dl-cdn.alpinelinux.org/alpine/v3.21/main/x86_64",
            url: "https://dl-cdn.alpinelinux.org/alpine/v3.21/main/x86_64/APKINDEX.tar.gz", architecture: "x86_64")])
        #expect(lock.contents.buildRepositories.isEmpty && lock.contents.runtimeRepositories.isEmpty)
        #expect(lock.contents.packages.map(\.name) == ["musl", "busybox"])
        #expect(lock.contents.packages[1] == LockPackage(
            name: "busybox", url: "https://dl-cdn.alpinelinux.org/alpine/v3.21/main/x86_64/busybox-1.37.0-r14.apk",
            version: "1.37.0-r14", architecture: "x86_64",
            signature: LockRange(range: "bytes=0-663", checksum: "sha1-hr1NBLYqIUNQt+YkpoIbf2JI738="),
            control: LockRange(range: "bytes=664-2381", checksum: "sha1-p/ydDCbqw8aB8uA/M5rzEgEeRD4="),
            data: LockRange(range: "bytes=2382-506054", checksum: "sha256-26Ni79r1YV5xk5cvJOVsc6w5WDChdWr+NSRvQujx3lY="),
            checksum: "Q1p/ydDCbqw8aB8uA/M5rzEgEeRD4="))
    }

    @Test func embeddedKeysAndUnsignedPackages() throws {
        let lock = try Lockfile.read(path: Fixtures.url("configs/taihen-base-image/base.lock.json").path)
        #expect(lock.contents.keyring[0].content.hasPrefix("-----BEGIN PUBLIC KEY-----\nMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA5qQUHmzqX9oa/RS3OSgL\n"))
        #expect(lock.contents.packages[0].signature == LockRange(range: "", checksum: ""))
        #expect(Set(lock.contents.packages.map(\.architecture)) == ["x86_64", "aarch64"])
    }

    @Test func goEscapingRoundTrips() throws {
        let json = #"{"version":"v1","contents":{"keyring":[{"name":"a<b>&c\u2028\b\f\u0001\/","url":"é"}]}}"#
        let lock = try Lockfile.parse(Array(json.utf8), name: "x.lock.json")
        #expect(lock.contents.keyring[0].name == "a<b>&c\u{2028}\u{8}\u{C}\u{1}/")
        let encoded = String(decoding: lock.encoded(), as: UTF8.self)
        #expect(encoded == #"""
            {
              "version": "v1",
              "contents": {
                "keyring": [
                  {
                    "name": "a\u003cb\u003e\u0026c\u2028\b\f\u0001/",
                    "url": "é"
                  }
                ],
                "build_repositories": [],
                "runtime_repositories": [],
                "repositories": [],
                "packages": []
              }
            }

            """#)
        #expect(try Lockfile.parse(lock.encoded(), name: "again") == lock)
    }

    @Test func writesAtomically() throws {
        let directory = try ScratchDirectory()
        let lock = try Lockfile.read(path: Fixtures.url("configs/rules_apko/wolfi-base/apko.lock.json").path)
        let path = directory.root + "/apko.lock.json"
        try lock.write(to: path)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == [UInt8](try Fixtures.data("configs/rules_apko/wolfi-base/apko.lock.json")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.root) == ["apko.lock.json"])
    }

    /// A killed writer's pid-tagged temporary of this lock is removed by the next write; a running
    /// writer's and another file's are kept.
    @Test func killedWritersTemporariesAreSwept() throws {
        let directory = try ScratchDirectory()
        let dead = try AbandonedTemporaries.deadProcessID(in: directory)
        let planted = [".apko.lock.json.tmp-\(dead)-a", ".apko.lock.json.tmp-\(getpid())-b", ".other.json.tmp-\(dead)-c"]
        for name in planted { try directory.write(name, text: "partial") }
        let lock = try Lockfile.read(path: Fixtures.url("configs/rules_apko/wolfi-base/apko.lock.json").path)
        try lock.write(to: directory.root + "/apko.lock.json")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.root).filter { !$0.hasPrefix(".std") }.sorted()
        #expect(left == [".apko.lock.json.tmp-\(getpid())-b", ".other.json.tmp-\(dead)-c", "apko.lock.json"])
    }

    @Test func mistakesArePlaced() {
        #expect {
            try Lockfile.parse(Array("{\"a\": 1}".utf8), name: "x.json")
        } throws: { error in
            (error as? ConfigError)?.description == "x.json:1:1: this is not an apko lock file: it has no \"version\" and \"contents\""
        }
        #expect {
            try Lockfile.parse(Array("{\"version\": \"v1\",\n \"contents\": {\"packages\": [{\"name\": 5}]}}".utf8), name: "x.json")
        } throws: { error in
            (error as? ConfigError)?.description == "x.json:2:37: contents.packages[0].name must be a string, not the scalar \"5\""
        }
        #expect {
            try Lockfile.parse(Array("{\"version\": \"v1\", \"contents\": {\"keyring\": {}}}".utf8), name: "x.json")
        } throws: { error in
            (error as? ConfigError)?.description == "x.json:1:43: contents.keyring must be an array, not a mapping"
        }
        #expect(throws: ConfigError.self) {
            try Lockfile.parse(Array("{\"version\": \"v1\", ".utf8), name: "x.json")
        }
    }
}
