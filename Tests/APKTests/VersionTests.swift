import Testing
import TestSupport
@testable import APK

/// One line of apk-tools' `test/version.data`: `A op B [# comment]`.
struct VersionCase: Sendable, CustomTestStringConvertible {
    let line: Int
    let left: String
    let expected: APKVersion.Order
    let right: String

    var testDescription: String { "line \(line): \(left) \(symbol) \(right)" }

    var symbol: String {
        switch expected {
        case .less: "<"
        case .equal: "="
        case .greater: ">"
        }
    }

    static let all: [VersionCase] = {
        guard let data = try? Fixtures.data("apk-tools-tests/version.data") else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var cases: [VersionCase] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3 else { continue }
            let order: APKVersion.Order
            switch fields[1] {
            case "<": order = .less
            case ">": order = .greater
            default: order = .equal
            }
            cases.append(VersionCase(line: index + 1, left: String(fields[0]), expected: order, right: String(fields[2])))
        }
        return cases
    }()
}

@Suite struct VersionTests {
    @Test func versionDataIsComplete() {
        #expect(VersionCase.all.count == 733)
    }

    @Test(arguments: VersionCase.all)
    func apkToolsVersionData(_ testCase: VersionCase) {
        #expect(APKVersion.compare(APKVersion(testCase.left), APKVersion(testCase.right)) == testCase.expected)
        // The comparison is antisymmetric: swapping the sides flips the answer.
        let flipped: APKVersion.Order = switch testCase.expected {
        case .less: .greater
        case .greater: .less
        case .equal: .equal
        }
        #expect(APKVersion.compare(APKVersion(testCase.right), APKVersion(testCase.left)) == flipped)
    }

    /// Cases the reference verified against apk-tools 2.14.10 beyond version.data (§5.2).
    @Test(arguments: [
        ("1.0", APKVersion.Order.less, "1.0-r0"), ("1.0-r9", .less, "1.0-r10"), ("1.0", .less, "1.0.0"),
        ("1.01", .less, "1.1"), ("1.001", .less, "1.01"), ("1.010", .greater, "1.01"), ("1.0", .greater, "1.00"),
        ("2023.01.01", .less, "2023.1.1"), ("1.0a", .greater, "1.0"), ("1.0z", .less, "1.0.1"),
        ("1.0b", .less, "1.0.1"), ("1.0_alpha", .less, "1.0_beta"), ("1.0_beta", .less, "1.0_pre"),
        ("1.0_pre", .less, "1.0_rc"), ("1.0-r0", .equal, "1.0-r00"), ("0", .less, "0.0"), ("1.5", .less, "1.10"),
        ("1.0_rc", .less, "1.0"), ("1.0", .less, "1.0_cvs"), ("1.0_cvs", .less, "1.0_svn"),
        ("1.0_svn", .less, "1.0_git"), ("1.0_git", .less, "1.0_hg"), ("1.0_hg", .less, "1.0_p"),
        ("1.0_p1", .greater, "1.0-r1"), ("1.0_rc1", .greater, "1.0_rc"), ("1.0_p", .less, "1.0_p0"),
        ("1.0_alpha", .less, "1.0_alpha0"), ("1.0_alpha_beta", .less, "1.0_alpha"),
        ("1.0_beta2_p1", .greater, "1.0_beta2"), ("1.0.0_rc1", .greater, "1.0_rc1"),
        ("1.0_rc1-r1", .greater, "1.0_rc1"), ("1.0.0-r0", .greater, "1.0-r1"), ("1_p1", .less, "1.1"),
        ("1.2.3~abc", .greater, "1.2.3"),
    ])
    func verifiedByApkTools(left: String, expected: APKVersion.Order, right: String) {
        #expect(APKVersion.compare(APKVersion(left), APKVersion(right)) == expected)
    }

    @Test(arguments: [
        ("1.0", true), ("1.2.3_rc1-r0", true), ("a", true), ("1..0", true), ("1.0-r", true), ("1.0.a", true),
        ("1.0_foo", false), ("1.0-r1a", false), ("1.2.3~abc", false), ("1.0bc", false),
    ])
    func validity(version: String, valid: Bool) {
        #expect(APKVersion(version).isValid == valid)
    }

    @Test func fuzzyMatchingIsATokenPrefix() {
        func fuzzy(_ a: String, _ b: String) -> Bool {
            APKVersion.compare(APKVersion(a), APKVersion(b), fuzzy: true) == .equal
        }
        #expect(fuzzy("1.2.3-r0", "1.2"))
        #expect(fuzzy("1.2", "1.2.3"))
        #expect(fuzzy("1.2_rc1", "1.2"))
        #expect(!fuzzy("1.20", "1.2"))
    }

    @Test func equalVersionsHashAlike() {
        #expect(Set([APKVersion("1.0-r0"), APKVersion("1.0-r00")]).count == 1)
    }
}
