import APK
import Archive
import DistillCrypto
import Foundation
import TestSupport
import Testing

/// Crash safety (issue 9): `distill build` is killed with SIGKILL at several points of a build that
/// takes a few seconds — while the index is fetched, while packages are fetched and expanded into
/// the cache, while the rootfs is composed and its layers compressed, while the layout is written,
/// and at the final rename — and each time the output must be absent or complete, and the next
/// build must succeed with the digest of an uninterrupted build and leave no temporary file behind.
///
/// Kill points are found in what the build prints on stderr when it is not a terminal: its
/// progress events (`progress: <activity> <item> <completed>/<total> <state>`, one line each; see
/// ProgressReporting's `ProgressEvent`) and, before the first of them, the `info: resolving` step
/// line. After the chosen line the test waits a random 0–150 ms, so repeated runs land at
/// different moments of each step.
/// Temporary files of a killed build (its working directory and staging layout beside the output,
/// partial downloads and expansions in the cache) may exist right after the kill; the next build
/// removes them, because their names carry the dead process's id.
@Suite("Kill tests", .serialized)
struct KillTests {
    /// A kill point: the `count`th stderr line that starts with `prefix` (and ends with
    /// ` <state>` when a state is given).
    struct KillPoint: Sendable, CustomStringConvertible {
        var prefix: String
        var state: String?
        var count = 1
        var description: String { "after \(count) × '\(prefix)…\(state.map { " \($0)" } ?? "")'" }

        func matches(_ line: Substring) -> Bool {
            line.hasPrefix(prefix) && (state.map { line.hasSuffix(" " + $0) } ?? true)
        }
    }

    static let points = [
        // While the index is fetched and verified.
        KillPoint(prefix: "info: resolving"),
        // While the first packages download, verify and expand into the cache.
        KillPoint(prefix: "progress: fetch ", state: "start"),
        // With some packages in the cache and others still coming.
        KillPoint(prefix: "progress: fetch ", state: "done", count: 3),
        // While the layer is tarred and compressed.
        KillPoint(prefix: "progress: layer ", state: "start"),
        // While the blobs are written to the staging layout.
        KillPoint(prefix: "progress: write ", state: "start"),
        // The final phase: index.json, then the rename into place.
        KillPoint(prefix: "progress: write ", state: "commit"),
    ]

    /// How many times each point is tried per run (`DISTILL_KILL_ROUNDS`, default 1).
    static let rounds = Int(ProcessInfo.processInfo.environment["DISTILL_KILL_ROUNDS"] ?? "") ?? 1

    static let environment = ["SOURCE_DATE_EPOCH": "1700000000"]

    @Test("SIGKILL at every step leaves the old state or the new one, and the next build gives the same image")
    func killAndRebuild() throws {
        let world = try KillWorld()
        let reference = try DistillBinary.run(world.build(output: "reference", cache: "cache-reference"), in: world.scratch,
                                              environment: Self.environment)
        let digest = reference.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(digest.hasPrefix("sha256:"))

        var outcomes: [String] = []
        for round in 0..<Self.rounds {
            for (position, point) in Self.points.enumerated() {
                let name = "out-\(round)-\(position)"
                let cache = "cache-\(round)-\(position)"
                let tool = try RunningTool(DistillBinary.url.path, world.build(output: name, cache: cache), in: world.scratch,
                                           environment: Self.environment)
                let seen = tool.waitForLines(point.count, where: point.matches)
                Thread.sleep(forTimeInterval: Double.random(in: 0...0.15))
                let status = tool.kill()
                let state = try KillWorld.checkOutput(world.scratch.path(name))
                outcomes.append("\(point): \(seen ? "" : "finished before the line, ")status \(status), output \(state)")

                let again = try DistillBinary.run(world.build(output: name, cache: cache), in: world.scratch,
                                                  environment: Self.environment, expectSuccess: false)
                #expect(again.status == 0, "rebuild after a kill \(point): \(again.standardError)")
                #expect(again.text.trimmingCharacters(in: .whitespacesAndNewlines) == digest, "\(point)")
                #expect(try KillWorld.checkOutput(world.scratch.path(name)) == "complete", "\(point)")
                let leftovers = try FileManager.default.contentsOfDirectory(atPath: world.scratch.url.path)
                    .filter { $0.hasPrefix(".\(name).") }
                #expect(leftovers == [], "\(point): left beside the output: \(leftovers)")
                let cacheTemporaries = LayoutInspection.files(under: world.scratch.path(cache))
                    .filter { ($0 as NSString).lastPathComponent.hasPrefix(".") }
                #expect(cacheTemporaries == [], "\(point): left in the cache: \(cacheTemporaries)")
            }
        }
        print(outcomes.joined(separator: "\n"))
    }
}

