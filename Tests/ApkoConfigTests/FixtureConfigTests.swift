import APK
import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

/// Every real config in the fixtures loads, and means what it means in apko.
@Suite struct FixtureConfigTests {
    static let configs = [
        "apko-testrepo/apko.yaml",
        "configs/alauda-istio/distroless.apko.yaml",
        "configs/alauda-istio/iptables.apko.yaml",
        "configs/apko-examples/alpine-base-rootless.yaml",
        "configs/apko-examples/alpine-base.yaml",
        "configs/apko-examples/nginx.yaml",
        "configs/apko-examples/wolfi-base.yaml",
        "configs/apko-examples/wolfi-go.yaml",
        "configs/chainguard-images/busybox/latest.apko.yaml",
        "configs/chainguard-images/busybox/latest.wolfi.apko.yaml",
        "configs/chainguard-images/static/latest-glibc.apko.yaml",
        "configs/chainguard-images/static/latest.apko.yaml",
        "configs/chainguard-images/static/wolfi.apko.yaml",
        "configs/chainguard-images/wolfi-base/apko.yaml",
        "configs/chainguard-images/wolfi-base/latest.apko.yaml",
        "configs/rules_apko/alpine-busybox-smoke/apko.yaml",
        "configs/rules_apko/multi_arch_and_repo/apko.yaml",
        "configs/rules_apko/wolfi-base/apko.yaml",
        "configs/taihen-base-image/base.yaml",
        "configs/taihen-base-image/debug.yaml",
        "configs/taihen-base-image/glibc.yaml",
    ]

    @Test func everyFixtureConfigIsListed() throws {
        let root = Fixtures.root.path
        let found = try FileManager.default.subpathsOfDirectory(atPath: root)
            .filter { ($0.hasPrefix("configs/") || $0.hasPrefix("apko-testrepo/")) && $0.hasSuffix(".yaml") }
        #expect(Set(found) == Set(Self.configs))
    }

