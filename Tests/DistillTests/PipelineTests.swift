import APK
import ApkoConfig
import Distill
import Foundation
import Repository
import Resolver
import Testing
import TestSupport

/// The resolve → fetch → lock pipeline as a library, on the fixture repositories.
@Suite struct PipelineTests {
    static func testRepoConfig(_ scratch: ScratchDirectory, packages: [String] = ["replayout"],
                               archs: [String] = ["x86_64", "aarch64"]) throws -> LoadedConfig {
        try Workspace.config(scratch, repositories: [Fixtures.url("apko-testrepo").path],
                             keyring: [Fixtures.url("apko-testrepo/melange.rsa.pub").path], packages: packages, archs: archs)
    }

    @Test func resolvesEveryArchitectureInInstallOrder() async throws {
        let scratch = try ScratchDirectory()
        let resolved = try await Workspace.pipeline(scratch).resolve(try Self.testRepoConfig(scratch))
        #expect(resolved.architectures == [.amd64, .arm64])
        #expect(resolved.warnings.isEmpty)
        #expect(resolved.keyring.files.map(\.name) == ["melange.rsa.pub"])
        let repository = Fixtures.url("apko-testrepo").path
        for image in resolved.images {
            let arch = image.architecture.apkName
            #expect(image.packages.map(\.name) == ["pretend-baselayout", "replayout"])
            #expect(image.packages.map(\.url) == ["\(repository)/\(arch)/pretend-baselayout-1.0.0-r0.apk",
                                                  "\(repository)/\(arch)/replayout-1.0.0-r0.apk"])
            #expect(image.packages.allSatisfy { $0.repository?.base == repository && $0.checksum == $0.info.checksum })
            #expect(image.resolution?.packages.count == 2)
        }
    }

    /// Fetching gives the rootfs what it needs: the full `.PKGINFO`, data entries, and the
    /// expanded tar in the cache.
    @Test func fetchesVerifiedExpandedPackages() async throws {
        let scratch = try ScratchDirectory()
        let pipeline = Workspace.pipeline(scratch, concurrency: 1)
        let resolved = try await pipeline.resolve(try Self.testRepoConfig(scratch))
        for image in resolved.images {
            let fetched = try await pipeline.fetch(image)
            #expect(fetched.map(\.info.name) == ["pretend-baselayout", "replayout"])
            let replayout = fetched[1]
            #expect(replayout.info.replaces.map(\.name) == ["pretend-baselayout"])
            #expect(replayout.info.checksum == image.packages[1].checksum)
            #expect(!replayout.file.dataEntries.isEmpty)
            let expanded = try #require(replayout.expandedDataPath)
            #expect(expanded.hasPrefix(scratch.path("cache/packages/")))
            #expect(FileManager.default.fileExists(atPath: expanded))
        }
    }

    /// The library's lock has apko's ranges and checksums; read back, it installs the same
    /// packages, each checked against the lock's data checksum.
    @Test func lockRoundTrip() async throws {
        let scratch = try ScratchDirectory()
        let pipeline = Workspace.pipeline(scratch)
        let config = try Self.testRepoConfig(scratch)
        let lock = try await pipeline.lock(try await pipeline.resolve(config), configName: "apko.yaml")
        let golden = try Lockfile.parse(Array(ApkoGolden.lock.utf8), name: "golden")
        #expect(lock.contents.packages.count == 4)
        for (ours, apko) in zip(lock.contents.packages, golden.contents.packages) {
            #expect(ours.name == apko.name && ours.version == apko.version && ours.architecture == apko.architecture)
            #expect(ours.signature == apko.signature && ours.control == apko.control && ours.data == apko.data)
            #expect(ours.checksum == apko.checksum)
        }
        let repository = Fixtures.url("apko-testrepo").path
        #expect(lock.contents.repositories == [
            LockRepository(name: repository + "/x86_64", url: repository + "/x86_64/APKINDEX.tar.gz", architecture: "x86_64"),
            LockRepository(name: repository + "/aarch64", url: repository + "/aarch64/APKINDEX.tar.gz", architecture: "aarch64"),
        ])
        #expect(lock.config == config.lockConfig(name: "apko.yaml"))

        try lock.write(to: scratch.path("apko.lock.json"))
        let reread = try Lockfile.read(path: scratch.path("apko.lock.json"))
        let locked = try await pipeline.resolve(config, lockfile: reread, lockfileName: "apko.lock.json")
        #expect(locked.warnings.isEmpty)
        #expect(locked.images.map { $0.packages.map(\.name) } == [["pretend-baselayout", "replayout"], ["pretend-baselayout", "replayout"]])
        #expect(locked.images.allSatisfy { $0.resolution == nil && $0.packages.allSatisfy { $0.dataChecksum != nil } })
        for image in locked.images {
            let fetched = try await pipeline.fetch(image)
            #expect(fetched.map(\.info.checksum) == image.packages.map(\.checksum))
        }
        #expect(throws: DistillError.self) { try locked.dot() }
    }

    @Test func lockWithAnotherPackageIsRefusedWhenFetched() async throws {
        let scratch = try ScratchDirectory()
        let pipeline = Workspace.pipeline(scratch)
        let config = try Self.testRepoConfig(scratch)
        var lock = try await pipeline.lock(try await pipeline.resolve(config), configName: "apko.yaml")
        // The x86_64 replayout entry claims aarch64's data section.
        lock.contents.packages[1].data.checksum = lock.contents.packages[3].data.checksum
        let locked = try await pipeline.resolve(config, lockfile: lock, lockfileName: "tampered.lock.json")
        await #expect {
            _ = try await pipeline.fetch(locked.images[0])
        } throws: { error in
            let error = error as! DistillError
            return error.kind == .repository && error.message.contains("replayout-1.0.0-r0 from ")
                && error.message.contains("(locked in tampered.lock.json) is not the locked package")
        }
    }

    @Test func lockfileMustFitTheConfigAndArchitectures() async throws {
        let scratch = try ScratchDirectory()
        let pipeline = Workspace.pipeline(scratch)
        let x86Only = try Self.testRepoConfig(scratch, archs: ["x86_64"])
        let lock = try await pipeline.lock(try await pipeline.resolve(x86Only), configName: "apko.yaml")
        #expect(Set(lock.contents.packages.map(\.architecture)) == ["x86_64"])

        // Same config bytes, more architectures asked for on the command line.
        let both = try x86Only.applying(ConfigOverrides(architectures: ["x86_64", "aarch64"]))
        await #expect {
            _ = try await pipeline.resolve(both, lockfile: lock, lockfileName: "apko.lock.json")
        } throws: { error in
            let error = error as! DistillError
            return error.kind == .lockfile && error.message.hasPrefix("apko.lock.json locks no packages for aarch64 (it has x86_64)")
        }

        // Another config: refused, both checksums named.
        let other = try Self.testRepoConfig(scratch, packages: ["replayout", "custom-ca-certs-1"], archs: ["x86_64"])
        await #expect {
            _ = try await pipeline.resolve(other, lockfile: lock, lockfileName: "apko.lock.json")
        } throws: { error in
            let error = error as! DistillError
            return error.kind == .lockfile && error.message.contains(lock.config!.checksum) && error.message.contains(other.checksum)
        }

        // A lock without a config entry (apko before 0.13) is used with a warning.
        var old = lock
        old.config = nil
        let warned = try await pipeline.resolve(x86Only, lockfile: old, lockfileName: "old.lock.json")
        #expect(warned.warnings.count == 1 && warned.warnings[0].contains("old.lock.json does not record which config"))
    }

    /// A base image from the real Alpine v3.16 main index, read through a local repository and
    /// the Alpine keyring.
    @Test func realAlpineBaseImage() async throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("alpine"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path("alpine/x86_64"),
                                                   withDestinationPath: Fixtures.url("alpine/v3.16-x86_64-main").path)
        let config = try Workspace.config(scratch, repositories: [scratch.path("alpine")], keyring: [Fixtures.url("keys/alpine").path],
                                          packages: ["alpine-baselayout", "busybox", "apk-tools", "ca-certificates"], archs: ["x86_64"])
        let pipeline = Workspace.pipeline(scratch)
        let resolved = try await pipeline.resolve(config)
        let names = resolved.images[0].packages.map(\.name)
        #expect(Set(names).isSuperset(of: ["alpine-baselayout", "busybox", "apk-tools", "ca-certificates", "musl", "libcrypto1.1",
                                           "libssl1.1", "zlib"]))
        #expect(names.firstIndex(of: "musl")! < names.firstIndex(of: "busybox")!)
        // The index lists packages this fixture does not have: fetching names the missing file.
        await #expect {
            _ = try await pipeline.fetch(resolved.images[0])
        } throws: { error in
            (error as! DistillError).message.contains("is not in its repository \(scratch.path("alpine"))")
        }
        // zsh alone needs /bin/sh, which apk will not pick by itself: the chain is named.
        let zsh = try Workspace.config(scratch, name: "zsh.yaml", repositories: [scratch.path("alpine")],
                                       keyring: [Fixtures.url("keys/alpine").path], packages: ["zsh"], archs: ["x86_64"])
        await #expect {
            _ = try await pipeline.resolve(zsh)
        } throws: { error in
            let error = error as! DistillError
            return error.kind == .resolution && error.message.contains("zsh → /bin/sh")
        }
    }
}
