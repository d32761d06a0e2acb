import APK
import Testing
@testable import SBOM

/// Melange-style SBOMs, written here in the shape melange embeds in Wolfi packages (a document
/// that describes the apk, which is DESCRIBED_BY its melange YAML and GENERATED_FROM its
/// upstream source), with the oddities the merge must clean up.
enum MelangeSamples {
    static let commit = "23e8ff8479b39f3f2e97fdca28d814f0c434c39b"

    static func busybox(version: String) -> String {
        """
        {
          "SPDXID": "SPDXRef-DOCUMENT",
          "name": "apk-busybox-\(version)",
          "spdxVersion": "SPDX-2.3",
          "creationInfo": {
            "created": "2022-11-01T00:00:00Z",
            "creators": ["Tool: melange (v0.1.0)", "Organization: Chainguard, Inc"],
            "licenseListVersion": "3.16"
          },
          "dataLicense": "CC0-1.0",
          "documentNamespace": "https://spdx.org/spdxdocs/chainguard/melange/0f2c",
          "documentDescribes": ["SPDXRef-Package-busybox-\(version)"],
          "packages": [
            {
              "SPDXID": "SPDXRef-Package-busybox-\(version)",
              "name": "busybox",
              "versionInfo": "\(version)",
              "filesAnalyzed": true,
              "packageVerificationCode": {"packageVerificationCodeValue": "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
              "hasFiles": ["SPDXRef-File-bin-busybox"],
              "licenseConcluded": "NOASSERTION",
              "licenseDeclared": "GPL-2.0-only",
              "downloadLocation": "NOASSERTION",
              "originator": "Organization: Wolfi",
              "supplier": "Organization: Wolfi",
              "copyrightText": "Copyright (C) Erik Andersen and others",
              "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
                                "referenceLocator": "pkg:apk/wolfi/busybox@\(version)?arch=x86_64"}]
            },
            {
              "SPDXID": "SPDXRef-Package-os.yaml-\(commit)",
              "name": "busybox.yaml",
              "versionInfo": "\(commit)",
              "filesAnalyzed": false,
              "licenseConcluded": "NOASSERTION",
              "licenseDeclared": "Apache-2.0",
              "downloadLocation": "NOASSERTION",
              "originator": "Organization: Wolfi",
              "primaryPackagePurpose": "INSTALL",
              "annotations": [{"annotator": "Tool: x", "annotationDate": "bad", "annotationType": "OTHER", "comment": "c"}],
              "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                "referenceLocator": "pkg:github/wolfi-dev/os@\(commit)#busybox.yaml"}]
            },
            {
              "SPDXID": "SPDXRef-Package-busybox.net-busybox-1.35.0",
              "name": "busybox",
              "versionInfo": "1.35.0",
              "filesAnalyzed": false,
              "licenseDeclared": "GPL-2.0-only AND LicenseRef-busybox-extra",
              "downloadLocation": "https://busybox.net/downloads/busybox-1.35.0.tar.bz2",
              "homepage": "http://localhost/not-public",
              "supplier": "NOASSERTION",
              "checksums": [{"algorithm": "SHA256", "checksumValue": "NOT-HEX"},
                            {"algorithm": "SHA1", "checksumValue": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}],
              "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                "referenceLocator": "pkg:generic/busybox@1.35.0"}]
            },
            {
              "SPDXID": "SPDXRef-Package-unrelated",
              "name": "not reachable from the described package",
              "downloadLocation": "NOASSERTION"
            }
          ],
          "files": [{"SPDXID": "SPDXRef-File-bin-busybox", "fileName": "/bin/busybox",
                     "checksums": [{"algorithm": "SHA1", "checksumValue": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}]}],
          "hasExtractedLicensingInfos": [
            {"licenseId": "LicenseRef-busybox-extra", "extractedText": "Some extra terms", "name": "busybox extra"}
          ],
          "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-Package-busybox-\(version)"},
            {"spdxElementId": "SPDXRef-Package-busybox-\(version)", "relationshipType": "DESCRIBED_BY",
             "relatedSpdxElement": "SPDXRef-Package-os.yaml-\(commit)"},
            {"spdxElementId": "SPDXRef-Package-busybox-\(version)", "relationshipType": "GENERATED_FROM",
             "relatedSpdxElement": "SPDXRef-Package-busybox.net-busybox-1.35.0"},
            {"spdxElementId": "SPDXRef-Package-busybox-\(version)", "relationshipType": "CONTAINS",
             "relatedSpdxElement": "SPDXRef-File-bin-busybox"},
            {"spdxElementId": "SPDXRef-Package-busybox-\(version)", "relationshipType": "DEPENDS_ON",
             "relatedSpdxElement": "DocumentRef-other:SPDXRef-x"}
          ]
        }
        """
    }

