import APK
import Foundation
import HTTPTransport
import ProgressReporting
import Repository
import TestSupport
import Testing

/// Events a reporter received, in order.
final class RecordedEvents: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [ProgressEvent] = []

    var reporter: ProgressReporter { ProgressReporter { [self] event in lock.withLock { events.append(event) } } }
    var all: [ProgressEvent] { lock.withLock { events } }
}

/// What a fetch reports while it downloads and verifies packages.
@Suite struct FetchProgressTests {
    static func requests(_ source: RepositorySource, index: APKIndexFile) -> [PackageRequest] {
        index.packages.filter { ["pretend-baselayout", "replayout"].contains($0.name) }.map { info in
            PackageRequest(name: info.name, version: info.version, architecture: "x86_64",
                           url: source.packageURL(architecture: "x86_64", fileName: info.fileName), checksum: info.checksum!,
                           repository: source.description, expectedSize: info.fileSize.map { Int64($0) })
        }
    }

    /// A slow server (512 bytes every 0.1 s): the plan carries the index's sizes, each package
    /// reports start, bytes received while it downloads, and done with its size, in that order.
    @Test func slowDownloadsReportBytesReceived() async throws {
        let setup = try HTTPRepositoryTests.Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let source = try setup.repository("slow")
        let index = try #require(try await client.loadIndex(source, architecture: "x86_64", keyring: keyring)).index
        let requests = Self.requests(source, index: index)
        let recorded = RecordedEvents()
        let fetched = try await client.fetch(requests, progress: recorded.reporter)
        let events = recorded.all
        #expect(events.first == ProgressEvent(.fetch, "x86_64", completed: 0,
                                              total: requests.compactMap(\.expectedSize).reduce(0, +), state: .plan))
        for (request, package) in zip(requests, fetched) {
            let mine = events.filter { $0.item == "x86_64/\(request.nameVersion)" }
            let size = try #require(try FileManager.default.attributesOfItem(atPath: package.path)[.size] as? Int)
            #expect(mine.first?.state == .start)
            #expect(mine.last == ProgressEvent(.fetch, "x86_64/\(request.nameVersion)", completed: Int64(size), total: Int64(size),
                                               state: .done))
            // About 3 KB at 5 KB/s take over half a second: the quarter-second watcher sees it grow.
            let runs = mine.filter { $0.state == .run }
            #expect(!runs.isEmpty, "\(mine)")
            #expect(runs.map(\.completed) == runs.map(\.completed).sorted())
            #expect(runs.allSatisfy { $0.completed > 0 && $0.completed <= Int64(size) && $0.total == request.expectedSize })
            #expect(mine.dropFirst().dropLast().allSatisfy { $0.state == .run })
        }
        #expect(try setup.leftovers().isEmpty)
    }

    /// A remote index reports its download by URL: start and done with its size, and again
    /// (done with the cached copy's size) when the server answers 304.
    @Test func remoteIndexesReportTheirDownload() async throws {
        let setup = try HTTPRepositoryTests.Setup()
        let client = setup.client()
        let keyring = try await setup.keyring(client)
        let source = try setup.repository("ok")
        let url = source.indexURL(architecture: "x86_64")
        let size = try #require(try FileManager.default.attributesOfItem(
            atPath: Fixtures.url("apko-testrepo/x86_64/APKINDEX.tar.gz").path)[.size] as? Int)
        for _ in 0..<2 {
            let recorded = RecordedEvents()
            _ = try await client.loadIndex(source, architecture: "x86_64", keyring: keyring, progress: recorded.reporter)
            let events = recorded.all.filter { $0.state != .run }
            #expect(events == [ProgressEvent(.fetch, url, completed: 0, total: nil, state: .start),
                               ProgressEvent(.fetch, url, completed: Int64(size), total: Int64(size), state: .done)])
        }
        #expect(try setup.server.requests().filter { $0.path.hasSuffix("APKINDEX.tar.gz") }.map(\.status) == [200, 304])
    }

    /// A local repository is read in place: start and done only, and no reporter means no work.
    @Test func localPackagesReportStartAndDone() async throws {
        let scratch = try ScratchDirectory()
        let client = RepositoryClient(options: RepositoryOptions(cache: RepositoryCache(root: scratch.path("cache"))))
        let keyring = try await client.loadKeyring([Fixtures.url("apko-testrepo/melange.rsa.pub").path]).keyring
        let source = try RepositorySource(location: Fixtures.url("apko-testrepo").path)
        let index = try #require(try await client.loadIndex(source, architecture: "x86_64", keyring: keyring)).index
        let recorded = RecordedEvents()
        _ = try await client.fetch(Self.requests(source, index: index), progress: recorded.reporter)
        let states = Dictionary(grouping: recorded.all.filter { $0.state != .plan }, by: \.item).mapValues { $0.map(\.state) }
        #expect(states == ["x86_64/pretend-baselayout-1.0.0-r0": [.start, .done], "x86_64/replayout-1.0.0-r0": [.start, .done]])
    }
}
