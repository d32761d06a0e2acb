import Foundation

/// A `docker-registry` (distribution 2.8, Debian's package) on 127.0.0.1 and a free port,
/// storing into a scratch directory, optionally behind htpasswd basic authentication. The one
/// way every test suite starts a registry; it is stopped by PID by ``stop()`` or when the last
/// reference goes away.
public final class LocalRegistry: Sendable {
    /// One request from the registry's access log.
    public struct Request: Sendable, Hashable, CustomStringConvertible {
        /// `GET`, `HEAD`, `POST`, `PATCH`, `PUT`, `DELETE`.
        public let method: String
        /// The request URI, query included.
        public let path: String
        /// The status answered.
        public let status: Int

        /// `PUT /v2/… 201`.
        public var description: String { "\(method) \(path) \(status)" }

        /// Whether the request opened or fed a blob upload (POST, PATCH or PUT under `/blobs/uploads/`).
        public var isBlobUpload: Bool {
            ["POST", "PATCH", "PUT"].contains(method) && path.contains("/blobs/uploads/")
        }

        /// Whether the request could change the registry (anything but GET and HEAD).
        public var isWrite: Bool { method != "GET" && method != "HEAD" }
    }

    /// `127.0.0.1:PORT`, as in image references.
    public let host: String
    /// `user:password` when the registry needs basic authentication (curl's `-u`).
    public let credentials: String?
    private let scratch: ScratchDirectory
    private let server: BackgroundProcess

    /// Starts a registry; with `user` and `password`, every request needs basic authentication
    /// as that user. A port another process takes meanwhile makes it try another one.
    public init(user: String? = nil, password: String? = nil) throws {
        try Self.ensureInstalled(needsHtpasswd: user != nil)
        // A local name: the readiness probe below runs in a closure before `self` is complete.
        let scratch = try ScratchDirectory()
        self.scratch = scratch
        var authentication = ""
        if let user, let password {
            try scratch.write("htpasswd", text: try ExternalTool.run("htpasswd", ["-Bbn", user, password], in: scratch).text)
            authentication = "auth:\n  htpasswd:\n    realm: distill-test\n    path: \(scratch.path("htpasswd"))\n"
            credentials = "\(user):\(password)"
        } else {
            credentials = nil
        }
        var lastLog = ""
        for attempt in 1...5 {
            let port = try Self.freePort(in: scratch)
            let config = "config-\(attempt).yml"
            // The access log (one combined-format line per request on stdout) is what tests count.
            try scratch.write(config, text: """
                version: 0.1
                log: {level: warn}
                storage:
                  filesystem: {rootdirectory: \(scratch.path("data"))}
                  delete: {enabled: true}
                http:
                  addr: 127.0.0.1:\(port)
                  secret: distill-tests-only
                \(authentication)
                """)
            let server = try BackgroundProcess(["docker-registry", "serve", scratch.path(config)], in: scratch,
                                               logName: "registry-\(attempt).log")
            let host = "127.0.0.1:\(port)"
            let ready = try server.wait {
                // Ready when /v2/ answers at all: 401 with authentication, 200 without.
                let probe = try ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"],
                                                 in: scratch, expectSuccess: false)
                return (probe.text == "200" || probe.text == "401") && server.isRunning
            }
            if ready {
                self.host = host
                self.server = server
                return
            }
            lastLog = server.log
            server.stop()
        }
        throw ExternalTool.Failure(description: "docker-registry did not start on a free loopback port: \(lastLog)")
    }

    /// Kills the registry (by PID) and waits until it is gone.
    public func stop() {
        server.stop()
    }

    /// Everything the registry logged: warnings and the access log.
    public var log: String { server.log }

    /// The requests the registry answered so far, in order, from its access log.
    public func requests() -> [Request] {
        log.split(whereSeparator: \.isNewline).compactMap { line in
            // 127.0.0.1 - - [date] "PUT /v2/x/blobs/uploads/…?digest=… HTTP/1.1" 201 0 "" "agent"
            let fields = line.split(separator: "\"", omittingEmptySubsequences: false)
            guard fields.count >= 3 else { return nil }
            let request = fields[1].split(separator: " ")
            guard request.count == 3, request[2].hasPrefix("HTTP/"),
                  let status = fields[2].split(separator: " ").first.flatMap({ Int($0) }) else { return nil }
            return Request(method: String(request[0]), path: String(request[1]), status: status)
        }
    }

    /// The repository's tags, as `curl` gets them (with ``credentials`` unless `user` is given;
    /// none for an unknown repository).
    public func tags(_ repository: String, user: String? = nil) throws -> [String] {
        var arguments = ["-s"]
        if let user = user ?? credentials { arguments += ["-u", user] }
        arguments.append("http://\(host)/v2/\(repository)/tags/list")
        let output = try ExternalTool.run("curl", arguments, in: scratch).standardOutput
        let object = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        return object?["tags"] as? [String] ?? []
    }

    /// The status and headers (lowercased names) of a HEAD on a manifest with every manifest
    /// type accepted, as `curl` gets them (with ``credentials`` unless `user` is given).
    public func headManifest(_ repository: String, _ reference: String, user: String? = nil) throws -> [String: String] {
        var arguments = ["-sI", "-H", "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"]
        if let user = user ?? credentials { arguments += ["-u", user] }
        arguments.append("http://\(host)/v2/\(repository)/manifests/\(reference)")
        let output = try ExternalTool.run("curl", arguments, in: scratch).text
        var headers: [String: String] = [:]
        for line in output.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("HTTP/") { headers["status"] = line.split(separator: " ").dropFirst().first.map(String.init) }
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return headers
    }

    /// A port nothing listens on now; another process may still take it before the registry
    /// does, which the caller notices and retries.
    static func freePort(in scratch: ScratchDirectory) throws -> Int {
        let free = try ExternalTool.run("python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                                        in: scratch)
        guard let port = Int(free.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ExternalTool.Failure(description: "no free port: \(free.text)")
        }
        return port
    }

    /// `make test` installs the registry first (scripts/oracles.sh ensure_all); a test run on
    /// its own installs it the same way.
    private static func ensureInstalled(needsHtpasswd: Bool) throws {
        try Oracles.ensureOnPath(needsHtpasswd ? ["docker-registry": "docker-registry", "htpasswd": "apache2-utils"]
                                               : ["docker-registry": "docker-registry"])
    }
}