    /// A second document that shares the melange YAML package of the first (same identifier)
    /// and describes two packages through DESCRIBES relationships only.
    static let caCertificates = """
        {
          "SPDXID": "SPDXRef-DOCUMENT",
          "name": "apk-ca-certificates-bundle",
          "spdxVersion": "SPDX-2.3",
          "creationInfo": {"created": "2022-11-01T00:00:00Z", "creators": ["Tool: melange (v0.1.0)"]},
          "dataLicense": "CC0-1.0",
          "documentNamespace": "https://spdx.org/spdxdocs/chainguard/melange/77aa",
          "packages": [
            {"SPDXID": "SPDXRef-Package-ca-certificates-bundle-20220614-r1", "name": "ca-certificates-bundle",
             "versionInfo": "20220614-r1", "licenseDeclared": "MPL-2.0 AND MIT", "downloadLocation": "NOASSERTION",
             "supplier": "Organization: Wolfi"},
            {"SPDXID": "SPDXRef-Package-extra-certificates", "name": "extra-certificates", "versionInfo": "1",
             "licenseDeclared": "custom", "downloadLocation": "NOASSERTION", "supplier": "Organization: Wolfi"},
            {"SPDXID": "SPDXRef-Package-os.yaml-\(commit)", "name": "a different text for a shared ID",
             "downloadLocation": "NOASSERTION"}
          ],
          "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-Package-ca-certificates-bundle-20220614-r1"},
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-Package-extra-certificates"},
            {"spdxElementId": "SPDXRef-Package-ca-certificates-bundle-20220614-r1", "relationshipType": "DESCRIBED_BY",
             "relatedSpdxElement": "SPDXRef-Package-os.yaml-\(commit)"}
          ]
        }
        """

    static let wolfiRelease = OSRelease(id: "wolfi", name: "Wolfi", versionID: "20230201")

    /// A Wolfi image from the real early Wolfi index, with both documents embedded.
    static func wolfiImage() throws -> (input: ImageSBOMInput, packages: [ImagePackage]) {
        let packages = try FixtureIndex.closure(of: ["wolfi-base", "ca-certificates-bundle"],
                                                in: FixtureIndex.wolfiEarly.get(),
                                                repository: "https://packages.wolfi.dev/os")
        let version = packages.first { $0.info.name == "busybox" }!.info.version
        let input = Sample.alpineImage(packages, seed: "wolfi", osRelease: wolfiRelease, embeddedSBOMs: [
            "busybox-\(version).spdx.json": Array(busybox(version: version).utf8),
            "ca-certificates-bundle.spdx.json": Array(caCertificates.utf8),
        ])
        return (input, packages)
    }
}

