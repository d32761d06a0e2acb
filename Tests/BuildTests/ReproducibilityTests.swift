import Foundation
import TestSupport
import Testing

/// The same inputs and SOURCE_DATE_EPOCH give byte-identical outputs; another epoch changes
/// only the times and what carries them.
@Suite("distill build: reproducible outputs")
struct ReproducibilityTests {
    static let tag = "registry.example/distill/repro:1.0"

    func build(_ fixture: FixtureImage, in scratch: ScratchDirectory, config: String, output: String, epoch: String,
               cache: String = "cache", extra: [String] = []) throws -> String {
        // A path ending in / is a layout; keep the slash the scratch directory's URL would drop.
        let destination = scratch.path(output) + (output.hasSuffix("/") ? "/" : "")
        let result = try DistillBinary.run(["build", "--cache-dir", scratch.path(cache)] + extra + [config, Self.tag, destination],
                                           in: scratch, environment: ["SOURCE_DATE_EPOCH": epoch])
        return result.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("two builds with the same epoch: the same index digest, every blob, index.json and SBOM byte for byte",
          arguments: [FixtureImage.apkoTestRepo, .melangeTzdata])
    func sameEpochSameBytes(_ fixture: FixtureImage) throws {
        let scratch = try ScratchDirectory()
        let config = try fixture.prepare(in: scratch)
        // A cold cache and a warm one: the cache must not leak into the output.
        let first = try build(fixture, in: scratch, config: config, output: "one/", epoch: "1700000000", cache: "cache-1")
        let second = try build(fixture, in: scratch, config: config, output: "two/", epoch: "1700000000", cache: "cache-1")
        let third = try build(fixture, in: scratch, config: config, output: "three/", epoch: "1700000000", cache: "cache-2")
        #expect(first == second && second == third)
        let one = try Layout(directory: scratch.path("one")).files()
        #expect(one.keys.contains("sbom-index.spdx.json") && one.keys.contains("index.json"))
        #expect(one == (try Layout(directory: scratch.path("two")).files()))
        #expect(one == (try Layout(directory: scratch.path("three")).files()))

        // The docker archive too, and rebuilding into an existing layout changes nothing in it.
        try FileManager.default.createDirectory(atPath: scratch.path("b"), withIntermediateDirectories: true)
        _ = try build(fixture, in: scratch, config: config, output: "a.tar", epoch: "1700000000")
        _ = try build(fixture, in: scratch, config: config, output: "b/a.tar", epoch: "1700000000")
        #expect(try scratch.read("a.tar") == (try scratch.read("b/a.tar")))
        #expect(try build(fixture, in: scratch, config: config, output: "one", epoch: "1700000000") == first)
        #expect(one == (try Layout(directory: scratch.path("one")).files()))
        // Nothing is left behind next to the outputs.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.hasPrefix(".") && !$0.hasPrefix(".std") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("another epoch changes the times and the digests above them, not the layers")
    func otherEpochChangesOnlyTimes() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.apkoTestRepo.prepare(in: scratch)
        let first = try build(.apkoTestRepo, in: scratch, config: config, output: "one/", epoch: "1700000000")
        let second = try build(.apkoTestRepo, in: scratch, config: config, output: "two/", epoch: "1800000000")
        #expect(first != second)
        let one = Layout(directory: scratch.path("one")), two = Layout(directory: scratch.path("two"))
        let manifestsOne = try one.manifests(), manifestsTwo = try two.manifests()
        #expect(manifestsOne.keys.sorted() == ["amd64", "arm64"])
        for architecture in manifestsOne.keys {
            let a = try #require(manifestsOne[architecture]?.manifest), b = try #require(manifestsTwo[architecture]?.manifest)
            // The layers hold nothing dated by the epoch here (no install scripts, no certificates).
            #expect(NSArray(array: a["layers"] as? [Any] ?? []) == NSArray(array: b["layers"] as? [Any] ?? []))
            let annotationsA = try #require(a["annotations"] as? [String: String])
            let annotationsB = try #require(b["annotations"] as? [String: String])
            #expect(annotationsA["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z")
            #expect(annotationsB["org.opencontainers.image.created"] == "2027-01-15T08:00:00Z")
            var normalized = annotationsB
            normalized["org.opencontainers.image.created"] = annotationsA["org.opencontainers.image.created"]
            #expect(normalized == annotationsA)

            // The configs differ only in their `created` times.
            func withoutTimes(_ config: [String: Any]) -> NSDictionary {
                var copy = config
                copy["created"] = nil
                copy["history"] = (config["history"] as? [[String: Any]])?.map { entry -> [String: Any] in
                    var entry = entry
                    entry["created"] = nil
                    return entry
                }
                var container = config["config"] as? [String: Any] ?? [:]
                var labels = container["Labels"] as? [String: String] ?? [:]
                labels["org.opencontainers.image.created"] = nil
                container["Labels"] = labels
                copy["config"] = container
                return NSDictionary(dictionary: copy)
            }
            let configA = try one.blob(try #require((a["config"] as? [String: Any])?["digest"] as? String))
            let configB = try two.blob(try #require((b["config"] as? [String: Any])?["digest"] as? String))
            #expect(configA["created"] as? String != configB["created"] as? String)
            #expect(withoutTimes(configA) == withoutTimes(configB))
        }
        // The SBOMs differ in their creation time (and the digests they name), not in their packages.
        let sbomA = try one.json("sbom-x86_64.spdx.json"), sbomB = try two.json("sbom-x86_64.spdx.json")
        #expect((sbomA["creationInfo"] as? [String: Any])?["created"] as? String == "2023-11-14T22:13:20Z")
        #expect((sbomB["creationInfo"] as? [String: Any])?["created"] as? String == "2027-01-15T08:00:00Z")
        // The image and its layers are SBOM packages named by their digests; the apk packages keep their names.
        let names = { (document: [String: Any]) in
            ((document["packages"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.filter { !$0.hasPrefix("sha256:") }.sorted()
        }
        #expect(names(sbomA) == names(sbomB))
    }
}
