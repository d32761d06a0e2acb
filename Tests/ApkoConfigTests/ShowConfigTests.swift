import APK
import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

@Suite struct ShowConfigTests {
    /// show-config's output, written to a file and shown again, prints the same text and loads to
    /// the same configuration.
    private func expectFixedPoint(_ path: String, includeSearchPaths: [String] = [],
                                  sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let first = try ShowConfig.text(forConfigAt: path, includeSearchPaths: includeSearchPaths)
        let directory = try ScratchDirectory()
        let once = try directory.file("once.yaml", first)
        let second = try ShowConfig.text(forConfigAt: once)
        #expect(second == first, sourceLocation: sourceLocation)
        let twice = try directory.file("twice.yaml", second)
        #expect(try ShowConfig.text(forConfigAt: twice) == first, sourceLocation: sourceLocation)
        let original = try ConfigLoader.load(path: path, includeSearchPaths: includeSearchPaths).configuration.withDefaults()
        #expect(try ConfigLoader.load(path: once).configuration == original, sourceLocation: sourceLocation)
    }

    @Test(arguments: FixtureConfigTests.configs)
    func everyFixtureIsAFixedPoint(_ relativePath: String) throws {
        try expectFixedPoint(Fixtures.url(relativePath).path)
    }

    @Test func includingConfigPrintsTheMergedResult() throws {
        let text = try ShowConfig.text(forConfigAt: Fixtures.url("configs/taihen-base-image/debug.yaml").path)
        #expect(text == """
            contents:
              repositories:
                - https://packages.wolfi.dev/os
              keyring:
                - https://packages.wolfi.dev/os/wolfi-signing.rsa.pub
              packages:
                - ca-certificates-bundle
                - tzdata
                - wolfi-baselayout
                - glibc
                - wolfi-base
            entrypoint:
              command: /bin/sh -l
            accounts:
              run-as: root
              users:
                - username: nonroot
                  uid: 65532
                  gid: 65532
                  shell: /bin/sh
                  homedir: /home/nonroot
              groups:
                - groupname: nonroot
                  gid: 65532
            archs:
              - amd64
              - arm64
            environment:
              PATH: /usr/sbin:/sbin:/usr/bin:/bin
              SSL_CERT_FILE: /etc/ssl/certs/ca-certificates.crt
            annotations:
              org.opencontainers.image.authors: taihen.build@gmail.com
              org.opencontainers.image.description: A minimal, multi-arch debug image with shell and debugging tools.
              org.opencontainers.image.source: https://github.com/taihen/base-image
              org.opencontainers.image.title: Distroless Debug Image
              org.opencontainers.image.url: https://github.com/taihen/base-image

            """)
        try expectFixedPoint(Fixtures.url("configs/taihen-base-image/debug.yaml").path)
    }

    @Test func runAsByNameBecomesTheUid() throws {
        let text = try ShowConfig.text(forConfigAt: Fixtures.url("configs/taihen-base-image/base.yaml").path)
        #expect(text.contains("  run-as: \"65532\"\n"))
    }

    @Test func credentialsAreRedacted() throws {
        let directory = try ScratchDirectory()
        let path = try directory.file("apko.yaml", """
            contents:
              repositories:
                - https://user:s3cret@repo.example.com/os/
                - "@private https://token@private.example.com/apk"
              build_repositories: [https://u:p@build.example.com]
              keyring: [https://u:p@repo.example.com/key.rsa.pub]
              packages: [busybox, tool@private]
            vcs-url: https://bot:pat@github.com/org/repo@abc123
            """)
        let text = try ShowConfig.text(forConfigAt: path)
        for secret in ["s3cret", "token", ":p@", "pat@"] {
            #expect(!text.contains(secret), "\(secret) leaked")
        }
        #expect(text.contains("- https://user:xxxxx@repo.example.com/os\n"))
        #expect(text.contains("- \"@private https://xxxxx@private.example.com/apk\"\n"))
        #expect(text.contains("vcs-url: https://bot:xxxxx@github.com/org/repo@abc123\n"))
        // The redacted text still loads, and redacting it again changes nothing.
        let shown = try directory.file("shown.yaml", text)
        #expect(try ShowConfig.text(forConfigAt: shown) == text)
    }

    @Test func hostArchitectureNoteWhenArchsAreNotSet() throws {
        let text = try ShowConfig.text(forConfigAt: Fixtures.url("configs/chainguard-images/static/wolfi.apko.yaml").path)
        #expect(text.hasSuffix("# archs: not set, so Distill builds for the host architecture only (\(Architecture.host.apkName)); apko would build all 9\n"))
        let overridden = try ShowConfig.text(forConfigAt: Fixtures.url("configs/chainguard-images/static/wolfi.apko.yaml").path,
                                             overrides: ConfigOverrides(architectures: ["aarch64"]))
        #expect(overridden.contains("archs:\n  - arm64\n"))
        #expect(!overridden.contains("# archs"))
    }

    static let awkwardStrings = [
        "yes", "No", "on", "y", "null", "~", "", " lead", "trail ", "123", "0o7", "0755", "1e3", ".5", "+1", ".inf",
        "True", "a: b", "x #y", "#x", "- x", "-", "--app", "a:", "<<", "@at", "`x`", "%x", "*x", "&x", "!x", "|", ">",
        "[x]", "{x}", ",x", "?x", "'", "\"", "é ü", "tab\there", "line\nbreak", "trailing\n", "two\n\n", "\u{1}ctl",
        "\r\n", "  indented\nlines", "last line has space \nx", "\u{2028}", "0x1F", "-1", "=", "a=b",
    ]

    @Test(arguments: awkwardStrings)
    func awkwardStringsSurviveTheRoundTrip(_ text: String) throws {
        var config = ImageConfiguration()
        config.stopSignal = text.isEmpty ? "y" : text
        config.workDir = text.isEmpty ? "z" : text
        config.environment = ["K": text]
        config.annotations = [text.isEmpty ? "k" : text: text]
        config.contents.runtimeKeyring = [InlineKey(name: "k", content: text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "c" + text : text)]
        config.archs = [.amd64]
        let rendered = ShowConfig.render(config)
        let loaded = try ConfigLoader.parse(Array(rendered.utf8), name: "shown.yaml")
        #expect(loaded.configuration == config, "\(rendered)")
    }

    @Test func everyKeyIsPrintedInApkoOrder() throws {
        let directory = try ScratchDirectory()
        let path = try directory.file("apko.yaml", """
            certificates:
              providers: [ca-certificates]
              additional:
                - name: corp
                  content: |
                    -----BEGIN CERTIFICATE-----
                    MIIB
                    -----END CERTIFICATE-----
            format: tar
            layering: {strategy: origin, budget: 3}
            volumes: [/data]
            include: ""
            annotations: {z: last, a: first}
            vcs-url: https://github.com/org/repo@abc
            paths:
              - {path: /data, type: directory, uid: 10, gid: 20, permissions: 0o750, recursive: true}
              - {path: /bin/sh, type: symlink, source: /bin/busybox, permissions: 0o777}
            environment: {TZ: UTC}
            archs: [aarch64, x86_64]
            accounts:
              groups: [{groupname: app, gid: 10, members: [app]}]
              users: [{username: app, uid: 10, gid: 20, shell: /sbin/nologin, homedir: /app}]
              run-as: app
            work-dir: /app
            stop-signal: SIGTERM
            cmd: --serve
            entrypoint:
              shell-fragment: exec /app/run
            contents:
              packages: [app=1.0-r0]
              runtime_keyring: [{name: rt.rsa.pub, content: KEY}]
              keyring: [./key.rsa.pub]
              repositories: [./repo]
              runtime_repositories: [https://rt.example/os]
              build_repositories: [https://build.example/os]
            """)
        let shown = try ShowConfig.text(forConfigAt: path)
        #expect(shown == """
            contents:
              build_repositories:
                - https://build.example/os
              runtime_repositories:
                - https://rt.example/os
              repositories:
                - ./repo
              keyring:
                - ./key.rsa.pub
              runtime_keyring:
                - name: rt.rsa.pub
                  content: KEY
              packages:
                - app=1.0-r0
            entrypoint:
              shell-fragment: exec /app/run
            cmd: "--serve"
            stop-signal: SIGTERM
            work-dir: /app
            accounts:
              run-as: "10"
              users:
                - username: app
                  uid: 10
                  gid: 20
                  shell: /sbin/nologin
                  homedir: /app
              groups:
                - groupname: app
                  gid: 10
                  members:
                    - app
            archs:
              - amd64
              - arm64
            environment:
              PATH: /usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin
              SSL_CERT_FILE: /etc/ssl/certs/ca-certificates.crt
              TZ: UTC
            paths:
              - path: /data
                type: directory
                uid: 10
                gid: 20
                permissions: 0o750
                recursive: true
              - path: /bin/sh
                type: symlink
                permissions: 0o777
                source: /bin/busybox
            vcs-url: https://github.com/org/repo@abc
            annotations:
              a: first
              z: last
            volumes:
              - /data
            layering:
              strategy: origin
              budget: 3
            format: tar
            certificates:
              additional:
                - name: corp
                  content: |
                    -----BEGIN CERTIFICATE-----
                    MIIB
                    -----END CERTIFICATE-----
              providers:
                - ca-certificates

            """)
        try expectFixedPoint(path)
    }

    @Test func baseImageConfig() throws {
        let directory = try ScratchDirectory()
        let path = try directory.file("apko.yaml", """
            contents:
              baseimage: {image: ./base, apkindex: ./base-index}
              packages: [curl]
            archs: [x86_64]
            """)
        #expect(try ShowConfig.text(forConfigAt: path) == """
            contents:
              packages:
                - curl
              baseimage:
                image: ./base
                apkindex: ./base-index
            archs:
              - amd64

            """)
        try expectFixedPoint(path)
    }
}

@Suite struct RedactionTests {
    @Test func printingAConfigNeverShowsCredentials() throws {
        let yaml = """
            contents:
              repositories: ["https://user:hunter2@repo.example.com/os"]
              keyring: ["https://user:hunter2@repo.example.com/key.rsa.pub"]
              packages: [busybox]
            """
        let loaded = try ConfigLoader.parse(Array(yaml.utf8), name: "apko.yaml")
        let printed = [
            "\(loaded.configuration)", String(reflecting: loaded.configuration),
            "\(loaded.configuration.contents)", String(reflecting: loaded.configuration.contents),
            "\(loaded.configuration.contents.repositories)", String(reflecting: loaded.configuration.contents.repositories[0]),
        ]
        for text in printed {
            #expect(!text.contains("hunter2"), "\(text)")
            #expect(text.contains("user:xxxxx@repo.example.com"), "\(text)")
        }
        #expect(loaded.configuration.contents.repositories[0].spelling == "https://user:hunter2@repo.example.com/os")
    }
}
