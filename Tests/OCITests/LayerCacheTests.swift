import Archive
import DistillCrypto
import Foundation
import OCI
import TestSupport
import Testing

@Suite("Layer cache")
struct LayerCacheTests {
    /// A real package's data section as a layer, stored in a cache inside `scratch`.
    static func storedLayer(in scratch: ScratchDirectory) throws -> (LayerCache, LayerBlob) {
        let (layer, _) = try TestImages.layer(fromAPK: Fixtures.url("alpine/packages/x86_64/strace-5.17-r0.apk"), in: scratch)
        let cache = LayerCache(root: scratch.path("cache"))
        try cache.store(layer)
        return (cache, layer)
    }

    @Test("a stored layer is found by (diff_id, level, format) and is byte for byte the blob stored")
    func storeAndHit() throws {
        let scratch = try ScratchDirectory()
        let (cache, layer) = try Self.storedLayer(in: scratch)
        let hit = try #require(try cache.blob(for: layer.cacheKey))
        #expect(hit.descriptor == layer.descriptor)
        #expect(hit.diffID == layer.diffID)
        #expect(hit.uncompressedSize == layer.uncompressedSize)
        #expect(hit.path == cache.blobPath(for: layer.cacheKey))
        #expect(try Data(contentsOf: URL(fileURLWithPath: hit.path)) == Data(contentsOf: URL(fileURLWithPath: layer.path)))
        #expect(hit.path.hasPrefix(scratch.path("cache/layers/\(ParallelGzipWriter.outputFormat())/6/")))
        let digest = try ExternalTool.run("sha256sum", [hit.path], in: scratch).text.prefix(64)
        #expect(String(digest) == layer.descriptor.digest.hex)

        // Placed into a working directory as its own file, the cache's copy stays where it is.
        let work = scratch.path("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: false)
        let placed = try #require(try cache.blob(for: layer.cacheKey, placedIn: work))
        #expect(placed.path.hasPrefix(work + "/"))
        #expect(placed.descriptor == layer.descriptor)
        unlink(placed.path)
        #expect(try cache.blob(for: layer.cacheKey) != nil)
    }

    @Test("another level, format or diff_id is a miss")
    func misses() throws {
        let scratch = try ScratchDirectory()
        let (cache, layer) = try Self.storedLayer(in: scratch)
        #expect(try cache.blob(for: LayerCacheKey(diffID: layer.diffID, compressionLevel: 9)) == nil)
        #expect(try cache.blob(for: LayerCacheKey(diffID: layer.diffID, compressionLevel: 6, format: "pgzip1-b65536-zlib0")) == nil)
        let other = DigestAlgorithm.sha256.hash(Array("not this layer".utf8))
        #expect(try cache.blob(for: LayerCacheKey(diffID: other, compressionLevel: 6)) == nil)
        #expect(try LayerCache(root: scratch.path("empty")).blob(for: layer.cacheKey) == nil)
    }

    struct Damage: Sendable, CustomStringConvertible {
        let description: String
        let apply: @Sendable (String, String) throws -> Void  // blob path, record path
    }

    static let damages = [
        Damage(description: "blob cut short") { blob, _ in
            #expect(truncate(blob, 100) == 0)
        },
        Damage(description: "one byte of the blob changed, same size") { blob, _ in
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: blob)))
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: blob))
        },
        Damage(description: "blob removed") { blob, _ in
            #expect(unlink(blob) == 0)
        },
        Damage(description: "descriptor removed") { _, record in
            #expect(unlink(record) == 0)
        },
        Damage(description: "descriptor not JSON") { _, record in
            try Data("{".utf8).write(to: URL(fileURLWithPath: record))
        },
        Damage(description: "descriptor of another diff_id") { _, record in
            let text = try String(contentsOfFile: record, encoding: .utf8)
            let other = DigestAlgorithm.sha256.hash(Array("x".utf8)).description
            let diffID = try #require(text.range(of: #""diffID":"sha256:[0-9a-f]{64}""#, options: .regularExpression))
            try text.replacingCharacters(in: diffID, with: "\"diffID\":\"\(other)\"").write(toFile: record, atomically: true, encoding: .utf8)
        },
    ]

    @Test("a damaged entry is a miss, and storing again repairs it", arguments: damages)
    func damagedEntry(_ damage: Damage) throws {
        let scratch = try ScratchDirectory()
        let (cache, layer) = try Self.storedLayer(in: scratch)
        try damage.apply(cache.blobPath(for: layer.cacheKey), cache.recordPath(for: layer.cacheKey))
        #expect(try cache.blob(for: layer.cacheKey) == nil)
        // The stored blob is a hard link of the layer file, so the damage may have reached it
        // too: compress the same tar again, as a build does after a miss.
        let (again, _) = try TestImages.layer(fromAPK: Fixtures.url("alpine/packages/x86_64/strace-5.17-r0.apk"), in: scratch)
        #expect(again.descriptor == layer.descriptor)
        try cache.store(again)
        #expect(try cache.blob(for: layer.cacheKey)?.descriptor == layer.descriptor)
    }

    @Test("the diff_id hasher gives the writer's diff_id and tar length for the same tar")
    func diffIDHasher() throws {
        let scratch = try ScratchDirectory()
        let files = TestImages.smallRootfs(marker: "hash")
        let layer = try TestImages.layer(files, in: scratch)
        let hasher = LayerDiffIDHasher()
        let tar = TarWriter(sink: hasher)
        for file in files {
            if file.kind == .regular { try tar.append(file.entry, content: file.content) } else { try tar.append(file.entry) }
        }
        try tar.finish()
        #expect(hasher.count == layer.uncompressedSize)
        #expect(hasher.finalize() == layer.diffID)
    }

    @Test("a store leaves no temporary files, and the format names zlib's version")
    func noTemporaries() throws {
        let scratch = try ScratchDirectory()
        let (cache, layer) = try Self.storedLayer(in: scratch)
        try cache.store(layer)
        // Storing what the cache handed out (the same inode under both names) leaves nothing either.
        try cache.store(try #require(try cache.blob(for: layer.cacheKey)))
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory(for: layer.cacheKey)).sorted()
        #expect(names == ["\(layer.diffID.hex).json", "\(layer.diffID.hex).tar.gz"])
        let zlib = try ExternalTool.run("python3", ["-c", "import zlib; print(zlib.ZLIB_RUNTIME_VERSION)"], in: scratch).text
        #expect(ParallelGzipWriter.outputFormat() == "pgzip1-b131072-zlib\(zlib.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
}

