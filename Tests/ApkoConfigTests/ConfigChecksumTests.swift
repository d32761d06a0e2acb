import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

/// The config checksum reproduces what apko recorded in the real lock files.
@Suite struct ConfigChecksumTests {
    struct Pair: Sendable, CustomTestStringConvertible {
        var config: String
        var lock: String
        var testDescription: String { config }
    }

    static let pairs = [
        Pair(config: "configs/taihen-base-image/base.yaml", lock: "configs/taihen-base-image/base.lock.json"),
        Pair(config: "configs/taihen-base-image/glibc.yaml", lock: "configs/taihen-base-image/glibc.lock.json"),
        Pair(config: "configs/taihen-base-image/debug.yaml", lock: "configs/taihen-base-image/debug.lock.json"),
        Pair(config: "configs/rules_apko/alpine-busybox-smoke/apko.yaml", lock: "configs/rules_apko/alpine-busybox-smoke/apko.lock.json"),
        Pair(config: "configs/rules_apko/wolfi-base/apko.yaml", lock: "configs/rules_apko/wolfi-base/apko.lock.json"),
    ]

    @Test(arguments: pairs)
    func matchesTheChecksumApkoRecorded(_ pair: Pair) throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url(pair.config).path)
        let lock = try Lockfile.read(path: Fixtures.url(pair.lock).path)
        #expect(loaded.checksum == lock.config?.checksum)
        #expect(try lock.check(against: loaded, lockName: pair.lock) == nil)
    }

    /// debug.yaml includes glibc.yaml, which includes base.yaml: the hash covers all three, in that order.
    @Test func includesAreHashedInIncludeOrder() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/taihen-base-image/debug.yaml").path)
        #expect(loaded.checksum == "sha256-iQEY2rnWH1wJfFr9uOeqU8L6XR7yhKOcwF4Xm/nmmgg=")
        #expect(loaded.fileContents.count == 3)
        #expect(loaded.lockConfig(name: "debug.yaml") == LockConfig(name: "debug.yaml", checksum: "sha256-iQEY2rnWH1wJfFr9uOeqU8L6XR7yhKOcwF4Xm/nmmgg="))
    }

    @Test func aChangedConfigNoLongerMatchesItsLock() throws {
        let directory = try ScratchDirectory()
        let original = try Fixtures.data("configs/rules_apko/wolfi-base/apko.yaml")
        let path = try directory.file("apko.yaml", original + Data("# edited\n".utf8))
        let loaded = try ConfigLoader.load(path: path)
        let lock = try Lockfile.read(path: Fixtures.url("configs/rules_apko/wolfi-base/apko.lock.json").path)
        #expect {
            try lock.check(against: loaded, lockName: "apko.lock.json")
        } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .lockfile
                && error?.message.hasPrefix("apko.lock.json was made from a config with checksum sha256-HJ2c4HCG3Gvm/fd+Tx/hiym+Y0dRkQhYlfgEIeSwASM=") == true
        }
        var unrecorded = lock
        unrecorded.config = nil
        #expect(try unrecorded.check(against: loaded, lockName: "apko.lock.json") != nil)
    }
}
