import Foundation

/// Temporary files as killed and running writers leave them (Archive's `TemporaryName` rule:
/// `.<final name>.<tag>-<pid>-<random>`), for tests of the sweeps that remove the dead ones.
public enum AbandonedTemporaries {
    /// A process id that certainly no longer runs: a child that has exited and been reaped.
    public static func deadProcessID(in scratch: ScratchDirectory) throws -> String {
        try ExternalTool.run("sh", ["-c", "echo $$"], in: scratch).text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// In each of `areas` (directories under `cache/` in `scratch`, created): a dead writer's
    /// temporary of `entry`, a running writer's (this process) and the finished `entry`.
    public static func plant(in scratch: ScratchDirectory, areas: [String]) throws {
        let dead = try deadProcessID(in: scratch)
        for area in areas {
            try FileManager.default.createDirectory(atPath: scratch.path("cache/\(area)"), withIntermediateDirectories: true)
            try scratch.write("cache/\(area)/.entry.tmp-\(dead)-cut", text: "partial")
            try scratch.write("cache/\(area)/.entry.tmp-\(getpid())-writing", text: "in progress")
            try scratch.write("cache/\(area)/entry", text: "kept")
        }
    }

    /// The names left in each of `areas`, sorted.
    public static func left(in scratch: ScratchDirectory, areas: [String]) throws -> [[String]] {
        try areas.map { try FileManager.default.contentsOfDirectory(atPath: scratch.path("cache/\($0)")).sorted() }
    }

    /// What a sweep must leave in each planted area: the running writer's temporary and the file.
    public static var keptAfterSweep: [String] { [".entry.tmp-\(getpid())-writing", "entry"] }
}
