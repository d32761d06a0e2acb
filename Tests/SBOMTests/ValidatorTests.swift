import APK
import Testing
@testable import SBOM

/// The acceptance criterion: `pyspdxtools -i` (spdx-tools 0.8.5) and `ntia-checker`
/// (ntia-conformance-checker) accept every document distill writes. The tools come from
/// scripts/oracles.sh; see `Validators`.
@Suite(.serialized) struct ValidatorTests {
    func expectAccepted(_ document: SPDXDocument, _ comment: Comment? = nil) throws {
        let verdict = try Validators.check(document.serialized())
        #expect(verdict.accepted, "\(comment ?? "")\n\(verdict.summary)")
        #expect(verdict.spdxToolsOutput.isEmpty, "\(verdict.summary)")
    }

    @Test func acceptsAnAlpineImageWithItsDependencies() throws {
        let packages = try FixtureIndex.closure(of: Sample.alpineWorld, in: FixtureIndex.alpine316.get(),
                                                repository: Sample.alpineRepository)
        #expect(packages.count >= 25)
        try expectAccepted(ImageSBOM.document(for: Sample.alpineImage(
            packages, vcsURL: "https://github.com/org/repo@0123456789abcdef0123456789abcdef01234567")))
    }

    @Test func acceptsAnImageWithoutOSReleaseOrPackages() throws {
        let packages = try FixtureIndex.closure(of: ["busybox"], in: FixtureIndex.alpine316.get(),
                                                repository: "http://127.0.0.1:8080/alpine")
        try expectAccepted(ImageSBOM.document(for: Sample.alpineImage(packages, osRelease: nil)))
        try expectAccepted(ImageSBOM.document(for: Sample.alpineImage([], osRelease: OSRelease(id: "alpine"))))
    }

    /// One package per distinct `L:` of the real Alpine index: every license string Alpine
    /// uses ends up either as an expression spdx-tools accepts or as a declared LicenseRef.
    @Test func acceptsEveryLicenseOfTheAlpineIndex() throws {
        var seen: Set<String> = []
        var packages: [ImagePackage] = []
        for info in try FixtureIndex.alpine316.get() {
            guard let license = info.license, seen.insert(license).inserted else { continue }
            packages.append(ImagePackage(info: info, repository: Sample.alpineRepository))
        }
        #expect(packages.count == 228)
        let document = try ImageSBOM.document(for: Sample.alpineImage(packages))
        let fallbacks = document.extractedLicenses.count
        #expect(fallbacks > 0 && fallbacks < 228)
        try expectAccepted(document)
    }

    @Test func acceptsAWolfiImageWithMergedMelangeSBOMs() throws {
        let (input, _) = try MelangeSamples.wolfiImage()
        try expectAccepted(ImageSBOM.document(for: input))
    }

    @Test func acceptsTheIndexDocument() throws {
        try expectAccepted(IndexSBOM.document(for: IndexSBOMTests.input()))
        var untagged = IndexSBOMTests.input()
        untagged.repository = nil
        untagged.tag = nil
        untagged.osRelease = nil
        try expectAccepted(IndexSBOM.document(for: untagged))
    }

    /// syft, the SBOM reader behind grype, sees every installed package as an apk with the
    /// purl the document gives it.
    @Test func syftReadsEveryPackageWithItsPurl() throws {
        let packages = try FixtureIndex.closure(of: Sample.alpineWorld, in: FixtureIndex.alpine316.get(),
                                                repository: Sample.alpineRepository)
        let document = try ImageSBOM.document(for: Sample.alpineImage(packages))
        let found = try Validators.syftPackages(document.serialized())
        let apks = found.filter { $0.type == "apk" }.map(\.purl).sorted()
        let expected = packages.map { package in
            "pkg:apk/alpine/\(PackageURL.percentEncode(package.info.name))@\(package.info.version)"
                + "?arch=\(package.info.arch!)&distro=alpine"
        }.sorted()
        #expect(apks == expected)
    }

    /// The validators are real oracles: they reject what they should (a dangling relationship, a
    /// package without supplier), so the acceptances above mean something.
    @Test func theValidatorsRejectBrokenDocuments() throws {
        var dangling = try ImageSBOM.document(for: Sample.alpineImage([]))
        dangling.relationships.append(SPDXRelationship("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Nope"))
        #expect(try Validators.check(dangling.serialized()).spdxToolsStatus != 0)

        let packages = try FixtureIndex.closure(of: ["musl"], in: FixtureIndex.alpine316.get(),
                                                repository: Sample.alpineRepository)
        var unsupplied = try ImageSBOM.document(for: Sample.alpineImage(packages))
        unsupplied.packages = unsupplied.packages.map { package in
            guard case .object(var members) = package, members["name"] == .string("musl") else { return package }
            members["supplier"] = .string("NOASSERTION")
            return .object(members)
        }
        let verdict = try Validators.check(unsupplied.serialized())
        #expect(verdict.spdxToolsStatus == 0)
        #expect(verdict.ntiaStatus != 0, "\(verdict.summary)")
    }
}
