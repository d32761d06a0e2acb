import Foundation

/// The real tools test suites judge outputs with. `make test` installs them first
/// (scripts/oracles.sh ensure_all); a missing one is installed here the same way, on first use.
public enum Oracles {
    /// Where scripts/oracles.sh keeps what it does not install system-wide:
    /// `$DISTILL_ORACLES`, default `$TMPDIR/distill-oracles`.
    public static var root: String {
        let environment = ProcessInfo.processInfo.environment
        let temporary = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return environment["DISTILL_ORACLES"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(temporary)/distill-oracles"
    }

    /// Makes sure every command of `tools` (command → Debian package) is on PATH, installing the
    /// missing ones' packages with scripts/oracles.sh ensure_apt.
    public static func ensureOnPath(_ tools: [String: String]) throws {
        if !tools.keys.allSatisfy(onPath) {
            try run(["ensure_apt"] + Set(tools.values).sorted())
        }
        for tool in tools.keys.sorted() where !onPath(tool) {
            throw ExternalTool.Failure(description: "scripts/oracles.sh did not install \(tool)")
        }
    }

    /// The venv with pyspdxtools, ntia-checker and syft from PyPI: its `bin` directory.
    public static let venv: Result<URL, any Error> = Result {
        let bin = URL(fileURLWithPath: root).appendingPathComponent("venv/bin")
        let tools = ["pyspdxtools", "ntia-checker", "syft"]
        if !tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent($0).path) }) {
            try run(["ensure_venv"])
        }
        for tool in tools where !FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(tool).path) {
            throw ExternalTool.Failure(description: "scripts/oracles.sh ensure_venv did not install \(tool) in \(bin.path)")
        }
        return bin
    }

    /// A venv tool's path.
    public static func tool(_ name: String) throws -> String {
        try venv.get().appendingPathComponent(name).path
    }

    /// Runs scripts/oracles.sh with `arguments`.
    static func run(_ arguments: [String]) throws {
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/oracles.sh").path
        try ExternalTool.run(script, arguments, in: try ScratchDirectory(), timeout: .seconds(900))
    }

    private static func onPath(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }
}
