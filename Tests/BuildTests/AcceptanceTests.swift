import Foundation
import TestSupport
import Testing

/// Issue 5's acceptance: `distill build` on every complete signed fixture repository, judged by
/// the real tools — oci-image-tool, skopeo, umoci, pyspdxtools, ntia-checker, syft — and by the
/// installed database of the unpacked rootfs.
@Suite("distill build: real tools accept every fixture image")
struct AcceptanceTests {
    static let epoch = "1700000000"

    @Test("the image validates, unpacks with the right files, owners and modes, and its SBOMs and apk db are right",
          arguments: FixtureImage.allCases)
    func fixtureImage(_ fixture: FixtureImage) throws {
        try AcceptanceOracles.apt.get()
        let scratch = try ScratchDirectory()
        let config = try fixture.prepare(in: scratch)
        let tag = FixtureImage.tag
        let build = try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), config, tag, scratch.path("out") + "/"],
                                          in: scratch, environment: ["SOURCE_DATE_EPOCH": Self.epoch])
        let indexDigest = build.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let layout = Layout(directory: scratch.path("out"))
        #expect(try layout.imageIndex().digest == indexDigest)
        #expect(try layout.json("index.json")["manifests"].map { ($0 as? [Any])?.count } == 1)

        // Schema, digests and sizes of everything under the tag.
        let validation = try ExternalTool.run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=\(tag)", "out"], in: scratch)
        #expect(validation.text.contains("Validation succeeded"))

        // skopeo reads the index and names it by the digest we printed.
        let inspected = try JSONSerialization.jsonObject(
            with: try ExternalTool.run("skopeo", ["inspect", "--raw", "oci:out:\(tag)"], in: scratch).standardOutput) as? [String: Any]
        let platforms = (inspected?["manifests"] as? [[String: Any]])?.compactMap { ($0["platform"] as? [String: Any])?["architecture"] as? String }
        #expect(platforms == ["amd64", "arm64"], "the index lists one manifest per architecture, sorted")

        let manifests = try layout.manifests()
        for architecture in FixtureImage.architectures {
            let oci = ociArchitecture(architecture)
            let single = "single-\(oci)"
            try ExternalTool.run("skopeo", ["copy", "--override-arch", oci, "oci:out:\(tag)", "oci:\(single):t"], in: scratch)
            let inspect = try JSONSerialization.jsonObject(
                with: try ExternalTool.run("skopeo", ["inspect", "oci:\(single):t"], in: scratch).standardOutput) as? [String: Any]
            #expect(inspect?["Architecture"] as? String == oci)
            #expect(inspect?["Digest"] as? String == manifests[oci]?.digest, "skopeo copies the manifest byte for byte")

            // umoci checks every layer's diff_id while it unpacks.
            let bundle = scratch.path("bundle-\(oci)")
            try ExternalTool.run("umoci", ["unpack", "--image", "\(single):t", bundle], in: scratch)
            try checkFiles(fixture, rootfs: bundle + "/rootfs", architecture: architecture)
            try checkInstalledDatabase(fixture, rootfs: bundle + "/rootfs", architecture: architecture, scratch: scratch)
            try checkConfiguration(fixture, layout: layout, manifest: try #require(manifests[oci]?.manifest), architecture: oci)

            // skopeo writes a docker archive, and reading it back checks the layers against the diff_ids.
            try ExternalTool.run("skopeo", ["copy", "oci:\(single):t", "docker-archive:\(oci).tar:example.test/acceptance:1.0"], in: scratch)
            try ExternalTool.run("skopeo", ["copy", "docker-archive:\(oci).tar", "oci:back-\(oci):t"], in: scratch)

            // syft finds exactly the installed packages, by apk's own database.
            let syft = try ExternalTool.run("env", ["SYFT_CHECK_FOR_APP_UPDATE=false", try Oracles.tool("syft"), "scan",
                                                    "oci-dir:\(single)", "-o", "json=syft-\(oci).json"], in: scratch,
                                            timeout: .seconds(300))
            #expect(syft.status == 0)
            let report = try JSONSerialization.jsonObject(with: Data(scratch.read("syft-\(oci).json"))) as? [String: Any]
            let found = ((report?["artifacts"] as? [[String: Any]]) ?? [])
                .filter { $0["type"] as? String == "apk" }
                .map { "\($0["name"] as? String ?? "") \($0["version"] as? String ?? "")" }
                .sorted()
            #expect(found == fixture.packages, "syft on \(architecture)")
        }

        // One SBOM per architecture and one for the index, inside the layout; both validators accept each.
        let sboms = try FileManager.default.contentsOfDirectory(atPath: scratch.path("out")).filter { $0.hasSuffix(".spdx.json") }.sorted()
        #expect(sboms == ["sbom-aarch64.spdx.json", "sbom-index.spdx.json", "sbom-x86_64.spdx.json"])
        for name in sboms {
            let path = scratch.path("out/\(name)")
            let spdx = try ExternalTool.run(try Oracles.tool("pyspdxtools"), ["-i", path], in: scratch, expectSuccess: false)
            #expect(spdx.status == 0, "pyspdxtools on \(name): \(spdx.text) \(spdx.standardError)")
            let ntia = try ExternalTool.run(try Oracles.tool("ntia-checker"), ["-r", "json", "-o", "ntia-\(name)", path],
                                            in: scratch, expectSuccess: false)
            #expect(ntia.status == 0, "ntia-checker on \(name): \((try? scratch.readText("ntia-\(name)")) ?? "") \(ntia.standardError)")
            if name != "sbom-index.spdx.json" {
                let document = try JSONSerialization.jsonObject(with: Data(scratch.read("out/\(name)"))) as? [String: Any]
                let names = Set(((document?["packages"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
                for package in fixture.packages {
                    #expect(names.contains(String(package.split(separator: " ")[0])), "\(name) lists \(package)")
                }
            }
        }
    }

    /// The expected files exist in the unpacked rootfs with their type, owner and mode.
    func checkFiles(_ fixture: FixtureImage, rootfs: String, architecture: String) throws {
        for expected in fixture.expectedFiles {
            let status = try #require(fileStatus("\(rootfs)/\(expected.path)"), "\(expected.path) is missing on \(architecture)")
            switch expected.kind {
            case .file:
                #expect(status.type == S_IFREG, "\(expected.path) is a file")
            case .directory:
                #expect(status.type == S_IFDIR, "\(expected.path) is a directory")
            case .symlink(let target):
                #expect(status.type == S_IFLNK, "\(expected.path) is a symlink")
                #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "\(rootfs)/\(expected.path)") == target)
                continue
            }
            #expect(status.mode == expected.mode, "\(expected.path) has mode \(String(status.mode, radix: 8)) on \(architecture)")
            #expect(status.uid == expected.uid && status.gid == expected.gid,
                    "\(expected.path) is owned by \(status.uid):\(status.gid) on \(architecture)")
        }
        let world = try String(contentsOfFile: "\(rootfs)/etc/apk/world", encoding: .utf8)
        for package in fixture.packages {
            let parts = package.split(separator: " ")
            #expect(world.split(separator: "\n").contains { $0.hasPrefix(parts[0]) && $0.hasSuffix("=\(parts[1])") },
                    "the world pins \(package)")
        }
        #expect(try String(contentsOfFile: "\(rootfs)/etc/apk/arch", encoding: .utf8) == architecture + "\n")
    }

    /// `lib/apk/db/installed` lists every package with every file it installed, and each `Z:` is
    /// the SHA-1 of the file as unpacked (of the target, for a symlink) — except for the files the
    /// config edits, whose `Z:` stays the package's, as `apk audit` expects after a local change.
    func checkInstalledDatabase(_ fixture: FixtureImage, rootfs: String, architecture: String,
                                scratch: ScratchDirectory) throws {
        let database = installedFiles(try String(contentsOfFile: "\(rootfs)/lib/apk/db/installed", encoding: .utf8))
        #expect(database.keys.sorted() == fixture.packages.map { String($0.split(separator: " ")[0]) }.sorted())

        var shipped: [String: Set<String>] = [:]
        var extracted: [String: String] = [:]
        for name in fixture.packageFiles {
            // GNU tar reads the .apk's concatenated gzip members as one archive.
            let directory = scratch.path("extracted-\(architecture)-\(name)")
            extracted[name] = directory
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try ExternalTool.run("tar", ["--ignore-zeros", "-xzf", FixtureImage.fixturePackage(name, architecture: architecture).path,
                                         "-C", directory, "--warning=no-unknown-keyword"], in: scratch)
            var files = Set<String>()
            let enumerator = try #require(FileManager.default.enumerator(atPath: directory))
            while let relative = enumerator.nextObject() as? String {
                guard !relative.hasPrefix("."), let status = fileStatus("\(directory)/\(relative)"), status.type != S_IFDIR else { continue }
                files.insert(relative)
            }
            shipped[name] = files
        }
        var listed = Set<String>()
        for (name, files) in database {
            for file in files {
                #expect(listed.insert(file.path).inserted, "\(file.path) is listed by one package only")
                #expect(shipped[name]?.contains(file.path) == true, "\(name) lists \(file.path), which it does not ship")
                let path = "\(rootfs)/\(file.path)"
                let status = try #require(fileStatus(path), "\(file.path) of \(name) is not in the rootfs")
                let checksum = try #require(file.checksum, "\(file.path) has a Z: line")
                if fixture.configurationEdits.contains(file.path) {
                    // The config rewrote it (accounts): like apk after a local edit, the record keeps
                    // the checksum of what the package shipped.
                    let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(try #require(extracted[name]))/\(file.path)")))
                    #expect(checksum == q1(original), "Z: of \(file.path) is the package's")
                    #expect(checksum != q1([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))), "\(file.path) was edited")
                } else if status.type == S_IFLNK {
                    #expect(checksum == q1(Array(try FileManager.default.destinationOfSymbolicLink(atPath: path).utf8)), "\(file.path)")
                } else {
                    #expect(checksum == q1([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))), "Z: of \(file.path)")
                }
            }
        }
        #expect(listed == shipped.values.reduce(into: Set<String>()) { $0.formUnion($1) }, "every shipped file is listed")
    }

    /// The image config carries what the config asked for, apko's way.
    func checkConfiguration(_ fixture: FixtureImage, layout: Layout, manifest: [String: Any], architecture: String) throws {
        let configDigest = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
        let image = try layout.blob(configDigest)
        let container = try #require(image["config"] as? [String: Any])
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        let annotations = try #require(manifest["annotations"] as? [String: String])
        #expect(image["architecture"] as? String == architecture)
        #expect(image["os"] as? String == "linux")
        #expect(image["created"] as? String == "2023-11-14T22:13:20Z")
        #expect(annotations["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z")
        #expect((image["history"] as? [Any])?.count == layers.count)
        #expect((container["Labels"] as? [String: String]) == annotations)
        let environment = try #require(container["Env"] as? [String])
        #expect(environment == environment.sorted())
        #expect(environment.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin"))
        switch fixture {
        case .apkoTestRepo:
            #expect(container["Entrypoint"] as? [String] == ["/bin/sh", "-l"])
            #expect(layers.count == 1)
        case .privateRepo:
            #expect(container["Cmd"] as? [String] == ["cat", "/y/hello.txt"])
            #expect(container["WorkingDir"] as? String == "/y")
            let history = try #require((image["history"] as? [[String: Any]])?.first)
            #expect(history["comment"] as? String == "private-packages by distill-tests")
        case .alaudaIstio:
            #expect(container["User"] as? String == "65532")
            #expect(container["StopSignal"] as? String == "SIGTERM")
            #expect((container["Volumes"] as? [String: Any])?.keys.sorted() == ["/data"])
            #expect(environment.contains("APP_MODE=test"))
            #expect(annotations["org.opencontainers.image.source"] == "https://github.com/example/distill-acceptance")
            #expect(annotations["org.opencontainers.image.revision"] == "0123456789abcdef0123456789abcdef01234567")
        case .melangeTzdata:
            #expect(environment.contains("TZ=Europe/Paris"))
            #expect(layers.count == 2, "origin layering with a budget of 2: the tzdata layer and the top layer")
        }
    }
}
