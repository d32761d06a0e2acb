import DistillCrypto
import Foundation
import TestSupport
import Testing

/// Issue 7's acceptance: `make demo`'s script builds, signs, verifies and runs the demo image,
/// and every real tool accepts that image — oci-image-tool, skopeo, umoci, runc (as uid 65532),
/// syft, pyspdxtools, ntia-checker, cosign.
@Suite("make demo: the demo image runs and the real tools accept it")
struct DemoInteropTests {
    @Test("the demo prints the greeting as uid 65532 and a summary that matches the layout")
    func greetingAndSummary() throws {
        let demo = try DemoRun.shared.get()
        let text = demo.output.text
        #expect(text.contains("Hello from a Distill image!\n"), "\(text)\n\(demo.output.standardError)")
        #expect(text.contains("running as uid 65532, gid 65532\n"))
        if hostHasTrustStore {
            #expect(text.contains("TLS roots: present (/etc/ssl/certs/ca-certificates.crt, "))
        } else {
            #expect(text.contains("TLS roots: missing (/etc/ssl/certs/ca-certificates.crt)"))
        }

        let layout = DemoLayout(directory: demo.imagePath)
        #expect(try layout.imageEntry()["digest"] as? String == demo.digest)
        let (manifestDigest, manifest) = try layout.amd64Manifest()
        #expect(DemoRun.summaryValue("digest", in: text) == "\(demo.digest) (index), \(manifestDigest) (linux/amd64)")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(DemoRun.summaryValue("layers", in: text) == "\(layers.count)")
        let compressed = layers.compactMap { $0["size"] as? Int }.reduce(0, +)
        #expect(DemoRun.summaryValue("size", in: text)?.hasPrefix("\(compressed) bytes of compressed layers") == true)
        let packages = DemoRun.summaryValue("packages", in: text)?.split(separator: " ").map(String.init).sorted()
        #expect(packages == expectedDemoPackages().map { $0.replacingOccurrences(of: " ", with: "-") })
        #expect(DemoRun.summaryValue("SBOM", in: text)?.hasPrefix("build/demo-image/sbom-x86_64.spdx.json") == true)
        // One signature and one attestation for the index and for the image.
        #expect(DemoRun.summaryValue("signature", in: text)
            == "verified with keys/distill-demo-cosign.pub (2 signatures, 2 SBOM attestations)")
    }

    @Test("a second demo from the same sources and keys builds the same image digest; bwrap runs it as uid 65532 too")
    func reproducibleAndRunsWithBubblewrap() throws {
        let first = try DemoRun.shared.get()
        let again = try ScratchDirectory()
        try FileManager.default.copyItem(atPath: first.workspace.path("keys"), toPath: again.path("keys"))
        let second = try DemoRun(in: again, runtime: "bwrap")
        #expect(second.digest == first.digest)
        #expect(second.output.text.hasPrefix("Hello from a Distill image!\nrunning as uid 65532, gid 65532\n"),
                "\(second.output.text)\n\(second.output.standardError)")
        #expect(second.output.standardError.contains("running the entrypoint with bwrap"))
        #expect(try DemoLayout(directory: second.imagePath).amd64Manifest().digest
            == DemoLayout(directory: first.imagePath).amd64Manifest().digest)
        // The repository is rebuilt from source too (hello compiled again): its index must not move.
        let index = "build/demo-repo/x86_64/APKINDEX.tar.gz"
        #expect(try again.read(index) == first.workspace.read(index))
    }

    @Test("on a host without a trust store the demo leaves the CA bundle out, says so, and the image reports no TLS roots")
    func withoutTrustStore() throws {
        try #require(getuid() == 0, "hiding the trust store takes a private mount namespace (root, as in CI)")
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("no-certificates"), withIntermediateDirectories: false)
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/demo.sh").path
        // An empty directory over /etc/ssl/certs, in a mount namespace of this command alone.
        let hidden = "mount --bind \"$1\" /etc/ssl/certs && exec \"$2\""
        let run = try ExternalTool.run(
            "env", ["DISTILL=\(DistillBinary.url.path)", "DEMO_DIR=\(scratch.url.path)", "XDG_CACHE_HOME=\(scratch.path("cache"))",
                    "DEMO_RUNTIME=runc", "unshare", "-m", "sh", "-c", hidden, "sh", scratch.path("no-certificates"), script],
            in: scratch, expectSuccess: false, timeout: .seconds(900))
        try #require(run.status == 0, "\(run.text)\n\(run.standardError)")
        #expect(run.standardError.contains("/etc/ssl/certs/ca-certificates.crt not found on this host"))
        #expect(run.standardError.contains("no ca-certificates-bundle in the demo repository"))
        #expect(run.text.contains("running as uid 65532, gid 65532\nTLS roots: missing (/etc/ssl/certs/ca-certificates.crt)\n"))
        #expect(DemoRun.summaryValue("packages", in: run.text) == "demo-baselayout-2026.11-r0 hello-1.0.0-r0 tzdata-2026a-r0")
    }

    @Test("oci-image-tool validates the image: schemas, digests, sizes")
    func ociImageToolValidates() throws {
        let demo = try DemoRun.shared.get()
        // oci-image-tool 1.0.0-rc1 removes index.json entries while it walks them to filter by
        // --ref, so it skips the entry after each one it drops: with the four signature and
        // attestation entries beside the image it keeps two and calls the ref "not unique". (It
        // cannot validate those OCI 1.1 artifacts either.) So it validates a copy of the layout
        // whose index.json holds the image entry alone.
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("view"), withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: demo.imagePath + "/oci-layout", toPath: scratch.path("view/oci-layout"))
        try FileManager.default.copyItem(atPath: demo.imagePath + "/blobs", toPath: scratch.path("view/blobs"))
        let entry = try DemoLayout(directory: demo.imagePath).imageEntry()
        let index: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]]
        try scratch.write("view/index.json", try JSONSerialization.data(withJSONObject: index))
        let validation = try ExternalTool.run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=\(DemoRun.tag)", "view"],
                                              in: scratch)
        #expect(validation.text.contains("Validation succeeded"))
    }

    @Test("skopeo inspects it and copies it through a docker archive and back (diff_ids checked on the way back)")
    func skopeoInspectsAndCopies() throws {
        let demo = try DemoRun.shared.get()
        let scratch = try ScratchDirectory()
        let image = "oci:\(demo.imagePath):\(DemoRun.tag)"
        let raw = try ExternalTool.run("skopeo", ["inspect", "--raw", image], in: scratch).standardOutput
        #expect("sha256:" + DigestAlgorithm.sha256.hash([UInt8](raw)).hex == demo.digest, "skopeo reads the index demo.sh reported")
        let inspect = try JSONSerialization.jsonObject(with: try ExternalTool.run("skopeo", ["inspect", image], in: scratch).standardOutput)
            as? [String: Any]
        #expect(inspect?["Architecture"] as? String == "amd64")
        #expect(inspect?["Os"] as? String == "linux")
        let config = try JSONSerialization.jsonObject(
            with: try ExternalTool.run("skopeo", ["inspect", "--config", image], in: scratch).standardOutput) as? [String: Any]
        let settings = config?["config"] as? [String: Any]
        #expect(settings?["User"] as? String == "65532")
        #expect(settings?["Entrypoint"] as? [String] == ["/usr/bin/hello"])
        #expect((settings?["Env"] as? [String])?.contains("TZ=UTC") == true)

        try ExternalTool.run("skopeo", ["copy", "-q", image, "docker-archive:\(scratch.path("demo.tar")):distill.example/demo/static:latest"],
                             in: scratch)
        try ExternalTool.run("skopeo", ["copy", "-q", "docker-archive:\(scratch.path("demo.tar"))", "oci:\(scratch.path("back")):t"], in: scratch)
        let back = try JSONSerialization.jsonObject(
            with: try ExternalTool.run("skopeo", ["inspect", "--config", "oci:\(scratch.path("back")):t"], in: scratch).standardOutput)
            as? [String: Any]
        #expect((back?["rootfs"] as? [String: Any])?["diff_ids"] as? [String] == (config?["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
    }

    @Test("umoci unpacks it (checking the diff_ids) and runc runs the entrypoint as uid 65532")
    func runcRunsTheEntrypoint() throws {
        let demo = try DemoRun.shared.get()
        try #require(getuid() == 0, "runc runs the bundle as root (CI does); run the suite as root")
        let scratch = try ScratchDirectory()
        try ExternalTool.run("skopeo", ["copy", "-q", "oci:\(demo.imagePath):\(DemoRun.tag)", "oci:single:t"], in: scratch)
        try ExternalTool.run("umoci", ["unpack", "--image", "single:t", "bundle"], in: scratch)

        let rootfs = scratch.path("bundle/rootfs")
        let osRelease = try String(contentsOfFile: rootfs + "/etc/os-release", encoding: .utf8)
        #expect(osRelease.split(separator: "\n").contains("ID=distill-demo"))
        let passwd = try String(contentsOfFile: rootfs + "/etc/passwd", encoding: .utf8)
        #expect(passwd.split(separator: "\n").contains { $0.hasPrefix("nonroot:x:65532:65532:") })
        var status = stat()
        #expect(stat(rootfs + "/usr/bin/hello", &status) == 0 && status.st_mode & 0o7777 == 0o755)
        #expect(stat(rootfs + "/home/nonroot", &status) == 0 && status.st_uid == 65532)

        let config = try ExternalTool.run("jq", [".process.terminal = false", "bundle/config.json"], in: scratch).standardOutput
        try scratch.write("bundle/config.json", config)
        let run = try ExternalTool.run("runc", ["--root", scratch.path("runc"), "run", "-b", scratch.path("bundle"), "distill-demo-test-\(getpid())"],
                                       in: scratch, timeout: .seconds(60))
        let lines = run.text.split(separator: "\n").map(String.init)
        #expect(lines.first == "Hello from a Distill image!")
        #expect(lines.dropFirst().first == "running as uid 65532, gid 65532")
    }

    @Test("syft finds exactly the installed packages")
    func syftListsThePackages() throws {
        let demo = try DemoRun.shared.get()
        let scratch = try ScratchDirectory()
        try ExternalTool.run("skopeo", ["copy", "-q", "oci:\(demo.imagePath):\(DemoRun.tag)", "oci:single:t"], in: scratch)
        let syft = try ExternalTool.run("env", ["SYFT_CHECK_FOR_APP_UPDATE=false", try Oracles.tool("syft"), "scan", "oci-dir:single",
                                                "-o", "json=syft.json"], in: scratch, timeout: .seconds(300))
        #expect(syft.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(scratch.read("syft.json"))) as? [String: Any]
        let found = ((report?["artifacts"] as? [[String: Any]]) ?? [])
            .filter { $0["type"] as? String == "apk" }
            .map { "\($0["name"] as? String ?? "") \($0["version"] as? String ?? "")" }
            .sorted()
        #expect(found == expectedDemoPackages())
    }

    @Test("pyspdxtools and ntia-checker accept both SBOMs, which list the demo packages",
          arguments: ["sbom-x86_64.spdx.json", "sbom-index.spdx.json"])
    func sbomsAreValid(_ name: String) throws {
        let demo = try DemoRun.shared.get()
        let scratch = try ScratchDirectory()
        let path = "\(demo.imagePath)/\(name)"
        let spdx = try ExternalTool.run(try Oracles.tool("pyspdxtools"), ["-i", path], in: scratch, expectSuccess: false)
        #expect(spdx.status == 0, "pyspdxtools on \(name): \(spdx.text) \(spdx.standardError)")
        let ntia = try ExternalTool.run(try Oracles.tool("ntia-checker"), ["-r", "json", "-o", "ntia.json", path],
                                        in: scratch, expectSuccess: false)
        #expect(ntia.status == 0, "ntia-checker on \(name): \((try? scratch.readText("ntia.json")) ?? "") \(ntia.standardError)")
        if name == "sbom-x86_64.spdx.json" {
            let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
            let apkPackages = ((document?["packages"] as? [[String: Any]]) ?? []).filter { package in
                ((package["externalRefs"] as? [[String: Any]]) ?? []).contains { ($0["referenceLocator"] as? String)?.hasPrefix("pkg:apk/") == true }
            }
            let listed = apkPackages.map { "\($0["name"] as? String ?? "") \($0["versionInfo"] as? String ?? "")" }.sorted()
            #expect(listed == expectedDemoPackages())
        }
    }

    @Test("cosign verify --local-image and verify-attestation accept the demo key and refuse another")
    func cosignVerifies() throws {
        let demo = try DemoRun.shared.get()
        let scratch = try ScratchDirectory()
        let publicKey = demo.workspace.path("keys/distill-demo-cosign.pub")
        let verified = try Cosign.run(["verify", "--key", publicKey, "--insecure-ignore-tlog", "--local-image", demo.imagePath],
                                                 in: scratch)
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.text.contains("\"docker-manifest-digest\":\"\(demo.digest)\""))
        #expect(verified.text.contains("\"docker-reference\":\"\(DemoRun.tag)\""))
        let attested = try Cosign.run(["verify-attestation", "--key", publicKey, "--insecure-ignore-tlog", "--type", "spdxjson",
                                                  "--local-image", demo.imagePath], in: scratch)
        #expect(attested.status == 0, "\(attested.standardError)")

        try DistillBinary.run(["keygen", "--type", "ecdsa-p256", scratch.path("other")], in: scratch)
        let refused = try Cosign.run(["verify", "--key", scratch.path("other.pub"), "--insecure-ignore-tlog",
                                                 "--local-image", demo.imagePath], in: scratch)
        #expect(refused.status != 0)
    }
}
