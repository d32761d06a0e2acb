import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

/// One line of apko's golden image description (reference/apko.md §3.5).
struct GoldenEntry: Sendable, Equatable, CustomStringConvertible {
    var path: String
    var kind: TarEntry.Kind
    var mode: UInt32
    var linkName: String = ""
    var size: Int64? = nil

    var description: String { "\(path) \(kind) \(String(mode, radix: 8)) \(linkName)" }
}

@Suite("apko's golden image")
struct GoldenTests {
    /// The single layer of the apko test-repo image (`apko.yaml`: package `replayout`, x86_64)
    /// lists the same paths, in the same order, with the same types and modes as apko's golden
    /// image (reference/apko.md §3.5).
    ///
    /// Documented differences, checked below rather than hidden:
    /// - ownership: package files keep the owner the package gives them (`etc/os-release` is
    ///   501:20 in replayout); apko writes every package file as 0:0;
    /// - `usr/lib/apk/db/installed` has apk-tools 2.14's bytes (modes without leading zeros,
    ///   `i:` only when there are install_if entries) instead of apko's `%04o` and `i:[]`.
    @Test func singleLayerMatchesGoldenListing() throws {
        let scratch = try ScratchDirectory()
        let rootfs = try Rootfs.compose(try FixtureImage.testRepo.request(scratch: scratch))
        let entries = try LayerFiles.entries(try LayerFiles.bytes(rootfs))

        let directory = TarEntry.Kind.directory
        let file = TarEntry.Kind.regular
        let device = TarEntry.Kind.characterDevice
        let golden: [GoldenEntry] = [
            GoldenEntry(path: "dev", kind: directory, mode: 0o755),
            GoldenEntry(path: "dev/console", kind: device, mode: 0o620),
            GoldenEntry(path: "dev/null", kind: device, mode: 0o666),
            GoldenEntry(path: "dev/random", kind: device, mode: 0o666),
            GoldenEntry(path: "dev/urandom", kind: device, mode: 0o666),
            GoldenEntry(path: "dev/zero", kind: device, mode: 0o666),
            GoldenEntry(path: "etc", kind: directory, mode: 0o755),
            GoldenEntry(path: "etc/apk", kind: directory, mode: 0o755),
            GoldenEntry(path: "etc/apk/arch", kind: file, mode: 0o644, size: 7),
            GoldenEntry(path: "etc/apk/keys", kind: directory, mode: 0o755),
            GoldenEntry(path: "etc/apk/keys/melange.rsa.pub", kind: file, mode: 0o644, size: 800),
            GoldenEntry(path: "etc/apk/repositories", kind: file, mode: 0o644),
            GoldenEntry(path: "etc/apk/world", kind: file, mode: 0o644),
            GoldenEntry(path: "etc/apko.json", kind: file, mode: 0o444),
            GoldenEntry(path: "etc/os-release", kind: file, mode: 0o644, size: 102),
            GoldenEntry(path: "etc/passwd", kind: file, mode: 0o644, size: 0),
            GoldenEntry(path: "lib", kind: directory, mode: 0o755),
            GoldenEntry(path: "lib/apk", kind: .symbolicLink, mode: 0o777, linkName: "../usr/lib/apk"),
            GoldenEntry(path: "opt", kind: directory, mode: 0o755),
            GoldenEntry(path: "proc", kind: directory, mode: 0o555),
            GoldenEntry(path: "tmp", kind: directory, mode: 0o1777),
            GoldenEntry(path: "usr", kind: directory, mode: 0o755),
            GoldenEntry(path: "usr/lib", kind: directory, mode: 0o755),
            GoldenEntry(path: "usr/lib/apk", kind: directory, mode: 0o755),
            GoldenEntry(path: "usr/lib/apk/db", kind: directory, mode: 0o755),
            GoldenEntry(path: "usr/lib/apk/db/installed", kind: file, mode: 0o644),
            GoldenEntry(path: "usr/lib/apk/db/lock", kind: file, mode: 0o600, size: 0),
            GoldenEntry(path: "usr/lib/apk/db/scripts.tar", kind: file, mode: 0o644, size: 1024),
            GoldenEntry(path: "usr/lib/apk/db/triggers", kind: file, mode: 0o644, size: 0),
            GoldenEntry(path: "usr/lib/apk/exec", kind: directory, mode: 0o755),
            GoldenEntry(path: "var", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/cache", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/cache/apk", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/cache/misc", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/lib", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/lib/db", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/lib/db/sbom", kind: directory, mode: 0o755),
            GoldenEntry(path: "var/lib/db/sbom/pretend-baselayout-1.0.0-r0.spdx.json", kind: file, mode: 0o644, size: 2769),
            GoldenEntry(path: "var/lib/db/sbom/replayout-1.0.0-r0.spdx.json", kind: file, mode: 0o644, size: 2679),
        ]
        let ours = entries.map { item in
            GoldenEntry(path: item.entry.name, kind: item.entry.kind, mode: item.entry.mode, linkName: item.entry.linkName,
                        size: item.entry.kind == .regular ? item.entry.size : nil)
        }
        #expect(ours.map(\.path) == golden.map(\.path))
        for (expected, actual) in zip(golden, ours) {
            #expect(actual.kind == expected.kind, "\(expected.path)")
            #expect(actual.mode == expected.mode, "\(expected.path): mode \(String(actual.mode, radix: 8))")
            #expect(actual.linkName == expected.linkName, "\(expected.path)")
            if let size = expected.size { #expect(actual.size == size, "\(expected.path)") }
        }

        // Everything is root-owned and dated 0 except what the packages say otherwise.
        for item in entries {
            let entry = item.entry
            if entry.name == "etc/os-release" {
                // Difference: replayout ships it as 501:20 (apko: 0:0); the mtime is the package's.
                #expect(entry.uid == 501 && entry.gid == 20)
            } else {
                #expect(entry.uid == 0 && entry.gid == 0, "\(entry.name) is \(entry.uid):\(entry.gid)")
            }
            // Empty /etc/passwd: no names to give the ids.
            #expect(entry.userName.isEmpty && entry.groupName.isEmpty)
            #expect(entry.modificationTime == 0, "\(entry.name) is dated \(entry.modificationTime)")
            #expect(entry.paxRecords.keys.allSatisfy { !$0.hasPrefix("APK-TOOLS.") })
            if case .characterDevice = entry.kind {
                let numbers = ["dev/console": (5, 1), "dev/null": (1, 3), "dev/random": (1, 8), "dev/urandom": (1, 9), "dev/zero": (1, 5)]
                let (major, minor) = try #require(numbers[entry.name])
                #expect(entry.deviceMajor == UInt32(major) && entry.deviceMinor == UInt32(minor))
            }
        }
        let content = { (path: String) in String(decoding: entries.first { $0.entry.name == path }?.content ?? [], as: UTF8.self) }
        #expect(content("etc/apk/arch") == "x86_64\n")
        #expect(content("etc/apk/world") == "pretend-baselayout=1.0.0-r0\nreplayout=1.0.0-r0\n")
        #expect(content("etc/apk/repositories") == "./testdata/packages\n")
        #expect(entries.first { $0.entry.name == "usr/lib/apk/db/scripts.tar" }?.content == [UInt8](repeating: 0, count: 1024))
        // Difference: apk-tools' installed-db spelling, not apko's `i:[]`.
        #expect(!content("usr/lib/apk/db/installed").contains("i:[]"))

        // The tar ends with exactly two zero blocks, no record padding, and uses no `./` names.
        let bytes = try LayerFiles.bytes(rootfs)
        #expect(bytes.count % 512 == 0)
        #expect(bytes.suffix(1024).allSatisfy { $0 == 0 })
        #expect(bytes.dropLast(1024).suffix(512).contains { $0 != 0 })
        #expect(entries.allSatisfy { !$0.entry.name.hasPrefix("./") && !$0.entry.name.hasSuffix("/") })
    }
}
