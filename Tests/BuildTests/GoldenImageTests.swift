import Archive
import Foundation
import TestSupport
import Testing

/// One line of apko's golden image description (reference/apko.md §3.5).
struct GoldenLine: Sendable, CustomStringConvertible {
    var path: String
    var kind: TarEntry.Kind
    var mode: UInt32
    var linkName = ""
    var size: Int64? = nil

    var description: String { "\(path) \(kind) \(String(mode, radix: 8))" }
}

/// Where Distill's image of apko's test config knowingly differs from apko's golden image.
struct DocumentedDifference: Sendable {
    var path: String
    var what: String
}

@Suite("distill build: apko's golden image")
struct GoldenImageTests {
    static let golden: [GoldenLine] = {
        let directory = TarEntry.Kind.directory, file = TarEntry.Kind.regular, device = TarEntry.Kind.characterDevice
        return [
            GoldenLine(path: "dev", kind: directory, mode: 0o755),
            GoldenLine(path: "dev/console", kind: device, mode: 0o620),
            GoldenLine(path: "dev/null", kind: device, mode: 0o666),
            GoldenLine(path: "dev/random", kind: device, mode: 0o666),
            GoldenLine(path: "dev/urandom", kind: device, mode: 0o666),
            GoldenLine(path: "dev/zero", kind: device, mode: 0o666),
            GoldenLine(path: "etc", kind: directory, mode: 0o755),
            GoldenLine(path: "etc/apk", kind: directory, mode: 0o755),
            GoldenLine(path: "etc/apk/arch", kind: file, mode: 0o644, size: 7),
            GoldenLine(path: "etc/apk/keys", kind: directory, mode: 0o755),
            GoldenLine(path: "etc/apk/keys/melange.rsa.pub", kind: file, mode: 0o644, size: 800),
            GoldenLine(path: "etc/apk/repositories", kind: file, mode: 0o644),
            GoldenLine(path: "etc/apk/world", kind: file, mode: 0o644),
            GoldenLine(path: "etc/apko.json", kind: file, mode: 0o444),
            GoldenLine(path: "etc/os-release", kind: file, mode: 0o644, size: 102),
            GoldenLine(path: "etc/passwd", kind: file, mode: 0o644, size: 0),
            GoldenLine(path: "lib", kind: directory, mode: 0o755),
            GoldenLine(path: "lib/apk", kind: .symbolicLink, mode: 0o777, linkName: "../usr/lib/apk"),
            GoldenLine(path: "opt", kind: directory, mode: 0o755),
            GoldenLine(path: "proc", kind: directory, mode: 0o555),
            GoldenLine(path: "tmp", kind: directory, mode: 0o1777),
            GoldenLine(path: "usr", kind: directory, mode: 0o755),
            GoldenLine(path: "usr/lib", kind: directory, mode: 0o755),
            GoldenLine(path: "usr/lib/apk", kind: directory, mode: 0o755),
            GoldenLine(path: "usr/lib/apk/db", kind: directory, mode: 0o755),
            GoldenLine(path: "usr/lib/apk/db/installed", kind: file, mode: 0o644),
            GoldenLine(path: "usr/lib/apk/db/lock", kind: file, mode: 0o600, size: 0),
            GoldenLine(path: "usr/lib/apk/db/scripts.tar", kind: file, mode: 0o644, size: 1024),
            GoldenLine(path: "usr/lib/apk/db/triggers", kind: file, mode: 0o644, size: 0),
            GoldenLine(path: "usr/lib/apk/exec", kind: directory, mode: 0o755),
            GoldenLine(path: "var", kind: directory, mode: 0o755),
            GoldenLine(path: "var/cache", kind: directory, mode: 0o755),
            GoldenLine(path: "var/cache/apk", kind: directory, mode: 0o755),
            GoldenLine(path: "var/cache/misc", kind: directory, mode: 0o755),
            GoldenLine(path: "var/lib", kind: directory, mode: 0o755),
            GoldenLine(path: "var/lib/db", kind: directory, mode: 0o755),
            GoldenLine(path: "var/lib/db/sbom", kind: directory, mode: 0o755),
            GoldenLine(path: "var/lib/db/sbom/pretend-baselayout-1.0.0-r0.spdx.json", kind: file, mode: 0o644, size: 2769),
            GoldenLine(path: "var/lib/db/sbom/replayout-1.0.0-r0.spdx.json", kind: file, mode: 0o644, size: 2679),
        ]
    }()

