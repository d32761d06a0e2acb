import APK
import Testing
@testable import SBOM

/// A license string and the canonical form it must parse to.
struct ValidLicense: Sendable, CustomTestStringConvertible {
    let text: String
    let canonical: String
    var testDescription: String { text }
}

/// A license string that must not parse, and a fragment of the reason.
struct InvalidLicense: Sendable, CustomTestStringConvertible {
    let text: String
    let reason: String
    var testDescription: String { text }
}

@Suite struct LicenseExpressionTests {
    static let valid: [ValidLicense] = [
        ValidLicense(text: "MIT", canonical: "MIT"),
        ValidLicense(text: "GPL-2.0-or-later", canonical: "GPL-2.0-or-later"),
        ValidLicense(text: "MIT AND BSD-3-Clause", canonical: "MIT AND BSD-3-Clause"),
        ValidLicense(text: "GPL-1.0-or-later OR Artistic-1.0-Perl", canonical: "GPL-1.0-or-later OR Artistic-1.0-Perl"),
        // Identifiers match without regard to case and come out in the list's spelling.
        ValidLicense(text: "BSD-2-CLause", canonical: "BSD-2-Clause"),
        ValidLicense(text: "mit", canonical: "MIT"),
        ValidLicense(text: "GPL-2.0-Only", canonical: "GPL-2.0-only"),
        // Lower-case operators are read and written upper-case.
        ValidLicense(text: "LGPL-2.0-or-later and GPL-2.0-or-later", canonical: "LGPL-2.0-or-later AND GPL-2.0-or-later"),
        ValidLicense(text: "GPL-2.0-or-later or GPL-3.0-or-later", canonical: "GPL-2.0-or-later OR GPL-3.0-or-later"),
        ValidLicense(text: "GPL-2.0-or-later WITH classpath-Exception-2.0",
                     canonical: "GPL-2.0-or-later WITH Classpath-exception-2.0"),
        ValidLicense(text: "Apache-2.0 WITH LLVM-exception", canonical: "Apache-2.0 WITH LLVM-exception"),
        ValidLicense(text: "GPL-2.0-only with Classpath-exception-2.0",
                     canonical: "GPL-2.0-only WITH Classpath-exception-2.0"),
        // Precedence: WITH > AND > OR; parentheses only where needed.
        ValidLicense(text: "ISC AND ( BSD-3-Clause OR MIT )", canonical: "ISC AND (BSD-3-Clause OR MIT)"),
        ValidLicense(text: "(MIT OR Apache-2.0) AND Zlib", canonical: "(MIT OR Apache-2.0) AND Zlib"),
        ValidLicense(text: "MIT OR Apache-2.0 AND Zlib", canonical: "MIT OR Apache-2.0 AND Zlib"),
        ValidLicense(text: "((MIT))", canonical: "MIT"),
        ValidLicense(text: "(MIT AND Zlib) AND ISC", canonical: "MIT AND Zlib AND ISC"),
        ValidLicense(text: "MIT OR (Zlib OR ISC)", canonical: "MIT OR Zlib OR ISC"),
        ValidLicense(text: "LGPL-3.0-or-later or GPL-2.0-or-later or (LGPL-3.0-or-later and GPL-2.0-or-later)",
                     canonical: "LGPL-3.0-or-later OR GPL-2.0-or-later OR LGPL-3.0-or-later AND GPL-2.0-or-later"),
        // Deprecated identifiers are still identifiers; GPL-2.0+ is one (not GPL-2.0 plus "+").
        ValidLicense(text: "GPL-2.0+", canonical: "GPL-2.0+"),
        ValidLicense(text: "GPL-3.0", canonical: "GPL-3.0"),
        // The "+" operator on any listed license.
        ValidLicense(text: "Apache-2.0+", canonical: "Apache-2.0+"),
        ValidLicense(text: "LicenseRef-custom", canonical: "LicenseRef-custom"),
        ValidLicense(text: "MIT AND LicenseRef-Foo.1", canonical: "MIT AND LicenseRef-Foo.1"),
        ValidLicense(text: "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
                     canonical: "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2"),
        ValidLicense(text: "  MIT\tAND\nZlib ", canonical: "MIT AND Zlib"),
    ]

    @Test(arguments: valid)
    func parsesValidExpressions(_ row: ValidLicense) throws {
        let expression = try LicenseExpression(parsing: row.text)
        #expect(expression.description == row.canonical)
        // The canonical form is itself valid and a fixed point.
        #expect(try LicenseExpression(parsing: row.canonical) == expression)
    }

