import DistillCrypto
import Testing
@testable import SBOM

@Suite struct LicenseCatalogTests {
    func catalog(_ texts: [String?], declared: [ExtractedLicense] = []) -> LicenseCatalog {
        var catalog = LicenseCatalog()
        declared.forEach { catalog.declare($0) }
        texts.forEach { catalog.note($0) }
        catalog.assignNames()
        return catalog
    }

    func hash8(_ text: String) -> String {
        String(DigestAlgorithm.sha256.hash(Array(text.utf8)).hex.prefix(8))
    }

    @Test func keepsValidExpressionsInCanonicalForm() {
        let catalog = catalog(["MIT AND bsd-3-clause", "GPL-3.0+", nil, "", "NONE", "NOASSERTION"])
        #expect(catalog.value(for: "MIT AND bsd-3-clause") == "MIT AND BSD-3-Clause")
        #expect(catalog.value(for: "GPL-3.0+") == "GPL-3.0+")
        #expect(catalog.value(for: nil) == "NOASSERTION")
        #expect(catalog.value(for: " ") == "NOASSERTION")
        #expect(catalog.value(for: "NONE") == "NONE")
        #expect(catalog.extracted.isEmpty)
    }

    @Test func declaresEverythingElseAsALicenseRefWithTheOriginalText() {
        let catalog = catalog(["custom", "custom:multiple", "MIT BSD GPL2+", "Apache-2.0+", "Public-Domain"])
        #expect(catalog.value(for: "custom") == "LicenseRef-custom")
        #expect(catalog.value(for: "Public-Domain") == "LicenseRef-Public-Domain")
        // Lossy names carry a hash of the text, so two texts never share a declaration.
        #expect(catalog.value(for: "custom:multiple") == "LicenseRef-custom-multiple-\(hash8("custom:multiple"))")
        #expect(catalog.value(for: "MIT BSD GPL2+") == "LicenseRef-MIT-BSD-GPL2-\(hash8("MIT BSD GPL2+"))")
        // spdx-tools has no "+" operator, so an expression that needs one becomes a reference.
        #expect(catalog.value(for: "Apache-2.0+") == "LicenseRef-Apache-2.0-\(hash8("Apache-2.0+"))")
        let text = catalog.extracted["LicenseRef-custom-multiple-\(hash8("custom:multiple"))"]
        #expect(text?.extractedText == "custom:multiple")
        #expect(catalog.extracted.count == 5)
    }

    @Test func settlesNamesThatCollideWithoutRegardToCase() {
        let texts = ["custom", "Custom", "Public Domain", "Public-Domain", "public_domain"]
        let catalog = catalog(texts)
        let names = texts.map { catalog.value(for: $0) }
        #expect(Set(names.map { $0.lowercased() }).count == texts.count)
        #expect(catalog.value(for: "Custom") == "LicenseRef-Custom")  // first by bytes among verbatim names
        #expect(catalog.value(for: "custom") == "LicenseRef-custom-\(hash8("custom"))")
        #expect(catalog.value(for: "Public-Domain") == "LicenseRef-Public-Domain")
        #expect(catalog.value(for: "Public Domain") == "LicenseRef-Public-Domain-\(hash8("Public Domain"))")
        for name in names { #expect(catalog.extracted[name] != nil) }
    }

    @Test func respectsDeclarationsFromMergedDocuments() {
        let declared = ExtractedLicense(licenseID: "LicenseRef-custom", extractedText: "a melange text")
        let catalog = catalog(["custom", "MIT AND LicenseRef-custom", "LicenseRef-new"], declared: [declared])
        #expect(catalog.value(for: "custom") == "LicenseRef-custom-\(hash8("custom"))")
        #expect(catalog.value(for: "MIT AND LicenseRef-custom") == "MIT AND LicenseRef-custom")
        #expect(catalog.extracted["LicenseRef-custom"]?.extractedText == "a melange text")
        // A reference nobody declared is declared with the field that used it.
        #expect(catalog.extracted["LicenseRef-new"]?.extractedText == "LicenseRef-new")
    }

    @Test func namesDoNotDependOnTheOrderOfNotes() {
        let texts = ["custom", "Custom", "GPL2+", "custom:x", "custom x", "MIT"]
        let forward = catalog(texts)
        let backward = catalog(texts.reversed())
        for text in texts { #expect(forward.value(for: text) == backward.value(for: text)) }
    }
}
