import Testing
@testable import APK

@Suite struct ArchitectureTests {
    /// One row of apko's mapping table (reference/apko.md §1.6).
    struct Row: Sendable, CustomTestStringConvertible {
        var apk: String
        var oci: String
        var architecture: String
        var variant: String?
        var testDescription: String { apk }
    }

    static let rows: [Row] = [
        Row(apk: "x86", oci: "386", architecture: "386", variant: nil),
        Row(apk: "x86_64", oci: "amd64", architecture: "amd64", variant: nil),
        Row(apk: "aarch64", oci: "arm64", architecture: "arm64", variant: nil),
        Row(apk: "armhf", oci: "arm/v6", architecture: "arm", variant: "v6"),
        Row(apk: "armv7", oci: "arm/v7", architecture: "arm", variant: "v7"),
        Row(apk: "loongarch64", oci: "loong64", architecture: "loong64", variant: nil),
        Row(apk: "ppc64le", oci: "ppc64le", architecture: "ppc64le", variant: nil),
        Row(apk: "riscv64", oci: "riscv64", architecture: "riscv64", variant: nil),
        Row(apk: "s390x", oci: "s390x", architecture: "s390x", variant: nil),
    ]

    @Test(arguments: rows)
    func bothSpellingsMapToTheSameArchitecture(_ row: Row) throws {
        let byAPK = try #require(Architecture(row.apk))
        let byOCI = try #require(Architecture(row.oci))
        #expect(byAPK == byOCI)
        #expect(byAPK.apkName == row.apk)
        #expect(byAPK.ociName == row.oci)
        #expect(byAPK.ociOS == "linux")
        #expect(byAPK.ociArchitecture == row.architecture)
        #expect(byAPK.ociVariant == row.variant)
        #expect(Architecture("linux/" + row.oci) == byAPK)
    }

    @Test func unknownNamesAreRejected() {
        #expect(Architecture("mips") == nil)
        #expect(Architecture("") == nil)
        #expect(Architecture("X86_64") == nil)
        #expect(Architecture("arm") == nil)
    }

    @Test func arm64HasNoVariant() throws {
        #expect(Architecture.arm64.ociVariant == nil)
        #expect(Architecture("arm64/v8") == .arm64)
    }

    @Test func allIsTheNineArchitecturesSortedByOCIName() {
        #expect(Architecture.all.map(\.ociName) == [
            "386", "amd64", "arm/v6", "arm/v7", "arm64", "loong64", "ppc64le", "riscv64", "s390x",
        ])
    }

    @Test func listsAreDeduplicatedAndSorted() {
        let parsed = Architecture.parseList(["x86_64", "aarch64", "amd64", "arm/v7", "armv7"])
        #expect(parsed.unknown.isEmpty)
        #expect(parsed.architectures == [.amd64, .armv7, .arm64])
    }

    @Test func allAndHostExpand() {
        #expect(Architecture.parseList(["all"]).architectures == Architecture.all)
        #expect(Architecture.parseList(["host"]).architectures == [Architecture.host])
        #expect(Architecture.parseList(["host", "all"]).architectures == Architecture.all)
    }

    @Test func hostIsTheMachineThisRunsOn() {
        #if arch(x86_64)
        #expect(Architecture.host.apkName == "x86_64")
        #elseif arch(arm64)
        #expect(Architecture.host.apkName == "aarch64")
        #endif
        #expect(Architecture.all.contains(Architecture.host))
    }

    @Test func unknownNamesAreReportedInOrder() {
        let parsed = Architecture.parseList(["x86_64", "mips", "sparc"])
        #expect(parsed.architectures == [.amd64])
        #expect(parsed.unknown == ["mips", "sparc"])
        #expect(Architecture.acceptedNames.hasPrefix("x86 (386), x86_64 (amd64), armhf (arm/v6)"))
        #expect(Architecture.acceptedNames.hasSuffix(", all, host"))
    }
}