    static let invalid: [InvalidLicense] = [
        InvalidLicense(text: "", reason: "expected a license"),
        InvalidLicense(text: "GPL2+", reason: "unknown license identifier 'GPL2+'"),
        InvalidLicense(text: "custom", reason: "unknown license identifier 'custom'"),
        InvalidLicense(text: "custom:multiple", reason: "unknown license identifier"),
        InvalidLicense(text: "Public-Domain", reason: "unknown license identifier"),
        InvalidLicense(text: "Public Domain", reason: "unknown license identifier 'Public'"),
        InvalidLicense(text: "MIT BSD", reason: "unexpected 'BSD'"),
        InvalidLicense(text: "MIT ANDD Apache-2.0", reason: "unexpected 'ANDD'"),
        InvalidLicense(text: "MIT AND", reason: "expected a license after the end"),
        InvalidLicense(text: "AND MIT", reason: "AND needs a license before it"),
        InvalidLicense(text: "(MIT", reason: "missing ')'"),
        InvalidLicense(text: "MIT)", reason: "unexpected ')'"),
        InvalidLicense(text: "()", reason: "unexpected ')'"),
        InvalidLicense(text: "MIT WITH MIT", reason: "unknown license exception 'MIT'"),
        // Alpine writes this, but the SPDX list has no such exception.
        InvalidLicense(text: "GPL-2.0-or-later WITH OpenSSL-Exception",
                       reason: "unknown license exception 'OpenSSL-Exception'"),
        InvalidLicense(text: "Classpath-exception-2.0", reason: "is a license exception, not a license"),
        InvalidLicense(text: "MIT WITH", reason: "WITH needs an exception identifier"),
        InvalidLicense(text: "(GPL-2.0-or-later AND LGPL-2.1-or-later) WITH OpenSSL-Exception",
                       reason: "WITH must follow a single license"),
        InvalidLicense(text: "LicenseRef-custom WITH OpenSSL-exception", reason: "WITH must follow a license from"),
        InvalidLicense(text: "GPL-2.0+, LGPL-2.1+, Zlib", reason: "unknown license identifier 'GPL-2.0+,'"),
        InvalidLicense(text: "LicenseRef-", reason: "malformed license reference"),
        InvalidLicense(text: "LicenseRef-a_b", reason: "malformed license reference"),
        InvalidLicense(text: "DocumentRef-x", reason: "malformed license reference"),
        InvalidLicense(text: "MIT++", reason: "unknown license identifier"),
        InvalidLicense(text: "GPL-2.0-with-bison-exception",
                       reason: "unknown license identifier"),  // dropped from the table: spdx-tools does not know it
    ]

    @Test(arguments: invalid)
    func refusesInvalidExpressions(_ row: InvalidLicense) {
        #expect {
            try LicenseExpression(parsing: row.text)
        } throws: { error in
            guard let error = error as? SBOMError else { return false }
            return error.kind == .invalidLicenseExpression && error.message.contains(row.reason)
        }
    }

    @Test func refusesNestingAndLengthBeyondTheCaps() {
        let deep = String(repeating: "(", count: 40) + "MIT" + String(repeating: ")", count: 40)
        #expect(throws: SBOMError.self) { try LicenseExpression(parsing: deep) }
        let long = Array(repeating: "MIT", count: 1000).joined(separator: " AND ")
        #expect(throws: SBOMError.self) { try LicenseExpression(parsing: long) }
    }

    @Test func reportsReferencesAndTheOrLaterOperator() throws {
        let expression = try LicenseExpression(parsing: "(Apache-2.0+ OR LicenseRef-a) AND DocumentRef-d:LicenseRef-b")
        #expect(expression.usesOrLaterOperator)
        #expect(expression.references.map(\.license) == ["LicenseRef-a", "LicenseRef-b"])
        #expect(expression.references.map(\.document) == [nil, "d"])
        #expect(try !LicenseExpression(parsing: "GPL-2.0+").usesOrLaterOperator)
    }

    @Test func theTableIsTheSPDXList() {
        #expect(LicenseExpression.licenseListVersion == "3.27")
        #expect(LicenseExpression.listedLicense("apache-2.0") == "Apache-2.0")
        #expect(LicenseExpression.listedLicense("0bsd") == "0BSD")
        #expect(LicenseExpression.listedLicense("LLVM-exception") == nil)
        #expect(LicenseExpression.listedException("llvm-exception") == "LLVM-exception")
        #expect(LicenseExpression.listedLicense("GPL") == nil)  // an alias license-expression knows, not SPDX
    }

    /// Every `L:` value of the real Alpine v3.16 index either parses (and then its canonical
    /// form parses to the same expression) or is refused with a one-line reason; the counts pin
    /// what the table and grammar make of real data.
    @Test func readsEveryLicenseOfTheAlpineIndex() throws {
        let licenses = Set(try FixtureIndex.alpine316.get().compactMap(\.license))
        var valid = 0
        var refused: [String] = []
        for text in licenses.sorted() {
            do {
                let expression = try LicenseExpression(parsing: text)
                #expect(try LicenseExpression(parsing: expression.description) == expression, "\(text)")
                valid += 1
            } catch {
                #expect(!error.message.contains("\n"))
                refused.append(text)
            }
        }
        #expect(licenses.count == 228)
        #expect(valid == 127, "refused: \(refused)")
        // Spot checks of both outcomes from the real data.
        for text in ["GPL-2.0-or-later", "MIT AND X11", "ISC AND ( BSD-3-Clause OR MIT )", "BSD-2-CLause",
                     "LGPL-2.0-or-later and GPL-2.0-or-later", "GPL-3.0+"] {
            #expect(!refused.contains(text), "\(text)")
        }
        for text in ["custom", "GPLv2+", "MIT BSD GPL2+", "GPL-2.0-or-later WITH OpenSSL-Exception", "Public Domain", "custom:multiple", "GPL"] {
            #expect(refused.contains(text), "\(text)")
        }
    }
}