/// `Tests/Servers/registry_proxy.py` in front of a ``LocalRegistry``: it passes every request
/// through (Host header included, so the registry's upload locations name the proxy) except
/// where its fault breaks them, as a flaky network or a misbehaving registry would.
public final class RegistryProxy: Sendable {
    /// What the proxy breaks.
    public enum Fault: String, Sendable {
        /// A PUT or PATCH carrying blob bytes loses the connection half way through its body.
        case cutUploads = "cut-uploads"
        /// HEAD on any blob answers 200 with `Content-Length: 0`: a registry claiming blobs it
        /// does not have. A client that believed it would skip the uploads and have its manifests
        /// rejected (MANIFEST_BLOB_UNKNOWN); Distill's notices the size does not fit first.
        case claimBlobs = "claim-blobs"
        /// PUT of an image index answers 400 MANIFEST_INVALID; platform manifests pass.
        case rejectIndex = "reject-index"
        /// PUT of a manifest under a cosign tag (`sha256-<hex>.sig` / `.att`) answers 400
        /// MANIFEST_INVALID; the image's own manifests pass.
        case rejectSignatures = "reject-signatures"
    }

    /// `127.0.0.1:PORT` of the proxy.
    public let host: String
    private let scratch: ScratchDirectory
    private let server: BackgroundProcess

    /// Starts a proxy with `fault` in front of `registry`.
    public init(in front: LocalRegistry, fault: Fault) throws {
        scratch = try ScratchDirectory()
        let script = Fixtures.repositoryRoot.appendingPathComponent("Tests/Servers/registry_proxy.py").path
        server = try BackgroundProcess(["python3", script, front.host, fault.rawValue, scratch.path("port")], in: scratch,
                                       logName: "proxy.log")
        let portFile = scratch.path("port")
        guard server.wait(until: { FileManager.default.fileExists(atPath: portFile) }),
              let port = try? String(contentsOfFile: portFile, encoding: .utf8) else {
            server.stop()
            throw ExternalTool.Failure(description: "the registry proxy did not start: \(server.log)")
        }
        host = "127.0.0.1:\(port)"
    }

    /// Kills the proxy by PID.
    public func stop() {
        server.stop()
    }

    /// What the proxy logged: one line per request and what it did to it.
    public var log: String { server.log }
}
