import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

/// `distill show-config` end to end: the binary prints what the library renders and fails with one line.
@Suite struct ShowConfigCommandTests {
    @Test func printsTheLibraryText() throws {
        let directory = try ScratchDirectory()
        let config = Fixtures.url("configs/taihen-base-image/debug.yaml").path
        let output = try DistillBinary.run(["show-config", config, "--arch", "aarch64", "-p", "curl"], in: directory)
        let expected = try ShowConfig.text(forConfigAt: config, overrides: ConfigOverrides(architectures: ["aarch64"], packages: ["curl"]))
        #expect(output.text == expected)
        #expect(output.standardError.isEmpty)
    }

    @Test func aBrokenConfigFailsWithOneLine() throws {
        let directory = try ScratchDirectory()
        try directory.file("apko.yaml", "contents:\n  packages: [busybox]\nworkdir: /app\n")
        let output = try DistillBinary.run(["show-config", "apko.yaml"], in: directory, expectSuccess: false)
        #expect(output.status != 0)
        #expect(output.text.isEmpty)
        #expect(output.standardError == "Error: apko.yaml:3:1: unknown key \"workdir\" in the top level (did you mean \"work-dir\"?)\n")
    }

    @Test func malformedSourceDateEpochFails() throws {
        let directory = try ScratchDirectory()
        let config = Fixtures.url("configs/apko-examples/wolfi-base.yaml").path
        let output = try DistillBinary.run(["show-config", config], in: directory,
                                           environment: ["SOURCE_DATE_EPOCH": "last tuesday"], expectSuccess: false)
        #expect(output.status != 0)
        #expect(output.standardError.contains("SOURCE_DATE_EPOCH is \"last tuesday\""))
    }

    @Test func warningsGoToStandardError() throws {
        let directory = try ScratchDirectory()
        try directory.file("apko.yaml", "contents:\n  packages: [busybox]\npaths:\n  - {path: /x, type: directory, permissions: 644}\n")
        let output = try DistillBinary.run(["show-config", "apko.yaml"], in: directory)
        #expect(output.standardError == "apko.yaml:4:46: warning: paths[0].permissions is the decimal number 644, which is mode 0o1204; did you mean 0o644?\n")
        #expect(output.text.contains("permissions: 0o1204\n"))
    }

    @Test func helpExplainsTheHostArchitectureDefault() throws {
        let directory = try ScratchDirectory()
        let output = try DistillBinary.run(["show-config", "--help"], in: directory)
        let help = output.text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(help.contains("Without `archs:` in the config or --arch, Distill builds for the host architecture only (apko builds all 9)."))
        #expect(help.contains("--repository-append"))
        #expect(help.contains("--build-repository-append"))
        #expect(help.contains("--keyring-append"))
        #expect(help.contains("--package-append"))
        #expect(help.contains("--annotations"))
        #expect(help.contains("--build-date"))
    }
}
