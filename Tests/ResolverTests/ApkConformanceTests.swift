import Testing
import TestSupport
@testable import Resolver

/// apk-tools 2.14.10's own solver suite (`test/*.test`, 93 cases), run against the Resolver.
@Suite struct ApkConformanceTests {
    /// Cases that do not apply to a resolver that builds images from an empty root, each with the
    /// reason. Everything else must match apk's output.
    /// Cases that would not apply to a resolver that builds images from an empty root, each with
    /// the reason. The `upgrade`, `del` and `fix` cases (installed roots) need not pass, but they
    /// do — apk's installed-package rules are implemented too — so the table is empty; a case added
    /// here must say why it cannot pass.
    static let notApplicable: [String: String] = [:]

    static let cases: [ApkTestCase] = (try? ApkTestCase.all()) ?? []
    static let applicable: [ApkTestCase] = cases.filter { notApplicable[$0.name] == nil }

    @Test func suiteIsComplete() throws {
        let all = try ApkTestCase.all()
        #expect(all.count == 93)
        // The table may name only real cases, and never an add case.
        for (name, _) in Self.notApplicable {
            let found = all.first { $0.name == name }
            #expect(found != nil, "\(name) is not a case")
            if let found {
                let applet = try ApkRunner.parse(found.arguments).applet
                #expect(applet != "add", "\(name) is an add case and must pass")
            }
        }
        let adds = try all.filter { try ApkRunner.parse($0.arguments).applet == "add" }
        #expect(adds.count == 65)
        let applets = try Dictionary(grouping: all) { try ApkRunner.parse($0.arguments).applet }.mapValues(\.count)
        #expect(applets == ["add": 65, "upgrade": 17, "fix": 6, "del": 5])
        print("apk-tools conformance: \(all.count) cases, \(Self.applicable.count) run, \(Self.notApplicable.count) not applicable")
    }

    @Test(arguments: applicable)
    func matchesApk(_ testCase: ApkTestCase) throws {
        let invocation = try ApkRunner.parse(testCase.arguments)
        let output = try ApkRunner.run(invocation)
        if testCase.expected.first == "ERROR: unable to select packages:" {
            #expect(output.first == testCase.expected.first, "\(output.joined(separator: "\n"))")
            #expect(ApkRunner.namesMentioned(in: output) == ApkRunner.namesMentioned(in: testCase.expected),
                    "ours:\n\(output.joined(separator: "\n"))\napk:\n\(testCase.expected.joined(separator: "\n"))")
        } else {
            #expect(output == testCase.expected,
                    "ours:\n\(output.joined(separator: "\n"))\napk:\n\(testCase.expected.joined(separator: "\n"))")
        }
    }

    /// Error explanations are compared by the names they mention; count how many are also
    /// byte-identical to apk's.
    @Test func reportsErrorFidelity() throws {
        var errorCases = 0
        var identical = 0
        for testCase in Self.applicable where testCase.expected.first == "ERROR: unable to select packages:" {
            errorCases += 1
            let output = try ApkRunner.run(try ApkRunner.parse(testCase.arguments))
            if output == testCase.expected { identical += 1 }
        }
        print("apk-tools conformance: \(identical) of \(errorCases) error explanations byte-identical")
        #expect(errorCases > 0)
    }
}

extension ApkConformanceTests {
    static let errorCases: [ApkTestCase] = applicable.filter { $0.expected.first == "ERROR: unable to select packages:" }

    /// The plain-words explanation of each failing case names only what apk names, and says
    /// something for every failure.
    @Test(arguments: errorCases)
    func problemsNameWhatApkNames(_ testCase: ApkTestCase) throws {
        let outcome = try ApkRunner.execute(try ApkRunner.parse(testCase.arguments))
        let failure = try #require(outcome.failure)
        #expect(!failure.problems.isEmpty)
        let apkText = testCase.expected.joined(separator: "\n")
        for problem in failure.problems {
            print("\(testCase.name): \(problem)")
            #expect(!problem.chain.isEmpty, "\(problem)")
            for name in problem.names {
                #expect(apkText.contains(name), "\(name) is not in apk's explanation")
            }
        }
    }
}
