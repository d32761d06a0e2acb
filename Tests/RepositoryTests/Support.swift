import APK
import Foundation
import Repository
import TestSupport

/// Scratch repositories built from the fixtures: symlinks where the fixture is used as it is,
/// copies where a test changes bytes.
enum Scratch {
    /// `<scratch>/<name>/<arch>` pointing at the fixture folder `fixture` (which holds
    /// `APKINDEX.tar.gz` and the packages directly).
    static func linkRepository(_ scratch: ScratchDirectory, name: String = "repo", arch: String, fixture: String) throws -> String {
        let directory = scratch.url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent(arch).path,
                                                   withDestinationPath: Fixtures.url(fixture).path)
        return directory.path
    }

    /// `<scratch>/<name>/<arch>/…` as a copy of the fixture folder, writable.
    static func copyRepository(_ scratch: ScratchDirectory, name: String = "repo", arch: String, fixture: String) throws -> String {
        let directory = scratch.url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent(arch)
        try FileManager.default.copyItem(at: Fixtures.url(fixture), to: target)
        try makeWritable(target)
        return directory.path
    }

    /// The fixtures are read-only; copies must be writable to be tampered with and removed.
    static func makeWritable(_ url: URL) throws {
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
            let item = url.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: item.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                try makeWritable(item)
            } else {
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: item.path)
            }
        }
    }

    static func client(_ scratch: ScratchDirectory, limits: RepositoryLimits = RepositoryLimits(),
                       concurrency: Int = 6, offline: Bool = false) -> RepositoryClient {
        RepositoryClient(options: RepositoryOptions(cache: RepositoryCache(root: scratch.path("cache")), offline: offline,
                                                    limits: limits, maximumConcurrentFetches: concurrency))
    }

    /// The melange key that signs apko-testrepo.
    static func testRepoKeyring(_ client: RepositoryClient) async throws -> Keyring {
        try await client.loadKeyring([Fixtures.url("apko-testrepo/melange.rsa.pub").path]).keyring
    }

    /// Fetch requests for every package of a loaded index, in index order.
    static func requests(for index: LoadedIndex) -> [PackageRequest] {
        index.index.packages.map { info in
            PackageRequest(name: info.name, version: info.version, architecture: index.architecture,
                           url: index.source.packageURL(architecture: index.architecture, fileName: info.fileName),
                           checksum: info.checksum!, repository: index.source.description)
        }
    }
}
