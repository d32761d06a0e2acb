import Foundation
import Testing
import TestSupport

/// `distill show-packages`, `lock` and `dot` end to end on apko's own test repository, with apko's
/// lock file of the same config as the oracle.
@Suite struct CommandTests {
    /// Run in the workspace, like apko's CLI tests: the config's relative paths resolve from the
    /// working directory.
    @Test func lockMatchesApkoByteForByte() throws {
        let scratch = try Workspace.apkoTestRepo()
        try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache"], in: scratch)
        #expect(try scratch.readText("apko.lock.json") == ApkoGolden.lock)
        let noDirectory = try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache", "-o", "out/other.json"], in: scratch,
                                                expectSuccess: false)
        #expect(noDirectory.status != 0)
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache", "-o", "out/other.json"], in: scratch)
        #expect(try scratch.readText("out/other.json") == ApkoGolden.lock)
    }

    /// The lock's ranges agree with the sizes PROVENANCE.md lists for the fixture packages
    /// (signature + control + data = file size).
    @Test func lockRangesCoverEachFile() throws {
        let scratch = try Workspace.apkoTestRepo()
        try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache"], in: scratch)
        let json = try JSONSerialization.jsonObject(with: Data(try scratch.read("apko.lock.json"))) as! [String: Any]
        let packages = (json["contents"] as! [String: Any])["packages"] as! [[String: Any]]
        // PROVENANCE.md: "sections" column (signature+control+data) and file sizes.
        let provenance: [String: [Int]] = [
            "x86_64/pretend-baselayout-1.0.0-r0.apk": [647, 982, 1301],
            "aarch64/pretend-baselayout-1.0.0-r0.apk": [648, 981, 1301],
            "aarch64/replayout-1.0.0-r0.apk": [647, 1009, 1299],
        ]
        var checked = 0
        for package in packages {
            let url = package["url"] as! String
            let relative = url.replacingOccurrences(of: "./testdata/packages/", with: "")
            let size = try FileManager.default.attributesOfItem(atPath: Fixtures.url("apko-testrepo/" + relative).path)[.size] as! Int
            var expectedStart = 0
            var lengths: [Int] = []
            for section in ["signature", "control", "data"] {
                let range = (package[section] as! [String: String])["range"]!
                let bounds = range.dropFirst("bytes=".count).split(separator: "-").map { Int($0)! }
                #expect(bounds[0] == expectedStart, "\(url) \(section)")
                lengths.append(bounds[1] - bounds[0] + 1)
                expectedStart = bounds[1] + 1
            }
            #expect(expectedStart == size, "\(url)")
            if let expected = provenance[relative] {
                #expect(lengths == expected, "\(url)")
                checked += 1
            }
        }
        #expect(checked == 3)
    }

    /// A lock is accepted by `--lockfile` (the same packages come out); once the config
    /// changes, the lock is refused with both checksums named.
    @Test func lockfileIsAcceptedThenRefusedAfterAConfigChange() throws {
        let scratch = try Workspace.apkoTestRepo()
        try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache"], in: scratch)
        let resolved = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "--format", "name=version-source"],
                                             in: scratch).text
        let locked = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "--format", "name=version-source",
                                            "--lockfile", "apko.lock.json"], in: scratch)
        #expect(locked.text == resolved)
        #expect(locked.standardError.isEmpty)
        #expect(resolved == """
            pretend-baselayout=1.0.0-r0 ./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk
            replayout=1.0.0-r0 ./testdata/packages/x86_64/replayout-1.0.0-r0.apk
            pretend-baselayout=1.0.0-r0 ./testdata/packages/aarch64/pretend-baselayout-1.0.0-r0.apk
            replayout=1.0.0-r0 ./testdata/packages/aarch64/replayout-1.0.0-r0.apk

            """)

        var config = try scratch.readText("apko.yaml")
        config += "\nannotations:\n  changed: \"yes\"\n"
        try scratch.write("apko.yaml", text: config)
        let refused = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "--lockfile", "apko.lock.json"],
                                            in: scratch, expectSuccess: false)
        #expect(refused.status != 0)
        #expect(refused.text.isEmpty)
        #expect(refused.standardError.contains("apko.lock.json was made from a config with checksum sha256-eal7+HCFuOLz/8m3vNO5cYyNK0Zw7AphCcsc76TbTXg=, but apko.yaml"))
        #expect(refused.standardError.contains("now has sha256-"))
    }

    struct FormatCase: Sendable, CustomStringConvertible {
        let format: String
        let first: String
        var description: String { format }
    }

    @Test(arguments: [
        FormatCase(format: "name-version", first: "pretend-baselayout 1.0.0-r0"),
        FormatCase(format: "name-version-source", first: "pretend-baselayout 1.0.0-r0 ./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk"),
        FormatCase(format: "name=version", first: "pretend-baselayout=1.0.0-r0"),
        FormatCase(format: "name=version-source", first: "pretend-baselayout=1.0.0-r0 ./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk"),
        FormatCase(format: "name-(version)", first: "pretend-baselayout (1.0.0-r0)"),
        FormatCase(format: "name-(version)-source", first: "pretend-baselayout (1.0.0-r0) ./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk"),
        FormatCase(format: "packagelock", first: "- pretend-baselayout=1.0.0-r0"),
        FormatCase(format: "packagelock-source", first: "- pretend-baselayout=1.0.0-r0 # ./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk"),
        FormatCase(format: "{{.Name}}@{{ .Version }}:{{- .Source -}}", first: "pretend-baselayout@1.0.0-r0:./testdata/packages/x86_64/pretend-baselayout-1.0.0-r0.apk"),
    ])
    func showPackagesFormats(_ row: FormatCase) throws {
        let scratch = try Workspace.apkoTestRepo()
        let output = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "--arch", "x86_64", "--format", row.format],
                                           in: scratch).text
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines.first.map(String.init) == row.first)
    }

    @Test func unsupportedTemplateIsRefused() throws {
        let scratch = try Workspace.apkoTestRepo()
        let result = try DistillBinary.run(["show-packages", "apko.yaml", "--format", "{{ range . }}"], in: scratch, expectSuccess: false)
        #expect(result.status != 0)
        #expect(result.standardError.contains("{{range .}} is not supported"))
    }

    @Test func dotGraphs() throws {
        let scratch = try Workspace.apkoTestRepo()
        let full = try DistillBinary.run(["dot", "apko.yaml", "--cache-dir", "cache"], in: scratch).text
        #expect(full == """
            digraph resolution {
              node [shape=box];
              "world" [shape=oval];
              "pretend-baselayout-1.0.0-r0";
              "replayout-1.0.0-r0";
              "world" -> "replayout-1.0.0-r0";
              "replayout-1.0.0-r0" -> "pretend-baselayout-1.0.0-r0";
            }

            """)
        // Two routes to pretend-baselayout; the spanning tree keeps the shorter one.
        let both = try DistillBinary.run(["dot", "apko.yaml", "--cache-dir", "cache", "-p", "pretend-baselayout"], in: scratch).text
        #expect(both.contains("\"world\" -> \"pretend-baselayout-1.0.0-r0\";"))
        #expect(both.contains("\"replayout-1.0.0-r0\" -> \"pretend-baselayout-1.0.0-r0\";"))
        let tree = try DistillBinary.run(["dot", "apko.yaml", "--cache-dir", "cache", "-p", "pretend-baselayout", "--spanning-tree"],
                                         in: scratch).text
        #expect(tree.contains("\"world\" -> \"pretend-baselayout-1.0.0-r0\";"))
        #expect(!tree.contains("\"replayout-1.0.0-r0\" -> \"pretend-baselayout-1.0.0-r0\";"))
        // Graphviz reads it.
        if (try? ExternalTool.run("dot", ["-V"], in: scratch)) != nil {
            try scratch.write("graph.dot", text: full)
            let svg = try ExternalTool.run("dot", ["-Tsvg", "graph.dot"], in: scratch).text
            #expect(svg.contains("replayout-1.0.0-r0"))
        }
    }

    /// A world that cannot be satisfied: one line with the chain, exit status 1, nothing on stdout.
    @Test func resolutionFailureIsOneLine() throws {
        let scratch = try Workspace.apkoTestRepo()
        let result = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "-p", "replayuot"], in: scratch,
                                           expectSuccess: false)
        #expect(result.status == 1)
        #expect(result.text.isEmpty)
        // Architectures are solved in name order; the first that fails is reported.
        #expect(result.standardError == "Error: aarch64: unable to select packages: replayuot — no such package; did you mean replayout?\n")
    }

    /// The wrong key: the message names the repository and the key the index was signed with.
    @Test func untrustedRepositoryIsNamed() throws {
        let scratch = try Workspace.apkoTestRepo()
        try FileManager.default.removeItem(atPath: scratch.path("testdata/melange.rsa.pub"))
        try FileManager.default.copyItem(atPath: Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub").path,
                                         toPath: scratch.path("testdata/other.rsa.pub"))
        try scratch.write("apko.yaml", text: try scratch.readText("apko.yaml").replacingOccurrences(of: "melange", with: "other"))
        let result = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache"], in: scratch, expectSuccess: false)
        #expect(result.status == 3)   // verification failed: no trusted signature
        #expect(result.standardError == "Error: ./testdata/packages: the index ./testdata/packages/x86_64/APKINDEX.tar.gz is signed with melange.rsa.pub, which is not in the keyring (the keyring has other.rsa.pub); add the key with --keyring-append\n")
    }

    /// A repository without an index for one architecture is skipped with a warning, as apko does.
    @Test func missingArchitectureIndexWarns() throws {
        let scratch = try Workspace.apkoTestRepo()
        let result = try DistillBinary.run(["show-packages", "apko.yaml", "--cache-dir", "cache", "--arch", "x86_64", "-r", "./nowhere"],
                                           in: scratch)
        #expect(result.text == "pretend-baselayout 1.0.0-r0\nreplayout 1.0.0-r0\n")
        #expect(result.standardError == "warning: ./nowhere: no index for x86_64 (./nowhere/x86_64/APKINDEX.tar.gz does not exist); skipping it\n")
    }

    @Test func sizeFlagsAreChecked() throws {
        let scratch = try Workspace.apkoTestRepo()
        let bad = try DistillBinary.run(["show-packages", "apko.yaml", "--max-apk-data-size", "lots"], in: scratch, expectSuccess: false)
        #expect(bad.status != 0)
        #expect(bad.standardError.contains("--max-apk-data-size 'lots' is not a size"))
        let tiny = try DistillBinary.run(["lock", "apko.yaml", "--cache-dir", "cache", "--max-apk-data-size", "1K"], in: scratch,
                                         expectSuccess: false)
        #expect(tiny.status == 1)
        #expect(tiny.standardError.contains("data section decompresses to more than 1024 bytes"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("apko.lock.json")))
    }

    /// apko's private-package repository as an `@private` repository beside the test repository:
    /// its packages come only when asked for with `@private`, and their dependencies follow.
    @Test func taggedRepository() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("empty.yaml", text: "contents:\n  packages: []\n")
        let flags = ["--cache-dir", "cache", "--arch", "x86_64",
                     "-r", "@private " + Fixtures.url("apko-private-repo").path, "-k", Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub").path,
                     "-r", Fixtures.url("apko-testrepo").path, "-k", Fixtures.url("apko-testrepo/melange.rsa.pub").path]
        let untagged = try DistillBinary.run(["show-packages", "empty.yaml", "-p", "package-y"] + flags, in: scratch, expectSuccess: false)
        #expect(untagged.status == 1)
        #expect(untagged.standardError.contains("package-y-1.0.0-r0 is only in repositories tagged @private; ask for package-y@private to allow it"))
        let tagged = try DistillBinary.run(["show-packages", "empty.yaml", "-p", "package-y@private", "--format", "name-version-source"] + flags,
                                           in: scratch)
        let privateRepo = Fixtures.url("apko-private-repo").path
        #expect(tagged.text == """
            pretend-baselayout 1.0.0-r0 \(Fixtures.url("apko-testrepo").path)/x86_64/pretend-baselayout-1.0.0-r0.apk
            package-x 1.0.0-r0 \(privateRepo)/x86_64/package-x-1.0.0-r0.apk
            package-y 1.0.0-r0 \(privateRepo)/x86_64/package-y-1.0.0-r0.apk

            """)
        // The lock names the tagged repository by its location, without the tag.
        try DistillBinary.run(["lock", "empty.yaml", "-p", "package-y@private", "-o", "tagged.lock.json"] + flags, in: scratch)
        let lock = try scratch.readText("tagged.lock.json")
        #expect(lock.contains("\"name\": \"\(privateRepo)/x86_64\""))
        #expect(!lock.contains("@private"))
    }

    /// The other complete fixture repository: alauda-istio's baselayout, locked for both architectures.
    @Test func thirdPartyRepository() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("alauda.yaml", text: "contents:\n  packages: [alauda-baselayout]\narchs: [x86_64, aarch64]\n")
        let repository = Fixtures.url("third-party/alauda-istio").path
        let flags = ["--cache-dir", "cache", "-r", repository, "-k", repository + "/melange.rsa.pub"]
        let shown = try DistillBinary.run(["show-packages", "alauda.yaml", "--format", "packagelock"] + flags, in: scratch)
        #expect(shown.text == "- alauda-baselayout=20250620-r0\n- alauda-baselayout=20250620-r0\n")
        try DistillBinary.run(["lock", "alauda.yaml"] + flags, in: scratch)
        let json = try JSONSerialization.jsonObject(with: Data(try scratch.read("alauda.lock.json"))) as! [String: Any]
        let packages = (json["contents"] as! [String: Any])["packages"] as! [[String: Any]]
        #expect(packages.map { $0["architecture"] as! String } == ["x86_64", "aarch64"])
        let accepted = try DistillBinary.run(["show-packages", "alauda.yaml", "--lockfile", "alauda.lock.json", "--format", "packagelock"] + flags,
                                             in: scratch)
        #expect(accepted.text == shown.text)
    }
}
