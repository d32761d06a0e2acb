import APK
import Archive
import Foundation
import Testing
import TestSupport
@testable import Repository

/// Fetching packages from local repositories: verified against the signed index's `C:` and the
/// datahash, expanded into the cache, refused with both checksums when they differ.
@Suite struct FetchTests {
    static func testRepo(_ scratch: ScratchDirectory, arch: String = "x86_64", client: RepositoryClient)
        async throws -> LoadedIndex {
        let keyring = try await Scratch.testRepoKeyring(client)
        return try #require(try await client.loadIndex(try RepositorySource(location: Fixtures.url("apko-testrepo").path),
                                                       architecture: arch, keyring: keyring))
    }

    /// Every package verifies; its expanded data is a tar that GNU tar lists with the same entries
    /// the reader reported, and each regular file's bytes are where `contentOffset` says.
    @Test(arguments: ["x86_64", "aarch64"])
    func fetchesVerifiesAndExpands(_ arch: String) async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch, concurrency: 2)
        let index = try await Self.testRepo(scratch, arch: arch, client: client)
        let requests = Scratch.requests(for: index)
        let fetched = try await client.fetch(requests)
        #expect(fetched.map(\.request) == requests)
        for package in fetched {
            #expect(package.info.checksum == package.request.checksum)
            #expect(package.file.dataHash == .matches)
            #expect(package.path == package.request.url)
            let expanded = try #require(package.expandedDataPath)
            #expect(expanded == (try client.options.cache.expandedDataPath(checksum: package.request.checksum)))
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: expanded)))
            #expect(Int64(bytes.count) == package.file.expandedDataSize)
            let listing = try ExternalTool.run("tar", ["-tf", expanded], in: scratch).text
                .split(separator: "\n").map { $0.hasSuffix("/") ? String($0.dropLast()) : String($0) }
            #expect(Set(listing) == Set(package.file.dataEntries.map(\.path) + package.file.skippedDataEntries))
            for entry in package.file.dataEntries where entry.kind == .regular {
                let content = try ExternalTool.run("tar", ["-xOf", expanded, entry.path], in: scratch).standardOutput
                #expect([UInt8](content) == Array(bytes[Int(entry.contentOffset)..<Int(entry.contentOffset + entry.size)]))
            }
        }
    }

    /// A warm cache rewrites nothing; a damaged expansion (changed, cut short, grown) is
    /// replaced by the right bytes on the next fetch.
    @Test func expandedDataIsReusedOrRepaired() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let index = try await Self.testRepo(scratch, client: client)
        let request = try #require(Scratch.requests(for: index).first { $0.name == "custom-ca-certs-1" })
        let first = try await client.fetch(request)
        let path = try #require(first.expandedDataPath)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int

        _ = try await client.fetch(request)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode)

        var changed = original
        changed[original.count / 2] ^= 0x01
        let damages: [(String, [UInt8])] = [("changed", changed), ("cut short", Array(original.prefix(700))),
                                            ("grown", original + [0x41]), ("empty", [])]
        for (what, bytes) in damages {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            _ = try await client.fetch(request)
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == original, "\(what)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path("cache/packages")).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
    }

    /// A fetch leaves a record of the expansion (size, SHA-256, datahash); the next fetch reads
    /// the package without decompressing its data and lists the same entries from the expansion.
    /// A damaged expansion or record falls back to the full read, which rewrites both.
    @Test func expansionRecordGivesTheSameResult() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let index = try await Self.testRepo(scratch, client: client)
        let request = try #require(Scratch.requests(for: index).first { $0.name == "custom-ca-certs-1" })
        let first = try await client.fetch(request)
        let path = try #require(first.expandedDataPath)
        let recordPath = try client.options.cache.expansionRecordPath(checksum: request.checksum)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let record = try String(contentsOfFile: recordPath, encoding: .utf8)
        let digest = try ExternalTool.run("sha256sum", [path], in: scratch).text.prefix(64)
        #expect(record == "size \(original.count)\nsha256 \(digest)\ndatahash \(try #require(first.info.dataHash))\n")

        let warm = try await client.fetch(request)
        #expect(warm.file.dataEntries == first.file.dataEntries)
        #expect(warm.info == first.info)
        #expect(warm.file.dataHash == .matches)
        #expect(warm.file.expandedDataSize == first.file.expandedDataSize)

        var changed = original
        changed[original.count / 2] ^= 0x01
        let damages: [(String, [UInt8], String)] = [
            ("changed expansion", changed, record), ("cut expansion", Array(original.prefix(700)), record),
            ("record of another size", original, record.replacingOccurrences(of: "size \(original.count)", with: "size 512")),
            ("record not a record", original, "size\n"),
        ]
        for (what, bytes, recordText) in damages {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try recordText.write(toFile: recordPath, atomically: false, encoding: .utf8)
            let again = try await client.fetch(request)
            #expect(again.file.dataEntries == first.file.dataEntries, "\(what)")
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == original, "\(what)")
            #expect(try String(contentsOfFile: recordPath, encoding: .utf8) == record, "\(what)")
        }
    }

    /// A package that is not the one its index names: the message names the package, the
    /// repository and both checksums, and nothing is left in the cache.
    @Test func wrongIdentityIsRefused() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let index = try await Self.testRepo(scratch, client: client)
        let requests = Scratch.requests(for: index)
        var request = try #require(requests.first { $0.name == "replayout" })
        let other = try #require(requests.first { $0.name == "pretend-baselayout" })
        let actual = request.checksum
        request.checksum = other.checksum
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .verificationFailed && error.source == request.url
                && error.message == "replayout-1.0.0-r0 from \(request.repository) is not the package its index names: its C: is \(actual), the index says \(other.checksum)"
        }
        #expect(!FileManager.default.fileExists(atPath: try client.options.cache.expandedDataPath(checksum: other.checksum)))
    }

    /// Wolfi packages whose data section was trimmed after signing: the control section (and
    /// so `C:`) is intact, the datahash is not.
    @Test func damagedDataIsRefused() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let path = Fixtures.url("wolfi/tampered/aarch64/neon-4604-r0.apk").path
        let identity = try APKFile.read(path: path, options: APKFile.Options(requiresSignature: false, listsDataEntries: false)).identity
        let request = PackageRequest(name: "neon", version: "4604-r0", architecture: "aarch64", url: path, checksum: identity,
                                     repository: "wolfi")
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .verificationFailed
                && error.message.hasPrefix("neon-4604-r0 from wolfi is damaged: its data section hashes to ")
                && error.message.hasSuffix("its .PKGINFO datahash is cb21fa1e6f8af5bff823e30f05dbb6f482c5d61711713cc4bd5235e2be9165a1")
        }
    }

    /// A lock file's data checksum must hold too.
    @Test func lockDataChecksumIsChecked() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let index = try await Self.testRepo(scratch, client: client)
        var request = try #require(Scratch.requests(for: index).first { $0.name == "replayout" })
        request.dataChecksum = "sha256-zmiHBvaqKHsF8CxQeHa0M4mZKwj7T4T5kRe9VpTkXUw="
        let package = try await client.fetch(request)
        #expect(package.file.dataSection.checksum == request.dataChecksum)
        request.dataChecksum = "sha256-ckBapsaMu5EOb/e4Ei1s2l/+dZMEamHhUmaoJ8yeZwg="
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            (error as! RepositoryError).message.hasSuffix(
                "is not the locked package: its data section is sha256-zmiHBvaqKHsF8CxQeHa0M4mZKwj7T4T5kRe9VpTkXUw=, the lock file says sha256-ckBapsaMu5EOb/e4Ei1s2l/+dZMEamHhUmaoJ8yeZwg=")
        }
    }

    /// A byte flipped inside the stored package: the gzip stream no longer checks out.
    @Test func corruptPackageIsRefused() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let keyring = try await Scratch.testRepoKeyring(client)
        let repo = try Scratch.copyRepository(scratch, arch: "x86_64", fixture: "apko-testrepo/x86_64")
        let index = try #require(try await client.loadIndex(try RepositorySource(location: repo), architecture: "x86_64",
                                                            keyring: keyring))
        let request = try #require(Scratch.requests(for: index).first { $0.name == "custom-ca-certs-2" })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: request.url)))
        bytes[bytes.count - 100] ^= 0xff
        try Data(bytes).write(to: URL(fileURLWithPath: request.url))
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            let error = error as! RepositoryError
            return (error.kind == .invalidPackage || error.kind == .verificationFailed) && error.message.hasPrefix("custom-ca-certs-2-1.0.0-r0 from \(repo)")
        }
    }

    @Test func missingPackageIsNamed() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let request = PackageRequest(name: "ghost", version: "1-r0", architecture: "x86_64", url: scratch.path("repo/x86_64/ghost-1-r0.apk"),
                                     checksum: "Q1m6wB0UFePGN8Drz82pC8y2uAiu8=", repository: scratch.path("repo"))
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .notFound && error.message.hasPrefix("ghost-1-r0 is not in its repository")
        }
    }

    struct CapCase: Sendable, CustomStringConvertible {
        let limits: RepositoryLimits
        let fragment: String
        var description: String { fragment }
    }

    @Test(arguments: [
        CapCase(limits: RepositoryLimits(maximumDataSize: 1024), fragment: "data section decompresses to more than 1024 bytes"),
        CapCase(limits: RepositoryLimits(maximumControlSize: 512), fragment: "control sections decompress to more than 512 bytes"),
    ])
    func sizeCaps(_ row: CapCase) async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch, limits: row.limits)
        let index = try await Self.testRepo(scratch, client: client)
        let request = try #require(Scratch.requests(for: index).first { $0.name == "custom-ca-certs-1" })
        await #expect {
            _ = try await client.fetch(request)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .tooLarge && error.message.contains(row.fragment)
        }
    }

    /// Verify-only fetches (what `lock` needs) read the sections and write nothing.
    @Test func verifyOnlyWritesNothing() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let index = try await Self.testRepo(scratch, client: client)
        let fetched = try await client.fetch(Scratch.requests(for: index), options: .verifyOnly)
        #expect(fetched.allSatisfy { $0.expandedDataPath == nil && $0.file.dataEntries.isEmpty })
        let replayout = try #require(fetched.first { $0.request.name == "replayout" })
        #expect(replayout.file.signatureSection?.httpRange == "bytes=0-646")
        #expect(replayout.file.controlSection.httpRange == "bytes=647-1660")
        #expect(replayout.file.dataSection.httpRange == "bytes=1661-2960")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("cache")))
    }

    /// With one package in flight at a time or many, the results come back in request order and
    /// the first failure is the one reported.
    @Test(arguments: [1, 3, 8])
    func orderAndFailureWithBoundedConcurrency(_ width: Int) async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch, concurrency: width)
        let index = try await Self.testRepo(scratch, client: client)
        let requests = Scratch.requests(for: index)
        let many = requests + requests.reversed() + requests
        let fetched = try await client.fetch(many)
        #expect(fetched.map(\.request.name) == many.map(\.name))
        var broken = many
        broken[5].url += ".missing"
        await #expect(throws: RepositoryError.self) { _ = try await client.fetch(broken) }
    }

    /// A real Alpine package against the real signed index that lists it: strace 5.17-r0's C:
    /// is the v3.16 index's.
    @Test func realAlpinePackageVerifiesAgainstItsIndex() async throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.path("alpine/x86_64")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory + "/APKINDEX.tar.gz",
                                                   withDestinationPath: Fixtures.url("alpine/v3.16-x86_64-main/APKINDEX.tar.gz").path)
        try FileManager.default.createSymbolicLink(atPath: directory + "/strace-5.17-r0.apk",
                                                   withDestinationPath: Fixtures.url("alpine/packages/x86_64/strace-5.17-r0.apk").path)
        let client = Scratch.client(scratch)
        let keyring = try await client.loadKeyring([Fixtures.url("keys/alpine").path]).keyring
        let index = try #require(try await client.loadIndex(try RepositorySource(location: scratch.path("alpine")),
                                                            architecture: "x86_64", keyring: keyring))
        let request = try #require(Scratch.requests(for: index).first { $0.name == "strace" })
        #expect(request.version == "5.17-r0")
        let package = try await client.fetch(request)
        #expect(package.info.checksum == request.checksum)
        #expect(package.file.dataEntries.contains { $0.path == "usr/bin/strace" && $0.kind == .regular })
    }
}