    /// What differs from apko on purpose (the Rootfs module's guide explains each).
    static let differences = [
        DocumentedDifference(path: "etc/os-release", what: "owned 501:20 as replayout ships it; apko writes every package file as 0:0"),
        DocumentedDifference(path: "usr/lib/apk/db/installed", what: "apk-tools 2.14's bytes: modes without leading zeros, no `i:[]`"),
        DocumentedDifference(path: "etc/apko.json", what: "our locked config's own compact JSON, not Go's encoding of apko's struct"),
    ]

    @Test("the layer of apko's test config lists the golden paths, types, modes and link targets; package files have the packages' bytes")
    func goldenLayer() throws {
        let scratch = try ScratchDirectory()
        let config = try FixtureImage.apkoTestRepo.prepare(in: scratch)
        try DistillBinary.run(["build", "--cache-dir", scratch.path("cache"), "--arch", "x86_64", config, "golden:latest", "out/"],
                              in: scratch, environment: ["SOURCE_DATE_EPOCH": "0"])
        let layout = Layout(directory: scratch.path("out"))
        let manifest = try #require(try layout.manifests()["amd64"]?.manifest)
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(layers.count == 1)
        let digest = try #require(layers.first?["digest"] as? String)
        // gzip itself undoes our compression.
        let tar = [UInt8](try ExternalTool.run("gzip", ["-dc", layout.blobPath(digest)], in: scratch).standardOutput)
        let reader = TarReader(source: MemorySource(tar))
        var entries: [(entry: TarEntry, content: [UInt8])] = []
        while let entry = try reader.next() {
            entries.append((entry, entry.kind == .regular ? try reader.readContent(limit: 1 << 20) : []))
        }

        #expect(entries.map(\.entry.name) == Self.golden.map(\.path))
        for (expected, actual) in zip(Self.golden, entries.map(\.entry)) {
            #expect(actual.kind == expected.kind, "\(expected.path)")
            #expect(actual.mode == expected.mode, "\(expected.path): mode \(String(actual.mode, radix: 8))")
            #expect(actual.linkName == expected.linkName, "\(expected.path)")
            if let size = expected.size { #expect(actual.size == size, "\(expected.path)") }
            let documented = Self.differences.contains { $0.path == expected.path }
            if !documented {
                #expect(actual.uid == 0 && actual.gid == 0, "\(expected.path) is \(actual.uid):\(actual.gid)")
            }
        }
        let owner = try #require(entries.first { $0.entry.name == "etc/os-release" }?.entry)
        #expect(owner.uid == 501 && owner.gid == 20, "documented difference: the package's owner is kept")

        // Package files have exactly the bytes the packages ship (replayout wins etc/os-release).
        try ExternalTool.run("tar", ["--ignore-zeros", "-xzf", FixtureImage.fixturePackage("pretend-baselayout", architecture: "x86_64").path,
                                     "--warning=no-unknown-keyword"], in: scratch)
        try ExternalTool.run("tar", ["--ignore-zeros", "-xzf", FixtureImage.fixturePackage("replayout", architecture: "x86_64").path,
                                     "--warning=no-unknown-keyword"], in: scratch)
        for path in ["etc/os-release", "var/lib/db/sbom/pretend-baselayout-1.0.0-r0.spdx.json",
                     "var/lib/db/sbom/replayout-1.0.0-r0.spdx.json"] {
            let ours = try #require(entries.first { $0.entry.name == path }?.content)
            #expect(sha256(ours) == sha256(try scratch.read(path)), "\(path)")
        }
        let text = { (path: String) in String(decoding: entries.first { $0.entry.name == path }?.content ?? [], as: UTF8.self) }
        #expect(text("etc/apk/arch") == "x86_64\n")
        #expect(text("etc/apk/world") == "pretend-baselayout=1.0.0-r0\nreplayout=1.0.0-r0\n")
        #expect(text("etc/apk/repositories") == "./testdata/packages\n")
        #expect(entries.first { $0.entry.name == "etc/apk/keys/melange.rsa.pub" }?.content == (try scratch.read("testdata/melange.rsa.pub")))
        let apkoJSON = try #require(try JSONSerialization.jsonObject(with: Data(text("etc/apko.json").utf8)) as? [String: Any])
        #expect((apkoJSON["contents"] as? [String: Any])?["packages"] as? [String] == ["pretend-baselayout=1.0.0-r0", "replayout=1.0.0-r0"])
        #expect(apkoJSON["archs"] as? [String] == ["amd64"])
        #expect((apkoJSON["entrypoint"] as? [String: Any])?["command"] as? String == "/bin/sh -l")

        // Two zero blocks end the tar, with no record padding.
        #expect(tar.count % 512 == 0 && tar.suffix(1024).allSatisfy { $0 == 0 } && tar.dropLast(1024).suffix(512).contains { $0 != 0 })
    }
}
