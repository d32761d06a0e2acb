import Foundation

/// Tests/Servers/fault_server.py running in the background on 127.0.0.1 and a free port,
/// serving a directory with fault modes (see the script). Started and stopped like every test
/// server (``BackgroundProcess``): by PID, when the last reference goes away.
public final class LoopbackServer: Sendable {
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
    private let server: BackgroundProcess
    private let logURL: URL

    /// Serves `root` (logging to a file in `scratch`).
    public init(serving root: URL, in scratch: ScratchDirectory) throws {
        let stamp = UUID().uuidString
        let portURL = scratch.url.appendingPathComponent(".server-port-\(stamp)")
        logURL = scratch.url.appendingPathComponent(".server-log-\(stamp)")
        try Data().write(to: logURL)
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Servers/fault_server.py").path
        server = try BackgroundProcess(["python3", script, root.path, portURL.path, logURL.path], in: scratch,
                                       logName: ".server-output-\(stamp)")
        guard server.wait(until: { FileManager.default.fileExists(atPath: portURL.path) }) else {
            server.stop()
            throw ExternalTool.Failure(description: "the loopback server did not start: \(server.log)")
        }
        let port = try String(contentsOf: portURL, encoding: .utf8)
        baseURL = "http://127.0.0.1:\(port)"
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
