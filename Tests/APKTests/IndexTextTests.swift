import Foundation
import Testing
import TestSupport
@testable import APK

@Suite struct IndexTextTests {
    static let sample = """
        C:Q1zWCdqAc8ZIjjhWqmFWEzNw+l3eQ=
        P:pkga
        V:1.0-r0
        A:x86_64
        S:1345
        I:41
        T:pkga test package
        U:https://example.invalid/
        L:MIT
        o:pkga
        t:1700000000
        D:so:libb.so.1 /bin/sh

        C:Q1pIXS9nKU3j0Now6FlNJ1BgLt7JI=
        P:libb
        V:2.0-r0
        A:x86_64
        S:1196
        I:12
        T:libb test package
        U:https://example.invalid/
        L:MIT
        o:libb
        t:1700000000
        k:10
        p:so:libb.so.1=1 libb-virtual
        i:pkga=1.0-r0 docs


        """

    @Test func parsesEveryField() throws {
        let packages = try IndexText.parse(Array(Self.sample.utf8))
        #expect(packages.count == 2)
        let pkga = packages[0]
        #expect(pkga.checksum == "Q1zWCdqAc8ZIjjhWqmFWEzNw+l3eQ=")
        #expect(pkga.name == "pkga")
        #expect(pkga.version == "1.0-r0")
        #expect(pkga.arch == "x86_64")
        #expect(pkga.fileSize == 1345)
        #expect(pkga.installedSize == 41)
        #expect(pkga.description == "pkga test package")
        #expect(pkga.license == "MIT")
        #expect(pkga.buildTime == 1_700_000_000)
        #expect(pkga.depends.map(\.name) == ["so:libb.so.1", "/bin/sh"])
        let libb = packages[1]
        #expect(libb.providerPriority == 10)
        #expect(libb.provides.map(\.description) == ["so:libb.so.1=1", "libb-virtual"])
        #expect(libb.installIf.map(\.description) == ["pkga=1.0-r0", "docs"])
    }

    @Test func writesWhatItReads() throws {
        let packages = try IndexText.parse(Array(Self.sample.utf8))
        let written = IndexText.write(packages)
        #expect(try IndexText.parse(Array(written.utf8)) == packages)
        #expect(written.hasPrefix("C:Q1zWCdqAc8ZIjjhWqmFWEzNw+l3eQ=\nP:pkga\nV:1.0-r0\nA:x86_64\nS:1345\nI:41\n"))
    }

    @Test func unknownLettersFollowApkToolsRules() throws {
        let text = "P:a\nV:1\nx:ignored\n\nP:b\nV:1\nX:needs-newer-apk\n\n"
        let packages = try IndexText.parse(Array(text.utf8))
        #expect(packages.map(\.hasUnknownRequiredField) == [false, true])
    }

    @Test(arguments: ["V:1.0\n\n", "P:a\n\n", "P:a\nV:1\nS:big\n\n", "P:a\nV:1\nno colon here\n"])
    func rejectsBrokenRecords(text: String) {
        #expect(throws: APKError.self) { try IndexText.parse(Array(text.utf8)) }
    }

    @Test func readsEveryApkToolsTestRepository() throws {
        let folder = Fixtures.url("apk-tools-tests")
        let repos = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".repo") }
        #expect(repos.count == 21)
        for repo in repos {
            let packages = try IndexText.parse(try Data(contentsOf: folder.appendingPathComponent(repo)), source: repo)
            #expect(!packages.isEmpty, "\(repo)")
        }
    }
}
