import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

@Suite("determinism")
struct DeterminismTests {
    /// An image with scripts, triggers, certificates and a CA bundle, so the epoch has
    /// something to change.
    static func request(epoch: Int64, scratch: ScratchDirectory, certificate: String) throws -> RootfsRequest {
        let hooks = try Synthetic.package("hooks", scripts: [
            APKFile.Script(kind: .postInstall, content: Array("#!/bin/sh\necho installed\n".utf8)),
            APKFile.Script(kind: .trigger, content: Array("#!/bin/sh\necho fired\n".utf8)),
        ], triggers: ["/usr/share/hooks"], items: [.directory("usr"), .directory("usr/share"), .directory("usr/share/hooks")],
           scratch: scratch)
        let bundle = try Synthetic.package("bundle", items: [
            .directory("etc"), .directory("etc/ssl"), .directory("etc/ssl/certs"), .file("etc/ssl/certs/ca-certificates.crt", "# bundle\n"),
        ], scratch: scratch)
        let testRepo = try FixtureImage.testRepo.request(scratch: scratch)
        return RootfsRequest(
            architecture: "x86_64", packages: testRepo.packages + [hooks, bundle],
            world: ["replayout", "hooks", "bundle"], repositories: ["https://example.invalid/repo", "@tag https://example.invalid/tagged"],
            keyring: testRepo.keyring, accounts: Accounts(users: [UserAccount(name: "app", uid: 1000, gid: 1000, home: "/home/app")]),
            paths: [PathMutation(path: "/srv", kind: .directory, uid: 1000, gid: 1000)],
            certificates: Certificates(additional: [AdditionalCertificate(name: "corp", content: certificate)]),
            services: [Service(name: "app", command: "/usr/bin/app")], apkoJSON: Array("{}".utf8), buildEpoch: epoch)
    }

    @Test func sameInputsSameBytesDifferentEpochOnlyWhatItMust() throws {
        let certificates = try ScratchDirectory()
        let certificate = try CertificatesTests.makeCertificate("corp", in: certificates)
        // Two compositions from two separate reads of the packages (different expanded tars).
        let scratches = try (0..<3).map { _ in try ScratchDirectory() }
        let first = try Rootfs.compose(try Self.request(epoch: 1_600_000_000, scratch: scratches[0], certificate: certificate))
        let second = try Rootfs.compose(try Self.request(epoch: 1_600_000_000, scratch: scratches[1], certificate: certificate))
        let bytes = try LayerFiles.bytes(first)
        #expect(bytes == (try LayerFiles.bytes(second)))

        let later = try Rootfs.compose(try Self.request(epoch: 1_700_000_123, scratch: scratches[2], certificate: certificate))
        let before = try LayerFiles.entries(bytes)
        let after = try LayerFiles.entries(try LayerFiles.bytes(later))
        #expect(before.map(\.entry.name) == after.map(\.entry.name))
        var changed: [String] = []
        for (old, new) in zip(before, after) {
            var normalized = new
            normalized.entry.modificationTime = old.entry.modificationTime
            if old.entry != new.entry || old.content != new.content { changed.append(old.entry.name) }
            if old.entry.name == "usr/lib/apk/db/scripts.tar" {
                // Only the entries' mtime fields (and the header checksums) differ.
                #expect(old.content.count == new.content.count)
                continue
            }
            #expect(normalized.entry == old.entry && normalized.content == new.content, "\(old.entry.name) changed beyond its mtime")
            if old.entry.modificationTime != new.entry.modificationTime {
                #expect(old.entry.modificationTime == 1_600_000_000 && new.entry.modificationTime == 1_700_000_123)
            }
        }
        let fingerprint = try #require(after.first { $0.entry.name.hasPrefix("usr/local/share/ca-certificates/corp-") }).entry.name
        #expect(changed.sorted() == [
            "etc/ssl/certs/.ca-certificates.crt.sha256", "etc/ssl/certs/ca-certificates.crt", fingerprint,
            "usr/lib/apk/db/scripts.tar",
        ].sorted())

        // scripts.tar: apk's own format, the epoch in each entry's mtime, names with the identity.
        let scriptsOld = try #require(before.first { $0.entry.name == "usr/lib/apk/db/scripts.tar" }?.content)
        let scriptsNew = try #require(after.first { $0.entry.name == "usr/lib/apk/db/scripts.tar" }?.content)
        let hooks = try #require(first.manifest.packages.first { $0.info.name == "hooks" }?.info)
        for (archive, epoch) in [(scriptsOld, Int64(1_600_000_000)), (scriptsNew, Int64(1_700_000_123))] {
            let listed = try LayerFiles.entries(archive)
            #expect(listed.map(\.entry.name) == ["hooks-1.0-r0.\(hooks.checksum!).post-install", "hooks-1.0-r0.\(hooks.checksum!).trigger"])
            #expect(listed.allSatisfy { $0.entry.modificationTime == epoch && $0.entry.mode == 0o755 && $0.entry.userName == "root" })
            #expect(Array(archive[257..<265]) == Array("ustar  \0".utf8), "GNU magic, as apk writes it")
            #expect(archive.suffix(1024).allSatisfy { $0 == 0 })
        }
        let triggers = String(decoding: try #require(try first.contents(of: "lib/apk/db/triggers")), as: UTF8.self)
        #expect(triggers == "\(hooks.checksum!) /usr/share/hooks\n")
    }

    /// Layers can be written concurrently from one composed rootfs (it is Sendable and each
    /// call reads package bytes through its own descriptors): the bytes do not change.
    @Test func concurrentLayerWrites() async throws {
        let scratch = try ScratchDirectory()
        var request = try FixtureImage.all.first { $0.repository == "local-melange-tzdata" }!.request(scratch: scratch)
        request.layering = .origin(budget: 3)
        let rootfs = try Rootfs.compose(request)
        let sequential = try rootfs.layers.indices.map { try LayerFiles.bytes(rootfs, layer: $0) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for index in rootfs.layers.indices {
                group.addTask { (index, try LayerFiles.bytes(rootfs, layer: index)) }
            }
            var result = [[UInt8]](repeating: [], count: rootfs.layers.count)
            for try await (index, bytes) in group { result[index] = bytes }
            return result
        }
        #expect(concurrent == sequential)
    }
}