    @Test(arguments: configs)
    func loads(_ relativePath: String) throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url(relativePath).path)
        #expect(!loaded.configuration.contents.packages.isEmpty)
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        #expect(loaded.sources.packages.count == loaded.configuration.contents.packages.count)
        #expect(loaded.sources.packages.allSatisfy { $0 != nil })
    }

    @Test func nginxExampleMeansWhatItMeansInApko() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/apko-examples/nginx.yaml").path)
        let config = loaded.configuration
        #expect(config.contents.keyring == ["https://packages.wolfi.dev/os/wolfi-signing.rsa.pub"])
        #expect(config.contents.repositories == [RepositoryReference(location: "https://packages.wolfi.dev/os")])
        #expect(config.contents.packages.map(\.name) == ["wolfi-baselayout", "nginx"])
        #expect(config.entrypoint.type == .serviceBundle)
        #expect(config.entrypoint.services == ["nginx": "/usr/sbin/nginx -c /etc/nginx/nginx.conf -g \"daemon off;\""])
        #expect(config.accounts.groups == [Group(groupname: "nginx", gid: 10000)])
        #expect(config.accounts.users == [User(username: "nginx", uid: 10000)])
        #expect(config.paths == [
            PathMutation(path: "/run/nginx", type: .directory, uid: 10000, gid: 10000, permissions: 0o755),
            PathMutation(path: "/etc/nginx/http.d/default.conf", type: .hardlink, uid: 10000, gid: 10000,
                         permissions: 0o644, source: "/etc/nginx/nginx.conf.default"),
        ])
        #expect(config.workDir == "/usr/share/nginx")
        #expect(config.annotations == ["foo": "bar"])
        #expect(config.archs == [.amd64])

        let defaulted = config.withDefaults()
        #expect(defaulted.entrypoint.command == "/bin/s6-svscan /sv")
        #expect(defaulted.contents.packages.map(\.name) == ["wolfi-baselayout", "nginx", "s6"])
        #expect(defaulted.accounts.users == [User(username: "nginx", uid: 10000, gid: 10000, shell: "/bin/sh",
                                                   homeDirectory: "/home/nginx")])
        #expect(try defaulted.ociEntrypoint() == ["/bin/s6-svscan", "/sv"])
        #expect(defaulted.ociEnvironment() == [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin",
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        ])
    }

    @Test func numericRunAsAndNamedRunAs() throws {
        let istio = try ConfigLoader.load(path: Fixtures.url("configs/alauda-istio/distroless.apko.yaml").path)
        #expect(istio.configuration.accounts.runAs == "65535")
        #expect(istio.configuration.accounts.users[1].homeDirectory == "/nonexistent")
        #expect(istio.configuration.archs == [.amd64, .arm64])

        let rootless = try ConfigLoader.load(path: Fixtures.url("configs/apko-examples/alpine-base-rootless.yaml").path)
        #expect(rootless.configuration.accounts.runAs == "nonroot")
        #expect(rootless.configuration.withDefaults().accounts.runAs == "10000")
        #expect(try rootless.configuration.ociCmd() == ["/bin/sh", "-l"])
    }

    @Test func versionPinsUseTheAPKParser() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/rules_apko/multi_arch_and_repo/apko.yaml").path)
        let curl = try #require(loaded.configuration.contents.packages.first { $0.name == "curl" })
        #expect(curl.op == [.equal, .fuzzy])
        #expect(curl.version == "8.17.0")
        #expect(loaded.configuration.archs == [.amd64, .arm64])
    }

    @Test func emptyLayeringMeansOneLayer() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/chainguard-images/static/wolfi.apko.yaml").path)
        #expect(loaded.configuration.layering == nil)
        #expect(loaded.configuration.archs.isEmpty)
        #expect(loaded.configuration.architecturesToBuild() == ([Architecture.host], true))
    }

    @Test func includeChainMergesAsApkoDoes() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/taihen-base-image/debug.yaml").path)
        let config = loaded.configuration
        #expect(loaded.files.map { ($0 as NSString).lastPathComponent } == ["debug.yaml", "glibc.yaml", "base.yaml"])
        // Lists: the included file's entries first.
        #expect(config.contents.packages.map(\.name) == ["ca-certificates-bundle", "tzdata", "wolfi-baselayout", "glibc", "wolfi-base"])
        #expect(config.contents.repositories.map(\.location) == ["https://packages.wolfi.dev/os"])
        // Single values: the including file wins.
        #expect(config.accounts.runAs == "root")
        #expect(config.entrypoint.command == "/bin/sh -l")
        #expect(config.annotations["org.opencontainers.image.title"] == "Distroless Debug Image")
        #expect(config.environment == ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin"])
        #expect(config.accounts.users == [User(username: "nonroot", uid: 65532)])
        #expect(config.include.isEmpty)
        // Positions survive the merge: glibc comes from glibc.yaml line 5.
        let glibcPlace = try #require(loaded.sources.packages[3])
        #expect(glibcPlace.file.hasSuffix("glibc.yaml"))
        #expect(glibcPlace.line == 5)
    }

    /// `locked_config.json` is not an apko lock file: it is Chainguard's resolved-config record,
    /// which embeds one apko config per architecture as JSON text. Each embedded config loads.
    @Test func resolvedConfigsEmbeddedInLockedConfigLoad() throws {
        let outer = try #require(try JSONSerialization.jsonObject(
            with: Fixtures.data("configs/chainguard-images/static/locked_config.json")) as? [String: Any])
        let locks = try #require(outer["imageLocks"] as? [String: Any])
        let image = try #require(locks["static-public"] as? [String: Any])
        let configs = try #require(image["configs"] as? [String: String])
        #expect(configs.keys.sorted() == ["amd64", "arm64", "index"])
        for (arch, text) in configs.sorted(by: { $0.key < $1.key }) {
            let wrapper = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let inner = try JSONSerialization.data(withJSONObject: try #require(wrapper["config"]), options: [.sortedKeys])
            let loaded = try ConfigLoader.parse([UInt8](inner), name: "locked_config.json[\(arch)]")
            let config = loaded.configuration
            #expect(config.contents.packages.map(PackageSpelling.spelling(of:)) == [
                "ca-certificates-bundle=20260413-r1", "tzdata=2026c-r0", "wolfi-baselayout=20230201-r29",
            ])
            #expect(config.contents.repositories.map(\.location) == ["https://apk.cgr.dev/chainguard"])
            #expect(config.layering == nil)
            #expect(config.accounts.runAs == "65532")
            let user = config.withDefaults().accounts.users[0]
            #expect(user == User(username: "nonroot", uid: 65532, gid: 65532, shell: "/bin/sh", homeDirectory: "/home/nonroot"))
            #expect(config.archs == (arch == "index" ? [.amd64, .arm64] : [Architecture(arch)!]))
        }
    }
}
