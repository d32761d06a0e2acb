import Foundation
import Testing
import TestSupport
@testable import Distill

/// `distill publish` builds into a scratch layout under `$TMPDIR`; a killed publish's layout is
/// removed by the next publish, a running one's is kept.
@Suite("publish scratch space")
struct PublishScratchTests {
    @Test func killedPublishesLayoutsAreRemoved() throws {
        let directory = try ScratchDirectory()
        let dead = try AbandonedTemporaries.deadProcessID(in: directory)
        let abandoned = ".distill-publish.distill-\(dead)-0f"
        let running = ".distill-publish.distill-\(getpid())-1e"
        for name in [abandoned, running] {
            try FileManager.default.createDirectory(atPath: directory.path(name + "/layout/blobs/sha256"), withIntermediateDirectories: true)
            try directory.write(name + "/layout/index.json", text: "{}")
        }
        try directory.write("unrelated.txt", text: "kept")
        let anchor = Pipeline.publishScratchAnchor(in: directory.url.path)
        #expect(anchor == directory.url.path + "/distill-publish")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { !$0.hasPrefix(".std") }.sorted()
        #expect(left == [running, "unrelated.txt"])
    }
}
