import APK
import Foundation
import Testing
import TestSupport
import ApkoConfig

/// `/etc/apko.json`: the locked configuration an image was built from.
@Suite struct ApkoJSONTests {
    private func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("every fixture config renders as JSON that says what the config says", arguments: FixtureConfigTests.configs)
    func fixtureConfigs(_ relativePath: String) throws {
        let configuration = try ConfigLoader.load(path: Fixtures.url(relativePath).path).configuration.withDefaults()
        let bytes = configuration.apkoJSON()
        #expect(bytes == configuration.apkoJSON(), "the same configuration gives the same bytes")
        let json = try object(bytes)
        let contents = json["contents"] as? [String: Any]
        let packages = configuration.contents.packages.map(PackageSpelling.spelling(of:))
        #expect((contents?["packages"] as? [String] ?? []) == packages)
        #expect((contents?["keyring"] as? [String] ?? []) == configuration.contents.keyring)
        #expect((json["archs"] as? [String] ?? []) == configuration.archs.map(\.ociName))
        #expect((json["environment"] as? [String: String] ?? [:]) == configuration.environment)
        #expect(((json["accounts"] as? [String: Any])?["users"] as? [Any] ?? []).count == configuration.accounts.users.count)
    }

    @Test("the locked config names one architecture and every package pinned, sorted")
    func lockedConfig() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.file("apko.yaml", """
            contents:
              repositories: [https://user:s3cret@packages.example/os]
              packages: [busybox]
            entrypoint:
              command: /bin/sh -c "echo \\"hi\\""
            annotations:
              note: "tab\\there, line\\nbreak, bell\\a, back\\\\slash"
            paths:
              - path: /data
                type: directory
                permissions: 0o1777
            archs: [x86_64, aarch64]

            """)
        let configuration = try ConfigLoader.load(path: path).configuration.withDefaults()
        let pins = [Dependency(name: "zlib", op: .equal, version: "1.3-r0"),
                    Dependency(name: "busybox", tag: "edge", op: .equal, version: "1.36.1-r7")]
        let locked = configuration.locked(to: Architecture.arm64, packages: pins)
        #expect(locked.archs == [Architecture.arm64])
        let json = try object(locked.apkoJSON())
        let contents = try #require(json["contents"] as? [String: Any])
        #expect(contents["packages"] as? [String] == ["busybox=1.36.1-r7@edge", "zlib=1.3-r0"])
        #expect(json["archs"] as? [String] == ["arm64"])
        // Escapes survive a JSON parser unchanged.
        #expect((json["entrypoint"] as? [String: Any])?["command"] as? String == "/bin/sh -c \"echo \\\"hi\\\"\"")
        #expect((json["annotations"] as? [String: String])?["note"] == "tab\there, line\nbreak, bell\u{07}, back\\slash")
        #expect(((json["paths"] as? [[String: Any]])?.first?["permissions"] as? Int) == 0o1777)
        // The image must not carry the build's credentials.
        let text = String(decoding: locked.apkoJSON(), as: UTF8.self)
        #expect(!text.contains("s3cret"))
        #expect(!text.contains("\n"), "compact: one line")
    }
}
