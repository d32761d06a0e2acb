import APK
import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

@Suite struct OverrideTests {
    private func load(_ yaml: String) throws -> LoadedConfig {
        try ConfigLoader.parse(Array(yaml.utf8), name: "apko.yaml")
    }

    private func expectOverrideError(_ overrides: ConfigOverrides, _ message: String,
                                     sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let loaded = try load("contents:\n  packages: [busybox]\n")
        #expect(sourceLocation: sourceLocation) {
            try loaded.applying(overrides)
        } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .override && error?.description == message
        }
    }

    @Test func appendsAndReplacesAsApko() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/apko-examples/wolfi-base.yaml").path)
        let overridden = try loaded.applying(ConfigOverrides(
            architectures: ["arm64"],
            repositories: ["@local ./packages/"],
            buildRepositories: ["https://build.example/os"],
            keyrings: ["./local.rsa.pub"],
            packages: ["mytool=1.2-r0@local"],
            annotations: ["org.example.team:core", "foo:bar"]))
        let config = overridden.configuration
        #expect(config.archs == [.arm64])
        #expect(config.contents.repositories.map(\.spelling) == ["https://packages.wolfi.dev/os", "@local ./packages"])
        #expect(config.contents.buildRepositories.map(\.spelling) == ["https://build.example/os"])
        #expect(config.contents.keyring.last == "./local.rsa.pub")
        let tool = try #require(config.contents.packages.last)
        #expect(tool == Dependency(name: "mytool", tag: "local", op: .equal, version: "1.2-r0"))
        #expect(config.annotations == ["org.example.team": "core", "foo": "bar"])
        #expect(overridden.sources.packages.count == config.contents.packages.count)
        #expect(overridden.sources.packages.last == .some(nil))
    }

    @Test func commandLineAnnotationsWinPerKey() throws {
        let loaded = try load("contents:\n  packages: [busybox]\nannotations:\n  a: config\n  b: config\n")
        let config = try loaded.applying(ConfigOverrides(annotations: ["b:cli"])).configuration
        #expect(config.annotations == ["a": "config", "b": "cli"])
    }

    @Test func emptyOverridesChangeNothing() throws {
        let loaded = try ConfigLoader.load(path: Fixtures.url("configs/apko-examples/nginx.yaml").path)
        #expect(try loaded.applying(ConfigOverrides()).configuration == loaded.configuration)
    }

    @Test func archOverrideAcceptsEverySpelling() throws {
        let loaded = try load("contents:\n  packages: [busybox]\narchs: [x86_64]\n")
        #expect(try loaded.applying(ConfigOverrides(architectures: ["aarch64", "arm/v7", "amd64"])).configuration.archs
                == [.amd64, .armv7, .arm64])
        #expect(try loaded.applying(ConfigOverrides(architectures: ["all"])).configuration.archs == Architecture.all)
        #expect(try loaded.applying(ConfigOverrides(architectures: ["host"])).configuration.archs == [Architecture.host])
    }

    @Test func badOverrides() throws {
        try expectOverrideError(ConfigOverrides(architectures: ["sparc"]),
                                "--arch \"sparc\" is not an architecture; use one of \(Architecture.acceptedNames)")
        try expectOverrideError(ConfigOverrides(annotations: ["Org.Example:x"]),
                                "--annotations key \"Org.Example\" may only use lowercase letters, digits, '-' and '.'")
        try expectOverrideError(ConfigOverrides(annotations: ["novalue"]),
                                "--annotations \"novalue\" has no ':'; write key:value")
        try expectOverrideError(ConfigOverrides(annotations: ["a:"]), "--annotations \"a\" has an empty value")
        try expectOverrideError(ConfigOverrides(annotations: ["a:1", "a:2"]), "--annotations sets \"a\" twice")
        try expectOverrideError(ConfigOverrides(packages: ["curl>"]),
                                "--package-append: package \"curl>\": operator '>' has no version after it")
        try expectOverrideError(ConfigOverrides(repositories: ["s3://bucket/os"]),
                                "--repository-append: repository \"s3://bucket/os\" uses the unsupported scheme \"s3://\"; use https://, http://, file:// or a local directory")
    }

    @Test func showConfigRefusesAMalformedBuildTime() throws {
        let path = Fixtures.url("configs/apko-examples/wolfi-base.yaml").path
        #expect {
            try ShowConfig.output(forConfigAt: path, overrides: ConfigOverrides(sourceDateEpoch: "yesterday"))
        } throws: { error in
            (error as? ConfigError)?.kind == .override
        }
        #expect(throws: ConfigError.self) {
            try ShowConfig.output(forConfigAt: path, overrides: ConfigOverrides(buildDate: "May 1st"))
        }
        _ = try ShowConfig.output(forConfigAt: path, overrides: ConfigOverrides(buildDate: "May 1st", sourceDateEpoch: "0"))
    }

    @Test func taggedPackageNeedsATaggedRepositoryFromAnywhere() throws {
        let loaded = try load("contents:\n  packages: [busybox]\n")
        #expect {
            try loaded.applying(ConfigOverrides(packages: ["tool@local"]))
        } throws: { error in
            (error as? ConfigError)?.description
                == "package \"tool@local\" pins the repository tag @local, but no repository is declared as \"@local URL\""
        }
        _ = try loaded.applying(ConfigOverrides(repositories: ["@local ./repo"], packages: ["tool@local"]))
    }
}

