import APK
import ApkoConfig
import DistillCrypto
import Foundation
import Repository
import Testing
import TestSupport
@testable import Distill

/// A signed repository of small packages made with `APKBuilder`, served by the loopback server
/// in `hold` mode: a package whose `.apk` has a `.hold` file beside it is answered only once the
/// test removes that file.
final class HeldRepository: Sendable {
    let scratch: ScratchDirectory
    let server: LoopbackServer
    static let key: SigningKey = {
        let privateKey = try! RSAPrivateKey.generate(bitCount: 2048)
        return SigningKey(privateKey: privateKey, keyName: "pipelining.rsa.pub")
    }()

    /// One package: its name, the files it ships (path → content) and what it depends on.
    struct Package: Sendable {
        var name: String
        var files: [String: String]
        var depends: [String] = []
    }

    /// Packs `packages` into `repo/x86_64` with a signed index and starts the server.
    init(_ packages: [Package]) throws {
        scratch = try ScratchDirectory()
        let directory = scratch.path("repo/x86_64")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var infos: [PackageInfo] = []
        for package in packages {
            let tree = scratch.path("trees/\(package.name)")
            try FileManager.default.createDirectory(atPath: tree, withIntermediateDirectories: true)
            for (path, content) in package.files {
                let file = URL(fileURLWithPath: tree).appendingPathComponent(path)
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(content.utf8).write(to: file)
            }
            let info = PackageInfo(name: package.name, version: "1.0-r0", arch: "x86_64", description: "pipelining test",
                                   license: "MIT", origin: package.name,
                                   depends: try Dependency.parseList(package.depends.joined(separator: " ")))
            let options = APKBuilder.Options(info: info, modificationTime: 1_700_000_000, key: Self.key)
            infos.append(try APKBuilder.pack(directory: tree, options: options, to: "\(directory)/\(package.name)-1.0-r0.apk").info)
        }
        try APKIndexWriter.write(packages: infos, description: "pipelining", modificationTime: 1_700_000_000, key: Self.key,
                                 to: "\(directory)/APKINDEX.tar.gz")
        try FileManager.default.createDirectory(atPath: scratch.path("keys"), withIntermediateDirectories: true)
        try scratch.write("keys/\(Self.key.keyName)", text: Self.key.privateKey.publicKey.pemRepresentation)
        server = try LoopbackServer(serving: URL(fileURLWithPath: scratch.path("repo")), in: scratch)
    }

    private func holdPath(_ name: String) -> String { scratch.path("repo/x86_64/\(name)-1.0-r0.apk.hold") }

    func hold(_ name: String) throws { try scratch.write("repo/x86_64/\(name)-1.0-r0.apk.hold", text: "") }

    func release(_ name: String) throws { try FileManager.default.removeItem(atPath: holdPath(name)) }

    /// What the server logged for `name`'s `.apk` so far.
    func downloads(of name: String) throws -> [LoopbackServer.LoggedRequest] {
        try server.requests().filter { $0.path.hasSuffix("/\(name)-1.0-r0.apk") }
    }

    /// A config installing `packages` from the served repository.
    func config(_ packages: [String]) throws -> LoadedConfig {
        try Workspace.config(scratch, repositories: [server.url("hold")], keyring: [scratch.path("keys/\(Self.key.keyName)")],
                             packages: packages, archs: ["x86_64"])
    }

    /// `count` packages with a file each, then `last`, which depends on all of them so it is
    /// installed last.
    static func chain(_ count: Int, last: String = "zz-last") -> [Package] {
        let first = (0..<count).map { Package(name: "pkg-\($0)", files: ["usr/share/pkg-\($0)/file": "package \($0)\n"]) }
        return first + [Package(name: last, files: ["usr/share/last/file": "last\n"], depends: first.map(\.name))]
    }
}

/// Issue 8: the rootfs is composed while packages are still being fetched.
@Suite(.timeLimit(.minutes(1))) struct PipeliningTests {
    /// The last package's download is held until the composer has installed the two before it:
    /// composing from the stream gets there and finishes; waiting for every package first could
    /// not (the held download would give up after 30 s with a 404 and the fetch would fail).
    @Test func composesBeforeTheLastPackageIsFetched() async throws {
        let repository = try HeldRepository(HeldRepository.chain(2))
        try repository.hold("zz-last")
        let pipeline = Workspace.pipeline(repository.scratch)
        let resolved = try await pipeline.resolve(try repository.config(["zz-last"]))
        let image = try #require(resolved.images.first)
        #expect(image.packages.map(\.name) == ["pkg-0", "pkg-1", "zz-last"])
        let stream = pipeline.client.fetchStream(image.packages.map { pipeline.request(for: $0, architecture: image.architecture) })
        var handedOut = 0
        var lastWasAnsweredBeforeRelease: Bool?
        let composed = try await pipeline.composeRootfs(image, configuration: resolved.configuration, keyring: resolved.keyring,
                                                        epoch: BuildEpoch(seconds: 0, source: .sourceDateEpoch)) {
            () throws(DistillError) -> FetchedPackage? in
            // Every package handed out before this call is installed by now.
            if handedOut == 2 {
                lastWasAnsweredBeforeRelease = ((try? repository.downloads(of: "zz-last")) ?? []).contains { $0.status != 0 }
                try? repository.release("zz-last")
            }
            do throws(RepositoryError) {
                let package = try await stream.next()
                if package != nil { handedOut += 1 }
                return package
            } catch {
                throw DistillError(repository: error)
            }
        }
        #expect(lastWasAnsweredBeforeRelease == false)
        #expect(composed.fetched.map(\.info.name) == ["pkg-0", "pkg-1", "zz-last"])
        // Answered once, after the release (status 0 is the server holding it).
        #expect(try repository.downloads(of: "zz-last").map(\.status).filter { $0 != 0 } == [200])
    }

    /// A package that cannot be installed ends the build with the compose error while the last
    /// package's download is still held, and that download is cancelled (the server sees the
    /// connection close). A build that fetched everything first would instead wait for the held
    /// download until the server gives up on it with a 404.
    @Test func failedComposeCancelsTheRemainingDownloads() async throws {
        var packages = HeldRepository.chain(3)
        packages[2].files["usr/share/pkg-1/file"] = "not the same file\n"
        let repository = try HeldRepository(packages)
        try repository.hold("zz-last")
        // The conflicting package arrives only once the server holds the last one's request, so
        // that request is surely in flight when the compose fails.
        try repository.hold("pkg-2")
        let releaser = Task {
            let deadline = ContinuousClock.now + .seconds(30)
            while try repository.downloads(of: "zz-last").isEmpty && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            try repository.release("pkg-2")
        }
        let config = try repository.config(["zz-last"])
        let pipeline = Workspace.pipeline(repository.scratch)
        await #expect {
            _ = try await pipeline.build(config, options: BuildOptions(
                reference: "pipelining.example/app:1", output: repository.scratch.path("out") + "/",
                epoch: BuildEpoch(seconds: 0, source: .sourceDateEpoch), toolVersion: "test"))
        } throws: { error in
            guard let error = error as? DistillError else { return false }
            return error.kind == .compose && error.message.contains("trying to overwrite usr/share/pkg-1/file owned by")
        }
        try await releaser.value
        // The held request was cut off by the client (499), not answered: a build that waited
        // for it would have got the server's 404 after 30 s instead.
        let deadline = ContinuousClock.now + .seconds(10)
        while try repository.downloads(of: "zz-last").count < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try repository.downloads(of: "zz-last").map(\.status) == [0, 499])
    }
}
