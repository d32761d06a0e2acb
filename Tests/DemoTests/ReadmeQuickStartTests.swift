import Foundation
import TestSupport
import Testing

/// One fenced code block of a Markdown file: its info string (`sh quickstart`) and its text.
struct FencedBlock: Sendable {
    var info: String
    var body: String

    /// The blocks of `markdown`, in order. Only backtick fences at the start of a line count,
    /// which is all the README uses.
    static func all(in markdown: String) -> [FencedBlock] {
        var blocks: [FencedBlock] = []
        var open: FencedBlock?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if var block = open {
                if line == "```" {
                    blocks.append(block)
                    open = nil
                } else {
                    block.body += line + "\n"
                    open = block
                }
            } else if line.hasPrefix("```") {
                open = FencedBlock(info: line.dropFirst(3).trimmingCharacters(in: .whitespaces), body: "")
            }
        }
        return blocks
    }

    /// The names the block assigns, `NAME=…` at the start of a line.
    var assignedNames: [String] {
        body.split(separator: "\n").compactMap { line in
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix(" ") else { return nil }
            let name = line[..<equals]
            return name.allSatisfy({ $0.isUppercase || $0 == "_" }) && !name.isEmpty ? String(name) : nil
        }
    }
}

/// The README's quick start is run as written: its `sh quickstart` blocks, after its
/// `sh quickstart-offline` settings, against the demo repository `make demo` packs. The Wolfi and
/// Alpine settings (`sh quickstart-network`) need the network, so they are only checked to set the
/// same variables.
@Suite("README quick start")
struct ReadmeQuickStartTests {
    static let readme: Result<[FencedBlock], any Error> = Result {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        return FencedBlock.all(in: text)
    }

    @Test("the quick start's commands run as written against the embedded demo repository",
          .enabled(if: hostHasTrustStore, "the quick start installs ca-certificates-bundle, which the demo repository has only when the host has a trust store"))
    func quickStartRuns() throws {
        let blocks = try Self.readme.get()
        let offline = blocks.filter { $0.info == "sh quickstart-offline" }
        let commands = blocks.filter { $0.info == "sh quickstart" }
        try #require(offline.count == 1, "the README has one offline settings block")
        try #require(commands.count >= 3, "the README's quick start has its command blocks")

        // The checkout as `make demo` leaves it: the demo repository and its public key.
        let demo = try DemoRun.shared.get()
        let workspace = try ScratchDirectory()
        let manager = FileManager.default
        for directory in ["build", "keys", "bin"] {
            try manager.createDirectory(atPath: workspace.path(directory), withIntermediateDirectories: false)
        }
        try manager.createSymbolicLink(atPath: workspace.path("build/demo-repo"), withDestinationPath: demo.workspace.path("build/demo-repo"))
        try manager.copyItem(atPath: demo.workspace.path("keys/distill-demo.rsa.pub"), toPath: workspace.path("keys/distill-demo.rsa.pub"))
        try manager.createSymbolicLink(atPath: workspace.path("bin/distill"), withDestinationPath: DistillBinary.url.path)

        let script = "set -euo pipefail\n" + offline[0].body + commands.map(\.body).joined()
        try workspace.write("quickstart.sh", text: script)
        let path = workspace.path("bin") + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try ExternalTool.run("env", ["PATH=\(path)", "XDG_CACHE_HOME=\(workspace.path("cache"))", "bash", "quickstart.sh"],
                                       in: workspace, expectSuccess: false, timeout: .seconds(300))
        try #require(run.status == 0, "the quick start failed: \(run.text)\n\(run.standardError)")

        let lines = run.text.split(separator: "\n").map(String.init)
        for package in ["ca-certificates-bundle 20260101-r0", "demo-baselayout 2026.11-r0", "tzdata 2026a-r0"] {
            #expect(lines.contains(package), "show-packages lists \(package)")
        }
        #expect(manager.fileExists(atPath: workspace.path("apko.lock.json")))
        #expect(manager.fileExists(atPath: workspace.path("out/index.json")))
        #expect(manager.fileExists(atPath: workspace.path("out/sbom-x86_64.spdx.json")))
        #expect(manager.fileExists(atPath: workspace.path("static.tar")))
        #expect(manager.fileExists(atPath: workspace.path("sbom-x86_64.spdx.json")), "the archive's SBOMs go next to it")
        let verified = lines.filter { $0.hasPrefix("OK ") }
        #expect(verified.count == 4, "distill verify checks the index and the image, signature and attestation: \(run.text)")
        #expect(!lines.contains { $0.hasPrefix("FAIL ") })
    }

    @Test("the Wolfi and Alpine settings set exactly the variables the commands use, to the public repositories")
    func networkSettingsMatchTheOfflineOnes() throws {
        let blocks = try Self.readme.get()
        let offline = try #require(blocks.first { $0.info == "sh quickstart-offline" })
        let network = blocks.filter { $0.info == "sh quickstart-network" }
        #expect(network.count == 2)
        #expect(offline.assignedNames.sorted() == ["BASE", "KEY", "REPO"])
        for block in network {
            #expect(block.assignedNames.sorted() == offline.assignedNames.sorted(), "\(block.body)")
        }
        #expect(network.contains { $0.body.contains("REPO=https://packages.wolfi.dev/os\n") })
        #expect(network.contains { $0.body.contains("REPO=https://dl-cdn.alpinelinux.org/alpine/") })

        // Every variable a command reads is one the settings give (the script also runs with `set -u`).
        let used = Set(blocks.filter { $0.info == "sh quickstart" }.flatMap { block in
            block.body.split(separator: "$").dropFirst().compactMap { rest -> String? in
                let name = rest.drop { $0 == "{" }.prefix { $0.isUppercase || $0 == "_" }
                return name.isEmpty ? nil : String(name)
            }
        })
        #expect(used == Set(offline.assignedNames))
    }
}
