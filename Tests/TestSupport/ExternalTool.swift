import Foundation

/// Runs the real tools (`openssl`, `python3`, `tar`, `gzip`, …) that serve as test oracles.
///
/// Input and output go through files in a scratch directory rather than pipes, so large outputs
/// cannot deadlock and every artefact can be handed to the next command by path.
public struct ExternalTool {
    /// A tool that failed or timed out.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        /// A failure described by `description`.
        public init(description: String) { self.description = description }
    }

    /// What a finished command left behind.
    public struct Output: Sendable {
        /// The exit status.
        public let status: Int32
        /// Everything written to stdout.
        public let standardOutput: Data
        /// Everything written to stderr, as text.
        public let standardError: String

        /// stdout as text.
        public var text: String { String(decoding: standardOutput, as: UTF8.self) }
    }

    /// Foundation's `Process` on Linux starts children with the spawning thread's signal mask,
    /// which under the test runner blocks almost everything: `openssl speed` then never sees its
    /// SIGALRM and runs forever. This launcher restores a default mask and SIGPIPE disposition
    /// before it execs the real tool.
    static let launcher = """
        import os, signal, sys
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execvp(sys.argv[1], sys.argv[1:])
        """

    /// Runs `executable` (looked up on PATH) with `arguments` in `directory`, killing it after
    /// `timeout` seconds so a misbehaving tool fails the test instead of hanging the run.
    @discardableResult
    public static func run(
        _ executable: String,
        _ arguments: [String],
        in directory: ScratchDirectory,
        input: Data? = nil,
        expectSuccess: Bool = true,
        timeout: Duration = .seconds(120)
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", launcher, executable] + arguments
        process.currentDirectoryURL = directory.url

        let stamp = UUID().uuidString
        let inputURL = directory.url.appendingPathComponent(".stdin-\(stamp)")
        let outputURL = directory.url.appendingPathComponent(".stdout-\(stamp)")
        let errorURL = directory.url.appendingPathComponent(".stderr-\(stamp)")
        try (input ?? Data()).write(to: inputURL)
        try Data().write(to: outputURL)
        try Data().write(to: errorURL)
        let inputHandle = try FileHandle(forReadingFrom: inputURL)
        let outputHandle = try FileHandle(forWritingTo: outputURL)
        let errorHandle = try FileHandle(forWritingTo: errorURL)
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
            try? errorHandle.close()
            for url in [inputURL, outputURL, errorURL] { try? FileManager.default.removeItem(at: url) }
        }
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw Failure(description: "\(executable) \(arguments.joined(separator: " ")) did not finish in \(timeout)")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()

        let output = Output(
            status: process.terminationStatus,
            standardOutput: try Data(contentsOf: outputURL),
            standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self)
        )
        if expectSuccess && output.status != 0 {
            throw Failure(
                description: "\(executable) \(arguments.joined(separator: " ")) exited \(output.status): \(output.standardError)"
            )
        }
        return output
    }

    /// `openssl …` in `directory`.
    @discardableResult
    public static func openssl(
        _ arguments: String...,
        in directory: ScratchDirectory,
        input: Data? = nil,
        expectSuccess: Bool = true
    ) throws -> Output {
        try run("openssl", arguments, in: directory, input: input, expectSuccess: expectSuccess)
    }
}

/// A temporary directory that removes itself when the last reference goes away.
public final class ScratchDirectory: Sendable {
    /// Where the directory is.
    public let url: URL

    /// Creates a fresh, empty directory under the temporary directory.
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("distill-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// The path of `name` inside the directory.
    public func path(_ name: String) -> String {
        url.appendingPathComponent(name).path
    }

    /// Writes `bytes` to `name` inside the directory.
    public func write(_ name: String, _ bytes: some Sequence<UInt8>) throws {
        try Data(bytes).write(to: url.appendingPathComponent(name))
    }

    /// Writes UTF-8 `text` to `name` inside the directory.
    public func write(_ name: String, text: String) throws {
        try Data(text.utf8).write(to: url.appendingPathComponent(name))
    }

    /// The bytes of `name`.
    public func read(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url.appendingPathComponent(name)))
    }

    /// The text of `name`.
    public func readText(_ name: String) throws -> String {
        String(decoding: try read(name), as: UTF8.self)
    }
}
