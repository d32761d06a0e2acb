import Testing
import TestSupport
@testable import Resolver

/// apk-tools 2.14.10's own solver suite (`test/*.test`, 93 cases), run against the Resolver.
@Suite struct ApkConformanceTests {
    /// Cases that do not apply to a resolver that builds images from an empty root, each with the
    /// reason. Everything else must match apk's output.
    static let notApplicable: [String: String] = [
        "basic3": "apk upgrade: upgrades an installed root in place",
        "basic5": "apk upgrade -a: reinstalls an installed root from available repositories",
        "basic6": "apk upgrade: upgrades an installed root in place",
        "basic7": "apk upgrade --no-network: upgrades an installed root from the cache",
        "basic12": "apk --latest upgrade: upgrades an installed root in place",
        "basic13": "apk --latest upgrade: upgrades an installed root in place",
        "pinning6": "apk upgrade: upgrades an installed root in place",
        "pinning8": "apk upgrade -a: reinstalls an installed root from available repositories",
        "provides-upgrade": "apk upgrade: replaces an installed package by a provider in place",
        "selfupgrade1": "apk upgrade --self-upgrade-only: apk-tools upgrading itself first",
        "selfupgrade2": "apk upgrade --self-upgrade-only: apk-tools upgrading itself first",
        "selfupgrade3": "apk upgrade --self-upgrade-only: apk-tools upgrading itself first",
        "selfupgrade4": "apk upgrade --self-upgrade-only: apk-tools upgrading itself first",
        "upgrade1": "apk upgrade: upgrades an installed root in place",
        "upgrade2": "apk upgrade --ignore: holds installed packages back",
        "upgrade3": "apk upgrade NAME: upgrades one installed package in place",
        "upgrade4": "apk --prune upgrade: prunes an installed root",
        "basic4": "apk del: removes from an installed root",
        "basic14": "apk del: removes from an installed root",
        "basic15": "apk del: removes from an installed root",
        "installif4": "apk del: removes from an installed root",
        "provides18": "apk del: removes from an installed root",
        "fix1": "apk fix: repairs an installed root",
        "fix2": "apk fix: repairs an installed root",
        "fix3": "apk fix --depends: repairs an installed root",
        "fix4": "apk fix: repairs an installed root",
        "fix5": "apk fix: repairs an installed root",
        "fix6": "apk fix --depends: repairs an installed root",
    ]

    static let cases: [ApkTestCase] = (try? ApkTestCase.all()) ?? []
    static let applicable: [ApkTestCase] = cases.filter { notApplicable[$0.name] == nil }

    @Test func suiteIsComplete() throws {
        let all = try ApkTestCase.all()
        #expect(all.count == 93)
        // The table names only real cases, and only applets other than add.
        for (name, _) in Self.notApplicable {
            let found = all.first { $0.name == name }
            #expect(found != nil, "\(name) is not a case")
            if let found {
                let applet = try ApkAddRunner.parse(found.arguments).applet
                #expect(applet != "add", "\(name) is an add case and must pass")
            }
        }
        let adds = try all.filter { try ApkAddRunner.parse($0.arguments).applet == "add" }
        #expect(adds.count == 65)
        print("apk-tools conformance: \(all.count) cases, \(Self.applicable.count) run, \(Self.notApplicable.count) not applicable")
    }

    @Test(arguments: applicable)
    func matchesApk(_ testCase: ApkTestCase) throws {
        let invocation = try ApkAddRunner.parse(testCase.arguments)
        #expect(invocation.applet == "add")
        let output = try ApkAddRunner.run(invocation)
        if testCase.expected.first == "ERROR: unable to select packages:" {
            #expect(output.first == testCase.expected.first, "\(output.joined(separator: "\n"))")
            #expect(ApkAddRunner.namesMentioned(in: output) == ApkAddRunner.namesMentioned(in: testCase.expected),
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
            let output = try ApkAddRunner.run(try ApkAddRunner.parse(testCase.arguments))
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
        let outcome = try ApkAddRunner.execute(try ApkAddRunner.parse(testCase.arguments))
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