@Suite struct BuildEpochTests {
    @Test func sourceDateEpochWins() throws {
        let epoch = try BuildEpoch.resolve(buildDate: "2024-05-01T12:00:00Z", sourceDateEpoch: "1700000000")
        #expect(epoch == BuildEpoch(seconds: 1_700_000_000, source: .sourceDateEpoch))
        #expect(epoch.imageCreated(newestPackageBuildTime: 1_800_000_000) == 1_700_000_000)
        #expect(epoch.rfc3339 == "2023-11-14T22:13:20Z")
    }

    @Test func buildDateIsAFloorForPackageTimes() throws {
        let epoch = try BuildEpoch.resolve(buildDate: "2024-05-01T12:00:00+02:00", sourceDateEpoch: nil)
        #expect(epoch == BuildEpoch(seconds: 1_714_557_600, source: .buildDate))
        #expect(epoch.imageCreated(newestPackageBuildTime: 1_800_000_000) == 1_800_000_000)
        #expect(epoch.imageCreated(newestPackageBuildTime: 1_000) == 1_714_557_600)
    }

    @Test func nothingSetIsZero() throws {
        let epoch = try BuildEpoch.resolve(buildDate: nil, sourceDateEpoch: "")
        #expect(epoch == BuildEpoch(seconds: 0, source: .unset))
        #expect(epoch.rfc3339 == "1970-01-01T00:00:00Z")
        #expect(epoch.imageCreated(newestPackageBuildTime: nil) == 0)
    }

    @Test(arguments: ["abc", "-5", "1.5", "1e9", " 12", "99999999999999999999"])
    func malformedSourceDateEpochIsAnError(_ value: String) {
        #expect {
            try BuildEpoch.resolve(buildDate: "2024-05-01T12:00:00Z", sourceDateEpoch: value)
        } throws: { error in
            (error as? ConfigError)?.message.hasPrefix("SOURCE_DATE_EPOCH is \"\(value)\"") == true
        }
    }

    @Test(arguments: ["2024-05-01", "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-05-01T25:00:00Z",
                      "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "1969-12-31T23:59:59Z"])
    func malformedBuildDateIsAnError(_ value: String) {
        #expect(throws: ConfigError.self) {
            try BuildEpoch.resolve(buildDate: value, sourceDateEpoch: nil)
        }
    }

    @Test func rfc3339RoundTrips() {
        for seconds: Int64 in [0, 1, 86_399, 86_400, 951_782_400, 1_709_251_199, 4_102_444_800] {
            #expect(RFC3339.parse(RFC3339.format(seconds)) == seconds)
        }
        #expect(RFC3339.parse("2000-02-29T00:00:00.123456Z") == 951_782_400)
        #expect(RFC3339.format(951_782_400) == "2000-02-29T00:00:00Z")
    }
}
