import DistillCrypto
import Foundation
import OCI
import ProgressReporting
import TestSupport
import Testing

/// Collects events, and runs a check the moment a `commit` arrives (the instant before the
/// output is renamed into place).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [ProgressEvent] = []
    private var atCommit: [Bool] = []
    private let checkAtCommit: @Sendable () -> Bool

    init(checkAtCommit: @escaping @Sendable () -> Bool) { self.checkAtCommit = checkAtCommit }

    var reporter: ProgressReporter {
        ProgressReporter { [self] event in
            let check = event.state == .commit ? checkAtCommit() : nil
            lock.withLock {
                recorded.append(event)
                if let check { atCommit.append(check) }
            }
        }
    }

    var events: [ProgressEvent] { lock.withLock { recorded } }
    var commitChecks: [Bool] { lock.withLock { atCommit } }
}

@Suite struct PublishProgressTests {
    /// Every distinct blob and manifest of `image`, in bytes.
    static func bytes(_ image: MultiPlatformImage) -> Int64 {
        var seen: Set<String> = []
        var total: Int64 = 0
        for descriptor in image.images.flatMap({ $0.blobs.map(\.descriptor) + [$0.manifest.descriptor] }) + [image.index.descriptor]
        where seen.insert(descriptor.digest.description).inserted {
            total += descriptor.size
        }
        return total
    }

    /// A layout: start with every byte, a run per stored blob and manifest (growing to the total),
    /// commit while the layout does not exist yet under its name, then done.
    @Test func layoutWriteReportsEachBlobAndCommitsBeforeTheRename() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        let layout = scratch.path("layout")
        let log = EventLog { !FileManager.default.fileExists(atPath: layout) }
        try await OCILayoutWriter.write(image, to: layout, refName: "app:1", progress: log.reporter)
        let events = log.events
        let total = Self.bytes(image)
        #expect(events.allSatisfy { $0.activity == .write && $0.item == layout })
        #expect(events.first == ProgressEvent(.write, layout, completed: 0, total: total, state: .start))
        let runs = events.filter { $0.state == .run }
        // Two images of config + layer + manifest (6), and the index.
        #expect(runs.count == 7)
        #expect(runs.map(\.completed) == runs.map(\.completed).sorted())
        #expect(runs.last?.completed == total)
        #expect(events.suffix(2).map(\.state) == [.commit, .done])
        #expect(log.commitChecks == [true])
        #expect(FileManager.default.fileExists(atPath: layout + "/index.json"))
    }

    /// A docker archive: commit while the archive is not yet under its name.
    @Test func dockerArchiveCommitsBeforeTheRename() throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        let archive = scratch.path("image.tar")
        let log = EventLog { !FileManager.default.fileExists(atPath: archive) }
        try DockerArchiveWriter.write(image, reference: try ImageReference(parsing: "app:1"), refName: "app:1", to: archive,
                                      progress: log.reporter)
        let events = log.events
        #expect(events.first?.state == .start)
        #expect(events.filter { $0.state == .run }.count >= 7)
        #expect(events.suffix(2).map(\.state) == [.commit, .done])
        #expect(log.commitChecks == [true])
        #expect(FileManager.default.fileExists(atPath: archive))
    }

    /// Publishing again finds every blob there and still advances to the total.
    @Test func skippedBlobsStillCount() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        let layout = scratch.path("layout")
        try await OCILayoutWriter.write(image, to: layout, refName: "app:1")
        let log = EventLog { true }
        let writer = try OCILayoutWriter(directory: layout, indexMode: .update)
        let report = try await ImagePublisher.publish(image, to: writer, tags: ["app:1"],
                                                      progress: PublishProgress(log.reporter, .push, item: "again"))
        #expect(report.blobsWritten.isEmpty)
        #expect(log.events.last == ProgressEvent(.push, "again", completed: Self.bytes(image), total: Self.bytes(image), state: .run))
    }
}
