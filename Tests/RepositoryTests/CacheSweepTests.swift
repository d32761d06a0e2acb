import Repository
import TestSupport
import Testing

/// What a build sweeps from the repository cache before it starts: temporaries of killed
/// processes in every area, and nothing else.
@Suite("cache: abandoned temporaries")
struct CacheSweepTests {
    @Test func deadWritersTemporariesAreRemovedEverywhereElseNothing() throws {
        let scratch = try ScratchDirectory()
        let areas = ["packages", "indexes/0123", "keys/4567"]
        try AbandonedTemporaries.plant(in: scratch, areas: areas)
        #expect(RepositoryCache(root: scratch.path("cache")).removeAbandonedTemporaryFiles() == areas.count)
        #expect(try AbandonedTemporaries.left(in: scratch, areas: areas) == Array(repeating: AbandonedTemporaries.keptAfterSweep, count: areas.count))
    }
}