@Suite struct EmbeddedSBOMTests {
    @Test func looksUpTheFileNamesApkoLooksUp() {
        let package = PackageInfo(name: "busybox", version: "1.36.1-r7")
        #expect(EmbeddedSBOM.candidateFileNames(for: package)
            == ["busybox-1.36.1-r7.spdx.json", "busybox-1.36.1.spdx.json", "busybox.spdx.json"])
        #expect(EmbeddedSBOM.candidateFileNames(for: PackageInfo(name: "x", version: "2-rc1"))
            == ["x-2-rc1.spdx.json", "x.spdx.json"])
        let files = ["busybox-1.36.1.spdx.json": [UInt8(1)], "busybox.spdx.json": [2]]
        #expect(EmbeddedSBOM.lookUp(package, in: files)?.name == "busybox-1.36.1.spdx.json")
    }

    @Test func mergesMelangeElementsIntoTheInstalledPackage() throws {
        let (input, packages) = try MelangeSamples.wolfiImage()
        let document = try ImageSBOM.document(for: input)
        let busybox = packages.first { $0.info.name == "busybox" }!.info
        let busyboxID = SPDXIdentifier.make("Package", "apk", busybox.name, busybox.version)
        let yamlID = "SPDXRef-Package-os.yaml-\(MelangeSamples.commit)"
        let upstreamID = "SPDXRef-Package-busybox.net-busybox-1.35.0"

        // The described apk is folded into the entry built from the index; its relationships follow.
        #expect(document.package("SPDXRef-Package-busybox-\(busybox.version)") == nil)
        #expect(document.relationships.contains(SPDXRelationship(busyboxID, "DESCRIBED_BY", yamlID)))
        #expect(document.relationships.contains(SPDXRelationship(busyboxID, "GENERATED_FROM", upstreamID)))
        let entry = try #require(document.package(busyboxID))
        #expect(entry["copyrightText"] == .string("Copyright (C) Erik Andersen and others"))
        #expect(entry["supplier"] == .string("Organization: Wolfi"))
        #expect(JSONValue.object(entry).purl == "pkg:apk/wolfi/busybox@\(busybox.version)?arch=x86_64&distro=wolfi")

        // Reachable packages are copied and cleaned; unreachable ones and files stay behind.
        let yaml = try #require(document.package(yamlID))
        // The first document to use an identifier keeps it: apk-tools needs ca-certificates-bundle,
        // so that package (and its document) comes before busybox.
        let bundleIndex = try #require(packages.firstIndex { $0.info.name == "ca-certificates-bundle" })
        #expect(bundleIndex < packages.firstIndex { $0.info.name == "busybox" }!)
        #expect(yaml["name"] == .string("a different text for a shared ID"))
        #expect(yaml["annotations"] == nil)
        #expect(yaml["supplier"] == .string("Organization: Wolfi"))  // missing supplier ← originator
        let upstream = try #require(document.package(upstreamID))
        #expect(upstream["licenseDeclared"] == .string("GPL-2.0-only AND LicenseRef-busybox-extra"))
        #expect(upstream["originator"] == .string("Organization: Wolfi"))  // missing originator ← image supplier
        #expect(upstream["supplier"] == .string("Organization: Wolfi"))  // NOASSERTION ← originator
        #expect(upstream["homepage"] == nil)
        #expect(upstream["downloadLocation"] == .string("https://busybox.net/downloads/busybox-1.35.0.tar.bz2"))
        #expect(upstream["checksums"] == .array([.object([
            "algorithm": .string("SHA1"), "checksumValue": .string("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ])]))
        #expect(document.package("SPDXRef-Package-unrelated") == nil)
        let text = String(decoding: document.serialized(), as: UTF8.self)
        #expect(!text.contains("SPDXRef-File-"))
        #expect(!text.contains("DocumentRef-"))
        #expect(!text.contains("packageVerificationCode"))
        #expect(document.extractedLicenses.contains(ExtractedLicense(
            licenseID: "LicenseRef-busybox-extra", extractedText: "Some extra terms", name: "busybox extra")))

        // The second document: its apk is folded in, the other described package is contained
        // by the image, and its license that is no expression becomes a declared reference.
        let bundle = packages.first { $0.info.name == "ca-certificates-bundle" }!.info
        let bundleID = SPDXIdentifier.make("Package", "apk", bundle.name, bundle.version)
        let imageID = try #require(document.describes.first)
        #expect(document.relationships.contains(SPDXRelationship(bundleID, "DESCRIBED_BY", yamlID)))
        #expect(document.relationships.contains(SPDXRelationship(imageID, "CONTAINS", "SPDXRef-Package-extra-certificates")))
        let extra = try #require(document.package("SPDXRef-Package-extra-certificates"))
        #expect(extra["licenseDeclared"] == .string("LicenseRef-custom"))
        #expect(document.extractedLicenses.contains { $0.licenseID == "LicenseRef-custom" && $0.extractedText == "custom" })

        // Deterministic like every other document.
        #expect(try ImageSBOM.document(for: input).serialized() == document.serialized())
    }

    @Test func refusesAnEmbeddedSBOMThatIsNotSPDX() throws {
        var (input, packages) = try MelangeSamples.wolfiImage()
        let busybox = packages.first { $0.info.name == "busybox" }!.info
        let name = "busybox-\(busybox.version).spdx.json"
        input.embeddedSBOMs = [name: Array("{\"packages\": [".utf8)]
        #expect { try ImageSBOM.document(for: input) } throws: { error in
            let error = error as? SBOMError
            return error?.kind == .malformedJSON && error?.source == "var/lib/db/sbom/\(name)"
        }
        input.embeddedSBOMs = [name: Array("{\"spdxVersion\": \"SPDX-3.0\"}".utf8)]
        #expect { try ImageSBOM.document(for: input) } throws: { ($0 as? SBOMError)?.kind == .malformedEmbeddedSBOM }
        input.embeddedSBOMs = [name: [UInt8](repeating: 0x20, count: EmbeddedSBOM.maximumSize + 1)]
        #expect { try ImageSBOM.document(for: input) } throws: { ($0 as? SBOMError)?.kind == .tooLarge }
    }
}
