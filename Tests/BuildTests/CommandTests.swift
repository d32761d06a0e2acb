import Foundation
import TestSupport
import Testing

@Suite("distill build and build-minirootfs: outputs, signing and errors")
struct CommandTests {
    @Test("a file output is a docker archive tagged without apko's -<arch> suffix; skopeo and umoci read it")
    func dockerArchive() throws {
        try AcceptanceOracles.apt.get()
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.apkoTestRepo.prepare(in: scratch)
        let digest = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--arch", "x86_64", config,
                                            "registry.example/team/app:1.0", "app.tar"], in: scratch,
                                           environment: ["SOURCE_DATE_EPOCH": "0"]).text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(digest.hasPrefix("sha256:"))
        // The SBOMs land next to the tarball.
        #expect(FileManager.default.fileExists(atPath: scratch.path("sbom-x86_64.spdx.json")))
        #expect(FileManager.default.fileExists(atPath: scratch.path("sbom-index.spdx.json")))

        try ExternalTool.run("tar", ["-xf", "app.tar", "manifest.json"], in: scratch)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(scratch.read("manifest.json"))) as? [[String: Any]])
        #expect(manifest.count == 1)
        #expect(manifest.first?["RepoTags"] as? [String] == ["registry.example/team/app:1.0"])

        let inspect = try JSONSerialization.jsonObject(
            with: try ExternalTool.run("skopeo", ["inspect", "docker-archive:app.tar"], in: scratch).standardOutput) as? [String: Any]
        #expect(inspect?["Architecture"] as? String == "amd64")
        // Reading a docker archive checks every layer against the config's diff_ids.
        try ExternalTool.run("skopeo", ["copy", "docker-archive:app.tar", "oci:back:t"], in: scratch)
        try ExternalTool.run("umoci", ["unpack", "--image", "back:t", "bundle"], in: scratch)
        #expect(FileManager.default.fileExists(atPath: scratch.path("bundle/rootfs/usr/lib/apk/db/installed")))

        // Two architectures: one docker image per platform, tagged <tag>-<arch>; the OCI view has the index.
        try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--sbom=false", config,
                               "registry.example/team/app:1.0", "multi.tar"], in: scratch)
        try ExternalTool.run("tar", ["-xf", "multi.tar", "manifest.json", "index.json"], in: scratch)
        let multi = try #require(try JSONSerialization.jsonObject(with: Data(scratch.read("manifest.json"))) as? [[String: Any]])
        #expect(multi.compactMap { ($0["RepoTags"] as? [String])?.first }.sorted()
                == ["registry.example/team/app:1.0-amd64", "registry.example/team/app:1.0-arm64"])
        for position in 0..<2 {
            try ExternalTool.run("skopeo", ["copy", "docker-archive:multi.tar:@\(position)", "oci:multi-\(position):t"], in: scratch)
        }
        try ExternalTool.run("skopeo", ["inspect", "--raw", "oci-archive:multi.tar:registry.example/team/app:1.0"], in: scratch)
    }

    @Test("build-minirootfs writes the single layer build writes, as a .tar.gz that tar reads")
    func minirootfs() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.melangeTzdata.prepare(in: scratch)
        let printed = try DistillBinary.run(["build-minirootfs", "--cache-dir", scratch.path("cache"), "--build-arch", "aarch64",
                                             config, "rootfs.tar.gz"], in: scratch,
                                            environment: ["SOURCE_DATE_EPOCH": "1700000000"]).text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = try scratch.read("rootfs.tar.gz")
        #expect(printed == "sha256:" + sha256(bytes))
        let listing = try ExternalTool.run("tar", ["-tvzf", "rootfs.tar.gz"], in: scratch).text
        #expect(listing.contains("usr/share/zoneinfo/Europe/Paris"))
        #expect(listing.contains("etc/apk/arch"))
        try ExternalTool.run("tar", ["-xzf", "rootfs.tar.gz", "etc/apk/arch"], in: scratch)
        #expect(try scratch.readText("etc/apk/arch") == "aarch64\n")

        // The config layers by origin; a minirootfs is still one tarball, the same as a one-layer image's layer.
        let unlayered = try scratch.readText("apko.yaml").replacingOccurrences(of: "layering:\n  strategy: origin\n  budget: 2\n", with: "")
        #expect(!unlayered.contains("layering"))
        try scratch.write("single.yaml", text: unlayered)
        try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--arch", "aarch64", "--sbom=false",
                               scratch.path("single.yaml"), "tz:1", "out/"], in: scratch, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
        let manifest = try #require(try Layout(directory: scratch.path("out")).manifests()["arm64"]?.manifest)
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(layers.count == 1)
        #expect(layers.first?["digest"] as? String == printed)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out/sbom-index.spdx.json")), "--sbom=false writes none")

        // Wrong uses are refused in one line.
        let both = try DistillBinary.run(["build-minirootfs", "--arch", "x86_64", config, "x.tar.gz"], in: scratch, expectSuccess: false)
        #expect(both.status != 0 && both.standardError.contains("--build-arch"))
        let directory = try DistillBinary.run(["build-minirootfs", "--cache-dir", scratch.path("cache"), config, "out"], in: scratch,
                                              expectSuccess: false)
        #expect(directory.status != 0 && directory.standardError.contains("is a directory"))
    }

    @Test("--lockfile installs exactly the locked packages: the same image as resolving, and a changed config is refused")
    func lockedBuild() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.privateRepo.prepare(in: scratch)
        try DistillBinary.run(["lock", "--cache-dir", scratch.path("cache"), config, "-o", scratch.path("apko.lock.json")], in: scratch)
        let resolved = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), config, "app:1", "resolved/"], in: scratch,
                                             environment: ["SOURCE_DATE_EPOCH": "0"]).text
        // A fresh cache: the lock's URLs and checksums alone bring the packages.
        let locked = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache-2"), "--lockfile", scratch.path("apko.lock.json"),
                                            config, "app:1", "locked/"], in: scratch, environment: ["SOURCE_DATE_EPOCH": "0"]).text
        #expect(locked == resolved)
        #expect(locked.hasPrefix("sha256:"))

        try scratch.write("apko.yaml", text: try scratch.readText("apko.yaml") + "stop-signal: SIGINT\n")
        let stale = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--lockfile", scratch.path("apko.lock.json"),
                                           config, "app:1", "stale/"], in: scratch, expectSuccess: false)
        #expect(stale.status != 0)
        #expect(stale.standardError.contains("checksum"), "\(stale.standardError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("stale")))
    }

    @Test("--sign-key signs the layout and attests its SBOMs; distill verify and oci-image-tool accept it")
    func signedBuild() throws {
        try AcceptanceOracles.apt.get()
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.privateRepo.prepare(in: scratch)
        try DistillBinary.run(["keygen", "--type", "ecdsa-p256", scratch.path("image")], in: scratch)
        let tag = "registry.example/distill/signed:1.0"
        try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--sign-key", scratch.path("image.key"),
                               "--sbom-path", scratch.path("sboms"), config, tag, "out/"], in: scratch)
        let index = try Layout(directory: scratch.path("out")).json("index.json")
        let kinds = ((index["manifests"] as? [[String: Any]]) ?? []).compactMap {
            ($0["annotations"] as? [String: String])?["dev.cosignproject.cosign/kind"] ?? ($0["annotations"] as? [String: String])?["kind"]
        }
        #expect(((index["manifests"] as? [Any]) ?? []).count > 1, "signatures and attestations are in index.json: \(kinds)")
        let verified = try DistillBinary.run(["verify", "--key", scratch.path("image.pub"), "--ref-name", tag, "out"], in: scratch)
        #expect(verified.status == 0)
        // oci-image-tool (rc1) matches refs by an older annotation key, so it cannot pick one entry of
        // a layout holding signatures too: validate a digest-preserving copy of the image alone.
        try ExternalTool.run("skopeo", ["copy", "--all", "--preserve-digests", "oci:out:\(tag)", "oci:image-only:\(tag)"], in: scratch)
        try ExternalTool.run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=\(tag)", "image-only"], in: scratch)
        #expect(FileManager.default.fileExists(atPath: scratch.path("sboms/sbom-index.spdx.json")))

        let archive = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--sign-key", scratch.path("image.key"),
                                             config, tag, "out.tar"], in: scratch, expectSuccess: false)
        #expect(archive.status != 0 && archive.standardError.contains("OCI layout"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out.tar")))
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var message: String
        var testDescription: String { name }
    }

    static let failures = [
        FailureCase(name: "unknown package", arguments: ["-p", "no-such-package", "CONFIG", "app:1", "out/"], message: "no-such-package"),
        FailureCase(name: "reference with a digest", arguments: ["CONFIG", "app:1@sha256:" + String(repeating: "0", count: 64), "out/"],
                    message: "needs a tag and no digest"),
        FailureCase(name: "invalid reference", arguments: ["CONFIG", "UPPER/app:1", "out/"], message: "must be lowercase"),
        FailureCase(name: "missing output directory", arguments: ["CONFIG", "app:1", "missing/dir/out.tar"], message: "does not exist"),
        FailureCase(name: "compression level", arguments: ["--compression-level", "12", "CONFIG", "app:1", "out/"], message: "0...9"),
        FailureCase(name: "bad epoch", arguments: ["CONFIG", "app:1", "out/"], message: "SOURCE_DATE_EPOCH"),
    ]

    @Test("failures are one line saying what and where, with a non-zero exit and no output left", arguments: failures)
    func failure(_ failure: FailureCase) throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.apkoTestRepo.prepare(in: scratch)
        let environment = failure.name == "bad epoch" ? ["SOURCE_DATE_EPOCH": "yesterday"] : [:]
        let result = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache")] + failure.arguments.map { $0 == "CONFIG" ? config : $0 },
                                           in: scratch, environment: environment, expectSuccess: false)
        #expect(result.status != 0)
        let lines = result.standardError.split(separator: "\n").filter { !$0.hasPrefix("warning:") }
        #expect(lines.count == 1, "\(result.standardError)")
        #expect(result.standardError.contains(failure.message), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out")))
        let hidden = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.hasPrefix(".") && !$0.hasPrefix(".std") }
        #expect(hidden.isEmpty, "\(hidden)")
    }

    @Test("--log-level debug shows what the build was doing when a package could not be fetched")
    func debugChain() throws {
        let scratch = try ScratchDirectory()
        // The test repository without replayout's package file: its index still lists it.
        for architecture in FixtureImage.architectures {
            let directory = scratch.path("repo/\(architecture)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in ["APKINDEX.tar.gz", "pretend-baselayout-1.0.0-r0.apk"] {
                try FileManager.default.createSymbolicLink(atPath: "\(directory)/\(name)",
                                                           withDestinationPath: Fixtures.url("apko-testrepo/\(architecture)/\(name)").path)
            }
        }
        try scratch.write("apko.yaml", text: """
            contents:
              keyring: [\(Fixtures.url("apko-testrepo/melange.rsa.pub").path)]
              repositories: [\(scratch.path("repo"))]
              packages: [replayout]
            archs: [x86_64]

            """)
        let quiet = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "apko.yaml", "app:1", "out/"], in: scratch,
                                          expectSuccess: false)
        #expect(quiet.status != 0)
        #expect(quiet.standardError.contains("replayout"), "\(quiet.standardError)")
        #expect(!quiet.standardError.contains("while "))
        let debug = try DistillBinary.run(["build", "--log-level", "debug", "--cache-dir", scratch.path("cache"), "apko.yaml", "app:1", "out/"],
                                          in: scratch, expectSuccess: false)
        #expect(debug.status != 0)
        #expect(debug.standardError.contains("info: resolving"))
        #expect(debug.standardError.contains("while building x86_64"), "\(debug.standardError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out")))
    }
}
