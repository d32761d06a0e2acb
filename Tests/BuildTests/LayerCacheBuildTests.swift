import Foundation
import TestSupport
import Testing

/// `distill build` keeps compressed layers in `<cache-dir>/layers/` and reuses them: a rebuild
/// compresses nothing and writes the same image, a changed level or a damaged cache entry does
/// not give a wrong layer, and with layering a package layer is shared by different images.
@Suite("distill build: the compressed-layer cache")
struct LayerCacheBuildTests {
    static let tag = "registry.example/distill/layer-cache:1.0"
    static let cacheMarker = "from the layer cache"
    static let recipeMarker = "from the layer cache by its recipe"

    struct Build {
        let digest: String
        /// The info lines naming a layer taken from the cache.
        let hits: Int
        /// Those of them found by the layer's recipe, without hashing its tar.
        let recipeHits: Int
        let layout: Layout
    }

    func build(_ scratch: ScratchDirectory, config: String, output: String, extra: [String] = []) throws -> Build {
        let result = try DistillBinary.run(
            ["build", "--log-level", "info", "--cache-dir", scratch.path("cache")] + extra + [config, Self.tag, scratch.path(output) + "/"],
            in: scratch, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        let lines = result.standardError.split(separator: "\n")
        let hits = lines.filter { $0.contains(Self.cacheMarker) }.count
        return Build(digest: result.text.trimmingCharacters(in: .whitespacesAndNewlines), hits: hits,
                     recipeHits: lines.filter { $0.contains(Self.recipeMarker) }.count,
                     layout: Layout(directory: scratch.path(output)))
    }

    /// (diff_id, layer digest) of every layer of every platform, platforms in name order.
    func layers(_ layout: Layout) throws -> [(diffID: String, digest: String)] {
        var result: [(String, String)] = []
        for (_, entry) in try layout.manifests().sorted(by: { $0.key < $1.key }) {
            let config = try layout.blob(try #require((entry.manifest["config"] as? [String: Any])?["digest"] as? String))
            let diffIDs = try #require((config["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
            let digests = try #require(entry.manifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
            #expect(diffIDs.count == digests.count)
            result += zip(diffIDs, digests).map { ($0, $1) }
        }
        return result
    }

    /// The cached blob of `diffID` at `level`, wherever the format directory is.
    func cachedBlob(_ scratch: ScratchDirectory, diffID: String, level: Int) throws -> String? {
        let root = scratch.path("cache/layers")
        for format in try FileManager.default.contentsOfDirectory(atPath: root) {
            let path = "\(root)/\(format)/\(level)/\(diffID.replacingOccurrences(of: "sha256:", with: "")).tar.gz"
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    @Test("cold, warm, another level, a damaged entry: always the right layers, compressed only when needed")
    func reuse() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.melangeTzdata.prepare(in: scratch)

        let cold = try build(scratch, config: config, output: "cold")
        let coldLayers = try layers(cold.layout)
        #expect(coldLayers.count >= 4, "layering by origin gives each of the two platforms several layers")
        #expect(cold.hits == 0)
        for layer in coldLayers {
            let cached = try #require(try cachedBlob(scratch, diffID: layer.diffID, level: 6))
            let digest = try ExternalTool.run("sha256sum", [cached], in: scratch).text.prefix(64)
            #expect("sha256:" + digest == layer.digest)
        }

        // Warm: every layer from the cache, and the very same layout.
        let warm = try build(scratch, config: config, output: "warm")
        #expect(warm.hits == coldLayers.count)
        #expect(warm.digest == cold.digest)
        #expect(try warm.layout.files() == cold.layout.files())

        // Another level is another key: the same tars, other blobs, all compressed again.
        let fast = try build(scratch, config: config, output: "fast", extra: ["--compression-level", "1"])
        let fastLayers = try layers(fast.layout)
        #expect(fast.hits == 0)
        #expect(fastLayers.map(\.diffID) == coldLayers.map(\.diffID))
        #expect(zip(fastLayers, coldLayers).allSatisfy { $0.digest != $1.digest })
        #expect(try cachedBlob(scratch, diffID: coldLayers[0].diffID, level: 1) != nil)

        // A damaged cached blob (the output blobs share its inode, so an edit of either shows) is
        // a miss for that layer alone; the rebuilt image is the cold one.
        let damaged = try #require(try cachedBlob(scratch, diffID: coldLayers[0].diffID, level: 6))
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: damaged)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let repaired = try build(scratch, config: config, output: "repaired")
        #expect(repaired.hits == coldLayers.count - 1)
        #expect(repaired.digest == cold.digest)
        let again = try build(scratch, config: config, output: "again")
        #expect(again.hits == coldLayers.count)
        #expect(again.digest == cold.digest)
    }

    @Test("with layering, another image with the same packages reuses their layers and compresses only its own top layer")
    func sharedPackageLayers() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.melangeTzdata.prepare(in: scratch)
        let first = try build(scratch, config: config, output: "first")
        let firstLayers = try layers(first.layout)

        let text = try scratch.readText("apko.yaml").replacingOccurrences(of: "TZ: Europe/Paris", with: "TZ: Asia/Tokyo")
        try scratch.write("other.yaml", text: text)
        let other = try build(scratch, config: scratch.path("other.yaml"), output: "other")
        let otherLayers = try layers(other.layout)
        #expect(other.digest != first.digest)
        #expect(otherLayers.count == firstLayers.count)
        // Per platform the top layer (apko.json, the environment) differs; the package layers are
        // the same blobs, taken from the cache.
        let platforms = 2
        #expect(other.hits == firstLayers.count - platforms)
        let shared = zip(firstLayers, otherLayers).filter { $0.digest == $1.digest }.count
        #expect(shared == firstLayers.count - platforms)
    }

    @Test("a rebuild finds its layers by their recipes; without a record, or with a damaged one, it hashes the tar and records it again")
    func recipes() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.melangeTzdata.prepare(in: scratch)
        let records = scratch.path("cache/layers/recipes")
        func recordFiles() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: records).sorted() }

        let cold = try build(scratch, config: config, output: "cold")
        let count = try layers(cold.layout).count
        #expect(cold.recipeHits == 0)
        #expect(try recordFiles().count == count)

        let warm = try build(scratch, config: config, output: "warm")
        #expect(warm.hits == count && warm.recipeHits == count)
        #expect(warm.digest == cold.digest)

        // No records: every layer is hashed, found by its diff_id, and its record written again.
        let saved = try recordFiles()
        try FileManager.default.removeItem(atPath: records)
        let unrecorded = try build(scratch, config: config, output: "unrecorded")
        #expect(unrecorded.hits == count && unrecorded.recipeHits == 0)
        #expect(unrecorded.digest == cold.digest)
        #expect(try recordFiles() == saved)

        // Records naming a diff_id the cache does not hold are misses, never a wrong layer.
        for name in saved {
            let path = records + "/" + name
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let diffID = try #require(text.range(of: #"sha256:[0-9a-f]{64}"#, options: .regularExpression).map { String(text[$0]) })
            let forged = text.replacingOccurrences(of: diffID, with: "sha256:" + String(repeating: "0", count: 64))
            #expect(forged != text)
            try forged.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let forged = try build(scratch, config: config, output: "forged")
        #expect(forged.hits == count && forged.recipeHits == 0)
        #expect(forged.digest == cold.digest)
        let repaired = try build(scratch, config: config, output: "repaired")
        #expect(repaired.recipeHits == count)
        #expect(repaired.digest == cold.digest)
    }
}
