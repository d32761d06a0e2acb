import Foundation

/// The `distill` executable the tests drive end to end: `$DISTILL_BIN`, or the debug build in
/// this checkout (`make test` runs `swift build --build-tests` first, which builds it).
public enum DistillBinary {
    /// Where the binary is.
    public static let url: URL = {
        if let override = ProcessInfo.processInfo.environment["DISTILL_BIN"] {
            return URL(fileURLWithPath: override)
        }
        return Fixtures.repositoryRoot.appendingPathComponent(".build/debug/distill")
    }()

    /// Runs `distill arguments…` in `directory` and returns what it printed and its status.
    @discardableResult
    public static func run(
        _ arguments: [String],
        in directory: ScratchDirectory,
        environment: [String: String] = [:],
        expectSuccess: Bool = true
    ) throws -> ExternalTool.Output {
        var command = arguments
        if !environment.isEmpty {
            command = ["env"] + environment.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }
                + [url.path] + arguments
            return try ExternalTool.run(command[0], Array(command.dropFirst()), in: directory, expectSuccess: expectSuccess)
        }
        return try ExternalTool.run(url.path, command, in: directory, expectSuccess: expectSuccess)
    }
}
