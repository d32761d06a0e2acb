import Foundation
import TestSupport
import Testing

/// A failure of the test setup itself (a demo that did not run).
struct SetupFailure: Error, CustomStringConvertible {
    let description: String
}

/// The real tools the demo image is judged by (see TestSupport's ``Oracles`` and ``Cosign``).
enum DemoOracles {
    /// The Debian tools: the OCI unpacker, validator and copier, the runtimes, and jq.
    static let apt: Result<Void, any Error> = Result {
        try Oracles.ensureOnPath(["umoci": "umoci", "oci-image-tool": "oci-image-tool", "skopeo": "skopeo", "runc": "runc",
                                  "bwrap": "bubblewrap", "jq": "jq"])
    }
}

/// One run of scripts/demo.sh — what `make demo` runs — with the debug binary, in a scratch
/// directory that plays the checkout's role (keys/, build/demo-repo, build/demo-image).
struct DemoRun: Sendable {
    /// The reference scripts/demo.sh builds the image under.
    static let tag = "distill.example/demo/static:latest"

    /// The demo, run once for the whole test run (building the repository and image is the slow
    /// part; every check reads the same result). It also runs the image, as `make demo` does.
    static let shared: Result<DemoRun, any Error> = Result {
        try DemoOracles.apt.get()
        let workspace = try ScratchDirectory()
        // A static is never released, so its scratch directory would outlive the test process.
        atexit {
            if case .success(let demo) = DemoRun.shared { try? FileManager.default.removeItem(at: demo.workspace.url) }
        }
        return try DemoRun(in: workspace, runtime: "runc")
    }

    /// The directory the demo ran in.
    let workspace: ScratchDirectory
    /// What the script printed: the entrypoint's output, then the summary.
    let output: ExternalTool.Output
    /// The index digest the summary names.
    let digest: String

    /// Runs the demo in `workspace`, which may already hold keys/ from another run, running the
    /// image with `runtime` (`runc` or `bwrap`), or not at all when it is nil.
    init(in workspace: ScratchDirectory, runtime: String?) throws {
        self.workspace = workspace
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/demo.sh").path
        var settings = ["DISTILL=\(DistillBinary.url.path)", "DEMO_DIR=\(workspace.url.path)",
                        "XDG_CACHE_HOME=\(workspace.path("cache"))", "DEMO_RUN=\(runtime == nil ? 0 : 1)"]
        if let runtime { settings.append("DEMO_RUNTIME=\(runtime)") }
        output = try ExternalTool.run("env", settings + [script], in: workspace, timeout: .seconds(900))
        guard let digest = Self.summaryValue("digest", in: output.text)?.split(separator: " ").first else {
            throw SetupFailure(description: "scripts/demo.sh printed no digest line: \(output.text) \(output.standardError)")
        }
        self.digest = String(digest)
    }

    /// The OCI layout the demo built.
    var imagePath: String { workspace.path("build/demo-image") }

    /// The value of one `  name:  value` line of the summary.
    static func summaryValue(_ name: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix(name + ":") else { continue }
            return trimmed.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}

/// Reading the demo's OCI layout with nothing but JSON.
typealias DemoLayout = LayoutFiles

extension LayoutFiles {
    /// index.json's entry for the image tag (signatures and attestations have their own entries).
    func imageEntry() throws -> [String: Any] {
        let entries = try #require(try json("index.json")["manifests"] as? [[String: Any]])
        return try #require(entries.first { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == DemoRun.tag })
    }

    /// The linux/amd64 manifest under the image index: its digest and content.
    func amd64Manifest() throws -> (digest: String, manifest: [String: Any]) {
        let index = try blob(try #require(try imageEntry()["digest"] as? String))
        let entries = try #require(index["manifests"] as? [[String: Any]])
        let entry = try #require(entries.first { ($0["platform"] as? [String: Any])?["architecture"] as? String == "amd64" })
        let digest = try #require(entry["digest"] as? String)
        return (digest, try blob(digest))
    }
}

/// The demo repository's packages the image installs, `name version`, sorted. Without a host
/// trust store the repository (and so the image) has no ca-certificates-bundle.
func expectedDemoPackages() -> [String] {
    var packages = ["demo-baselayout 2026.11-r0", "hello 1.0.0-r0", "tzdata 2026a-r0"]
    if hostHasTrustStore { packages.append("ca-certificates-bundle 20260101-r0") }
    return packages.sorted()
}

/// Whether scripts/build-demo-repo.sh finds a CA bundle to pack on this host.
let hostHasTrustStore: Bool = {
    var status = stat()
    return stat("/etc/ssl/certs/ca-certificates.crt", &status) == 0 && status.st_size > 0
}()