/// A repository of packages big enough that a build takes a few seconds, served over HTTP.
final class KillWorld {
    let scratch: ScratchDirectory
    let server: LoopbackServer
    let repository: String

    init() throws {
        let workspace = try AttackWorkspace()
        scratch = workspace.scratch
        var packages: [CraftedPackage] = []
        var generator = XorShift(seed: 0x5eed)
        for number in 0..<6 {
            // Incompressible content: deflate cannot take a shortcut, so each layer costs time.
            let content = generator.bytes(6 << 20)
            packages.append(try Craft.package(
                name: "bulk\(number)", items: Craft.skeleton + [.directory("usr/share/bulk\(number)"),
                                                                 .bytes("usr/share/bulk\(number)/data", content)],
                depends: number == 0 ? (1..<6).map { "bulk\($0)" } : []))
        }
        try workspace.publish(packages, records: try packages.enumerated().map { number, package in
            try package.record(depends: number == 0 ? (1..<6).map { "bulk\($0)" } : [])
        })
        server = try LoopbackServer(serving: URL(fileURLWithPath: workspace.repositoryPath), in: scratch)
        repository = server.url("ok")
        try workspace.config(packages: ["bulk0"], repository: repository)
    }

    func build(output: String, cache: String) -> [String] {
        ["build", "--log-level", "info", "--cache-dir", cache, "apko.yaml", AttackWorkspace.reference, output + "/"]
    }

    /// "absent", or "complete" when index.json and every blob it reaches (recursively) exist with
    /// their size and digest, and the SBOMs are there; anything else fails the test.
    static func checkOutput(_ layout: String) throws -> String {
        guard FileManager.default.fileExists(atPath: layout) else { return "absent" }
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(layout)/index.json"))) as! [String: Any]
        var pending = (index["manifests"] as! [[String: Any]])
        var checked = 0
        while let descriptor = pending.popLast() {
            let digest = descriptor["digest"] as! String
            let hex = String(digest.dropFirst("sha256:".count))
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(hex)")))
            #expect(bytes.count == descriptor["size"] as! Int, "\(digest) size")
            #expect(DigestAlgorithm.sha256.hash(bytes).hex == hex, "\(digest) content")
            checked += 1
            let mediaType = descriptor["mediaType"] as? String ?? ""
            if mediaType.hasSuffix("index.v1+json") || mediaType.hasSuffix("manifest.v1+json") {
                let object = try JSONSerialization.jsonObject(with: Data(bytes)) as! [String: Any]
                pending += object["manifests"] as? [[String: Any]] ?? []
                if let config = object["config"] as? [String: Any] { pending.append(config) }
                pending += object["layers"] as? [[String: Any]] ?? []
            }
        }
        #expect(checked >= 4)
        for sbom in ["sbom-index.spdx.json", "sbom-x86_64.spdx.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(layout)/\(sbom)"), "\(sbom) missing from a committed layout")
        }
        return "complete"
    }
}

/// A fast deterministic byte generator for bulk test content.
struct XorShift {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { buffer in
            let words = buffer.bindMemory(to: UInt64.self)
            for index in words.indices { words[index] = next() }
        }
        return result
    }
}
