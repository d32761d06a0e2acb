import Foundation
import Repository
import TestSupport
import Testing

/// What a build sweeps from the shared cache directory before it starts: temporaries of killed
/// processes in every area, the layer cache's included, and nothing else.
@Suite("cache: abandoned temporaries")
struct CacheSweepTests {
    @Test func deadWritersTemporariesAreRemovedEverywhereElseNothing() throws {
        let scratch = try ScratchDirectory()
        // A pid that is certainly gone: a child that has exited and been reaped.
        let dead = try ExternalTool.run("sh", ["-c", "echo $$"], in: scratch).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let alive = String(getpid())
        let areas = ["packages", "indexes/0123", "keys/4567", "layers/pgzip1-b131072-zlib1.2.13/6", "layers/recipes"]
        for area in areas {
            try FileManager.default.createDirectory(atPath: scratch.path("cache/\(area)"), withIntermediateDirectories: true)
            try scratch.write("cache/\(area)/.entry.tmp-\(dead)-cut", text: "partial")
            try scratch.write("cache/\(area)/.entry.tmp-\(alive)-writing", text: "in progress")
            try scratch.write("cache/\(area)/entry", text: "kept")
        }
        let removed = RepositoryCache(root: scratch.path("cache")).removeAbandonedTemporaryFiles()
        #expect(removed == areas.count)
        for area in areas {
            let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path("cache/\(area)")).sorted()
            #expect(left == [".entry.tmp-\(alive)-writing", "entry"], "\(area)")
        }
    }
}
