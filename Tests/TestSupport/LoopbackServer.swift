import Foundation

/// Tests/Servers/fault_server.py running in the background on 127.0.0.1 and a free port,
/// serving a directory with fault modes (see the script). Started like ``ExternalTool`` starts
/// tools (default signal mask), stopped by PID when the last reference goes away.
public final class LoopbackServer {
    /// One request as the server logged it.
    public struct LoggedRequest: Sendable, Hashable {
        /// `GET` or `HEAD`.
        public let method: String
        /// The request path, mode segment included.
        public let path: String
        /// The status answered.
        public let status: Int
        /// The `If-None-Match` header sent, if any.
        public let ifNoneMatch: String?
        /// The `Authorization` header sent, if any.
        public let authorization: String?
        /// Body bytes sent.
        public let sent: Int
    }

    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    private let process: Process
    private let logURL: URL

    /// Serves `root` (logging to a file in `scratch`).
    public init(serving root: URL, in scratch: ScratchDirectory) throws {
        let stamp = UUID().uuidString
        let portURL = scratch.url.appendingPathComponent(".server-port-\(stamp)")
        logURL = scratch.url.appendingPathComponent(".server-log-\(stamp)")
        try Data().write(to: logURL)
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Servers/fault_server.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", ExternalTool.launcher, "python3", script, root.path, portURL.path, logURL.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: portURL.path) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw ExternalTool.Failure(description: "the loopback server did not start")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let port = try String(contentsOf: portURL, encoding: .utf8)
        baseURL = "http://127.0.0.1:\(port)"
    }

    deinit {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    /// The URL of `path` under fault mode `mode` (`ok`, `fail500once`, `cutonce`, …).
    public func url(_ mode: String, _ path: String = "") -> String {
        path.isEmpty ? "\(baseURL)/\(mode)" : "\(baseURL)/\(mode)/\(path)"
    }

    /// Every request served so far, in order.
    public func requests() throws -> [LoggedRequest] {
        let text = try String(contentsOf: logURL, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return LoggedRequest(method: object["method"] as! String, path: object["path"] as! String,
                                 status: object["status"] as! Int, ifNoneMatch: object["if_none_match"] as? String,
                                 authorization: object["authorization"] as? String, sent: object["sent"] as! Int)
        }
    }
}
