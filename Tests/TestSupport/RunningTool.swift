import Foundation

/// A tool started in the background, for tests that act while it runs (kill it at a chosen
/// moment). Started like ``ExternalTool/run(_:_:in:input:expectSuccess:timeout:)`` starts tools
/// (default signal mask); stdout and stderr go to files in the scratch directory, which the test
/// reads while the tool is still writing them.
public final class RunningTool {
    private let process: Process
    private let errorURL: URL
    private let outputURL: URL

    /// Starts `executable arguments…` in `directory` with `environment` added to the test's.
    public init(_ executable: String, _ arguments: [String], in directory: ScratchDirectory,
                environment: [String: String] = [:]) throws {
        let stamp = UUID().uuidString
        outputURL = directory.url.appendingPathComponent(".running-stdout-\(stamp)")
        errorURL = directory.url.appendingPathComponent(".running-stderr-\(stamp)")
        try Data().write(to: outputURL)
        try Data().write(to: errorURL)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = environment.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }
            + ["python3", "-c", ExternalTool.launcher, executable] + arguments
        process.currentDirectoryURL = directory.url
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorURL)
        try process.run()
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: outputURL)
        try? FileManager.default.removeItem(at: errorURL)
    }

    /// Whether the tool is still running.
    public var isRunning: Bool { process.isRunning }

    /// Everything written to stderr so far.
    public var standardError: String {
        String(decoding: (try? Data(contentsOf: errorURL)) ?? Data(), as: UTF8.self)
    }

    /// Everything written to stdout so far.
    public var standardOutput: String {
        String(decoding: (try? Data(contentsOf: outputURL)) ?? Data(), as: UTF8.self)
    }

    /// Waits until stderr has a complete line for which `matches` holds `count` times, the tool
    /// ends, or `timeout` passes. Returns whether the lines were seen.
    public func waitForLines(_ count: Int, timeout: Duration = .seconds(120), where matches: (Substring) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = standardError
            let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n") ?? text.startIndex)]
            if complete.split(separator: "\n").filter(matches).count >= count { return true }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// Sends SIGKILL and waits for the tool to be gone. Returns its termination status.
    @discardableResult
    public func kill() -> Int32 {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Waits for the tool to end (killing it after `timeout`) and returns its status.
    public func wait(timeout: Duration = .seconds(300)) -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        return kill()
    }
}
