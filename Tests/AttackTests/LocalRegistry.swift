import Foundation
import TestSupport

/// (The OCITests helper of the same name, for this target.) A `docker-registry` (distribution 2.8) on 127.0.0.1, on a free port, storing into a scratch
/// directory; optionally with htpasswd basic authentication. ``stop()`` kills it by its PID.
final class LocalRegistry: @unchecked Sendable {
    // @unchecked: every property is set in init and never changed, except `stopped`, which only
    // the owning test touches.
    let scratch: ScratchDirectory
    let port: Int
    let pid: Int32
    private var stopped = false

    /// `host:port`, as in image references.
    var host: String { "127.0.0.1:\(port)" }

    /// Starts a registry; with `user`, requests need basic authentication as `user`/`password`.
    init(user: String? = nil, password: String? = nil) throws {
        scratch = try ScratchDirectory()
        // Ask the kernel for a free port; the small race with another process is acceptable in tests.
        let free = try ExternalTool.run("python3", ["-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"],
                                        in: scratch)
        guard let port = Int(free.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ExternalTool.Failure(description: "no free port: \(free.text)")
        }
        self.port = port
        var auth = ""
        if let user, let password {
            let line = try ExternalTool.run("htpasswd", ["-Bbn", user, password], in: scratch).text
            try scratch.write("htpasswd", text: line)
            auth = "auth:\n  htpasswd:\n    realm: distill-test\n    path: \(scratch.path("htpasswd"))\n"
        }
        try scratch.write("config.yml", text: """
            version: 0.1
            log: {level: info}
            storage:
              filesystem: {rootdirectory: \(scratch.path("data"))}
              delete: {enabled: true}
            http:
              addr: 127.0.0.1:\(port)
              secret: distill-tests-only
            \(auth)
            """)
        // Started through Python so the server gets no descriptor but its log: Foundation's
        // Process learns that a child ended when a descriptor it shares with it closes, so a
        // server holding an inherited copy would keep ExternalTool waiting forever.
        let launcher = """
            import subprocess
            log = open("registry.log", "wb")
            server = subprocess.Popen(["docker-registry", "serve", "config.yml"], stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT, close_fds=True, start_new_session=True)
            print(server.pid)
            """
        let started = try ExternalTool.run("python3", ["-c", launcher], in: scratch)
        guard let pid = Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ExternalTool.Failure(description: "docker-registry did not start: \(started.text)")
        }
        self.pid = pid
        // Ready when /v2/ answers at all (401 with authentication, 200 without).
        for _ in 0..<100 {
            let probe = try ExternalTool.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"],
                                             in: scratch, expectSuccess: false)
            if probe.text == "200" || probe.text == "401" { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        stop()
        throw ExternalTool.Failure(description: "docker-registry on \(host) did not become ready: \(log)")
    }

    deinit {
        stop()
    }

    /// Kills the registry (by PID) and waits until it is gone.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGTERM)
        for _ in 0..<50 where kill(pid, 0) == 0 {
            Thread.sleep(forTimeInterval: 0.1)
        }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    /// What the registry logged.
    var log: String {
        (try? scratch.readText("registry.log")) ?? ""
    }

    /// `curl` against the registry: status line and headers of a HEAD with every manifest type
    /// accepted, as the acceptance harness does.
    func headManifest(_ repository: String, _ reference: String, user: String? = nil) throws -> [String: String] {
        var arguments = ["-sI", "-H", "Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"]
        if let user { arguments += ["-u", user] }
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

    /// The repository's tags as `curl` sees them (none for an unknown repository).
    func tags(_ repository: String, user: String? = nil) throws -> [String] {
        var arguments = ["-s"]
        if let user { arguments += ["-u", user] }
        arguments.append("http://\(host)/v2/\(repository)/tags/list")
        let output = try ExternalTool.run("curl", arguments, in: scratch).standardOutput
        let object = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        return object?["tags"] as? [String] ?? []
    }
}