@Suite("Layer cache: recipe records")
struct LayerRecipeRecordTests {
    static let recipe = DigestAlgorithm.sha256.hash(Array("a layer recipe".utf8))
    static let diffID = DigestAlgorithm.sha256.hash(Array("the tar it described".utf8))

    @Test("a stored record names its diff_id for its recipe and predicted size only")
    func roundTrip() throws {
        let scratch = try ScratchDirectory()
        let cache = LayerCache(root: scratch.path("cache"))
        #expect(cache.diffID(forRecipe: Self.recipe, uncompressedSize: 3072) == nil)
        try cache.storeRecipe(Self.recipe, diffID: Self.diffID, uncompressedSize: 3072)
        #expect(cache.recipeRecordPath(Self.recipe) == scratch.path("cache/layers/recipes/\(Self.recipe.hex).json"))
        #expect(cache.diffID(forRecipe: Self.recipe, uncompressedSize: 3072) == Self.diffID)
        #expect(cache.diffID(forRecipe: Self.recipe, uncompressedSize: 3584) == nil, "another tar size is another tar")
        let other = DigestAlgorithm.sha256.hash(Array("another recipe".utf8))
        #expect(cache.diffID(forRecipe: other, uncompressedSize: 3072) == nil)
        // Storing again (a concurrent or later build) replaces the record atomically.
        try cache.storeRecipe(Self.recipe, diffID: other, uncompressedSize: 3072)
        #expect(cache.diffID(forRecipe: Self.recipe, uncompressedSize: 3072) == other)
    }

    struct BadRecord: Sendable, CustomStringConvertible {
        let description: String
        let text: @Sendable (String) -> String  // the recipe's description → the file's text
    }

    static let badRecords = [
        BadRecord(description: "cut short") { _ in "{\"diffID\":\"sha256:" },
        BadRecord(description: "not JSON") { _ in "diffID sha256:00\n" },
        BadRecord(description: "names another recipe") { _ in
            "{\"diffID\":\"\(diffID)\",\"recipe\":\"\(DigestAlgorithm.sha256.hash([0]))\",\"uncompressedSize\":3072}"
        },
        BadRecord(description: "a malformed diff_id") { recipe in
            "{\"diffID\":\"sha256:xyz\",\"recipe\":\"\(recipe)\",\"uncompressedSize\":3072}"
        },
        BadRecord(description: "another size") { recipe in
            "{\"diffID\":\"\(diffID)\",\"recipe\":\"\(recipe)\",\"uncompressedSize\":1}"
        },
        BadRecord(description: "a directory in its place") { _ in "" },
    ]

    @Test("a damaged record is no record", arguments: badRecords)
    func damagedRecords(_ bad: BadRecord) throws {
        let scratch = try ScratchDirectory()
        let cache = LayerCache(root: scratch.path("cache"))
        try cache.storeRecipe(Self.recipe, diffID: Self.diffID, uncompressedSize: 3072)
        let path = cache.recipeRecordPath(Self.recipe)
        if bad.description == "a directory in its place" {
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } else {
            try Data(bad.text(Self.recipe.description).utf8).write(to: URL(fileURLWithPath: path))
        }
        #expect(cache.diffID(forRecipe: Self.recipe, uncompressedSize: 3072) == nil)
    }
}

@Suite("Layer cache: abandoned temporaries")
struct LayerCacheSweepTests {
    @Test("a killed writer's temporaries under layers/ are removed, a running one's and finished files are kept")
    func deadWritersTemporariesAreRemoved() throws {
        let scratch = try ScratchDirectory()
        let areas = ["layers/\(ParallelGzipWriter.outputFormat())/6", "layers/\(ParallelGzipWriter.outputFormat())/1", "layers/recipes"]
        try AbandonedTemporaries.plant(in: scratch, areas: areas)
        #expect(LayerCache(root: scratch.path("cache")).removeAbandonedTemporaryFiles() == areas.count)
        #expect(try AbandonedTemporaries.left(in: scratch, areas: areas) == Array(repeating: AbandonedTemporaries.keptAfterSweep, count: areas.count))
    }
}
