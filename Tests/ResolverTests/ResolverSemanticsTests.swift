import APK
import Testing
@testable import Resolver

/// apk-tools 2.14 semantics, one rule at a time, on small hand-written indexes.
@Suite struct ResolverSemanticsTests {
    typealias T = TestIndexes

    @Test func highestProviderPriorityWinsForAVirtual() throws {
        let index = try T.index(
            T.record("vi-tiny", "1.0-r0", "k:10|p:editor")
            + T.record("vi-big", "1.0-r0", "k:100|p:editor"))
        #expect(T.order(try T.resolve(index, "editor")) == ["vi-big-1.0-r0"])
        // Priority only breaks ties: a versioned provide's version comes first.
        let versioned = try T.index(
            T.record("vi-tiny", "1.0-r0", "k:10|p:editor=2")
            + T.record("vi-big", "1.0-r0", "k:100|p:editor=1"))
        #expect(T.order(try T.resolve(versioned, "editor")) == ["vi-tiny-1.0-r0"])
    }

    @Test func unversionedProvideWithoutPriorityIsNotPickedAutomatically() throws {
        let index = try T.index(
            T.record("busybox", "1.35.0-r0", "p:/bin/sh")
            + T.record("pkga", "1.0-r0", "D:/bin/sh"))
        let error = try #require(try T.failure(index, "pkga"))
        #expect(error.kind == .unsatisfiable)
        let problem = try #require(error.problems.first)
        #expect(problem.kind == .noAutomaticChoice)
        #expect(problem.chain == ["pkga", "/bin/sh"])
        #expect(problem.names.contains("busybox"))
        #expect(error.apkReport?.contains("/bin/sh (virtual):") == true)
        // Naming the provider makes it eligible.
        #expect(T.order(try T.resolve(index, "pkga busybox")) == ["busybox-1.35.0-r0", "pkga-1.0-r0"])
    }

    @Test func aSingleVersionedProviderIsPicked() throws {
        let index = try T.index(
            T.record("libssl3", "3.1.4-r0", "p:so:libssl.so.3=3")
            + T.record("nginx", "1.25-r0", "D:so:libssl.so.3"))
        #expect(T.order(try T.resolve(index, "nginx")) == ["libssl3-3.1.4-r0", "nginx-1.25-r0"])
    }

    static let pinningIndex = """
        \(T.record("libb", "1.0"))\(T.record("libb", "2.0"))\(T.record("app", "1.0", "D:libb"))
        """

    @Test func taggedRepositoryIsOnlyUsedWhenNamed() throws {
        let index = try T.index([(nil, Self.pinningIndex),
                                 ("testing", T.record("libb", "3.0") + T.record("tool", "1.0", "D:libb"))])
        #expect(T.order(try T.resolve(index, "libb")) == ["libb-2.0"])
        let pinned = try T.resolve(index, "libb@testing")
        #expect(T.order(pinned) == ["libb-3.0"])
        #expect(pinned.packages[0].tag == "testing")
        #expect(pinned.packages[0].repository == "repo1")
        // A package only in the tagged repository cannot be had without the tag.
        let error = try #require(try T.failure(index, "tool"))
        #expect(error.problems.contains { $0.kind == .pinned && $0.reason.contains("tool@testing") })
        // The permission is inherited by its dependencies, which still prefer untagged versions.
        let tool = try T.resolve(index, "tool@testing")
        #expect(T.order(tool) == ["libb-2.0", "tool-1.0"])
        #expect(tool.packages.map(\.tag) == [nil, "testing"])
    }

    @Test func unknownTagInTheWorldIsRefused() throws {
        let index = try T.index(Self.pinningIndex)
        let error = try #require(try T.failure(index, "libb@edge"))
        #expect(error.kind == .unknownTag)
        #expect(error.message.contains("@edge"))
    }

    @Test func installIfPackagesFollowTheirConditions() throws {
        let index = try T.index(
            T.record("busybox", "1.35.0-r0", "p:/bin/sh")
            + T.record("libb", "2.0-r0", "p:so:libb.so.1=1")
            + T.record("pkga", "1.0-r0", "D:so:libb.so.1 /bin/sh")
            + T.record("docs", "1.0-r0")
            + T.record("pkga-doc", "1.0-r0", "i:pkga=1.0-r0 docs"))
        // The order apk-tools 2.14.10 was observed to install (reference §7.4).
        let resolution = try T.resolve(index, "busybox docs pkga")
        #expect(T.order(resolution) == ["busybox-1.35.0-r0", "docs-1.0-r0", "libb-2.0-r0", "pkga-1.0-r0", "pkga-doc-1.0-r0"])
        // Without one condition the package stays out.
        #expect(!T.order(try T.resolve(index, "busybox pkga")).contains("pkga-doc-1.0-r0"))
        // A condition on a version that is not selected does not trigger it.
        let newer = try T.index(
            T.record("pkga", "1.1-r0") + T.record("docs", "1.0-r0") + T.record("pkga-doc", "1.0-r0", "i:pkga=1.0-r0 docs"))
        #expect(T.order(try T.resolve(newer, "pkga docs")) == ["docs-1.0-r0", "pkga-1.1-r0"])
    }

    @Test func conflictsExcludeAndExplain() throws {
        let index = try T.index(
            T.record("a", "1", "D:!b>1") + T.record("b", "1") + T.record("b", "2"))
        #expect(T.order(try T.resolve(index, "a b")) == ["b-1", "a-1"])
        let error = try #require(try T.failure(index, "a b>1"))
        let problem = try #require(error.problems.first { $0.kind == .constraintNotMet })
        #expect(problem.chain == ["a", "!b (> 1)"])
        #expect(problem.reason.contains("b-2"))
        #expect(error.apkReport == """
            ERROR: unable to select packages:
              b-2:
                breaks: a-1[!b>1]
                satisfies: world[b>1]

            """)
    }

    @Test func twoPackagesProvidingOneVersionedNameConflict() throws {
        let index = try T.index(
            T.record("server-a", "1", "p:theservice=1") + T.record("server-b", "1", "p:theservice=2"))
        let error = try #require(try T.failure(index, "server-a server-b"))
        #expect(error.problems.contains { $0.kind == .sameNameProvided && $0.names.contains("theservice") })
    }

    @Test func dependencyCyclesResolveAndTerminate() throws {
        let index = try T.index(T.record("a", "1", "D:b") + T.record("b", "1", "D:a"))
        #expect(T.order(try T.resolve(index, "a")) == ["b-1", "a-1"])
        #expect(T.order(try T.resolve(index, "b")) == ["a-1", "b-1"])
        let longer = try T.index(
            T.record("a", "1", "D:b") + T.record("b", "1", "D:c") + T.record("c", "1", "D:a x") + T.record("x", "1"))
        #expect(T.order(try T.resolve(longer, "a")) == ["x-1", "c-1", "b-1", "a-1"])
    }

    @Test func packagesWithUnknownRequiredFieldsAreSkipped() throws {
        let index = try T.index(T.record("tool", "1.0") + T.record("tool", "2.0", "X:future-feature"))
        #expect(T.order(try T.resolve(index, "tool")) == ["tool-1.0"])
        let only = try T.index(T.record("tool", "2.0", "X:future-feature"))
        let error = try #require(try T.failure(only, "tool"))
        #expect(error.problems.contains { $0.kind == .unusable })
    }

    @Test func highestVersionThenEarlierRepositoryWins() throws {
        let index = try T.index([(nil, T.record("tool", "1.0")),
                                 (nil, T.record("tool", "2.0") + T.record("tool", "1.0", identity: "other"))])
        #expect(T.order(try T.resolve(index, "tool")) == ["tool-2.0"])
        // The same version in two repositories under two identities: the first repository's.
        let tie = try T.index([(nil, T.record("tool", "1.0", "T:from the first")),
                               (nil, T.record("tool", "1.0", "T:from the second", identity: "second"))])
        let picked = try T.resolve(tie, "tool")
        #expect(picked.packages[0].info.description == "from the first")
        #expect(picked.packages[0].repository == "repo0")
    }

    @Test func sameIdentityInTwoRepositoriesIsOnePackage() throws {
        let index = try T.index([(nil, T.record("tool", "1.0")), (nil, T.record("tool", "1.0"))])
        #expect(index.packageCount == 1)
        #expect(try T.resolve(index, "tool").packages[0].repositories == ["repo0", "repo1"])
    }

    @Test func replacesAndOriginAreCarriedThrough() throws {
        let index = try T.index(T.record("tool", "1.0", "o:tools|r:oldtool"))
        let package = try #require(try T.resolve(index, "tool").packages.first)
        #expect(package.info.origin == "tools")
        #expect(package.info.replaces.map(\.name) == ["oldtool"])
    }

    @Test func versionConstraintsChooseAndExplainWithAChain() throws {
        let index = try T.index(
            T.record("nginx", "1.25-r0", "D:so:libssl.so.3")
            + T.record("libssl-compat", "1.0-r0", "p:so:libssl.so.3=3|D:libssl3>=3.2")
            + T.record("libssl3", "3.1.4-r0"))
        let error = try #require(try T.failure(index, "nginx"))
        let problem = try #require(error.problems.first)
        #expect(problem.description == "nginx → so:libssl.so.3 → libssl3 (>= 3.2) — repository has only 3.1.4-r0")
        #expect(error.message.hasPrefix("unable to select packages: nginx → so:libssl.so.3"))
        #expect(!error.message.contains("\n"))
    }

    @Test func missingNamesGetSuggestions() throws {
        let index = try T.index(T.record("busybox", "1.36") + T.record("bash", "5.2", "p:cmd:bash=5.2"))
        let error = try #require(try T.failure(index, "busybx"))
        let problem = try #require(error.problems.first)
        #expect(problem.kind == .noSuchPackage)
        #expect(problem.suggestions == ["busybox"])
        #expect(problem.description == "busybx — no such package; did you mean busybox?")
        let provided = try #require(try T.failure(index, "cmd:bsh"))
        #expect(provided.problems.first?.suggestions == ["cmd:bash"])
        #expect(error.apkReport == """
            ERROR: unable to select packages:
              busybx (no such package):
                required by: world[busybx]

            """)
    }

    @Test func solvingIsDeterministic() throws {
        var text = ""
        for number in 0..<60 {
            let deps = (0..<3).map { "p\((number * 7 + $0 * 13) % 60)" }.filter { $0 != "p\(number)" }
            text += T.record("p\(number)", "1.\(number % 4)", "D:\(deps.joined(separator: " "))|p:cmd:p\(number)")
        }
        let index = try T.index(text)
        let first = try T.resolve(index, "p3 p17 cmd:p40")
        let again = try T.resolve(index, "cmd:p40 p17 p3")
        #expect(T.order(first) == T.order(again))
        #expect(first.edges == again.edges)
        // A reused session gives the same answer as a fresh one, solve after solve.
        let session = ResolverSession(index: index)
        for _ in 0..<3 {
            let reused = try session.resolve(ResolveRequest(world: try T.world("p3 p17 cmd:p40")))
            #expect(T.order(reused) == T.order(first))
        }
    }

    @Test func perNameUpgradeFlagBeatsTheInstalledVersion() throws {
        let repo = T.record("a", "1", "D:b=1") + T.record("a", "2", "D:b=2") + T.record("b", "1") + T.record("b", "2")
        let installed = T.record("a", "1", "D:b=1") + T.record("b", "1")
        let index = try T.index([(nil, repo)], installed: installed)
        let kept = try Resolver(index: index).resolve(ResolveRequest(world: try T.world("a")))
        #expect(kept.countedChanges.isEmpty)
        let upgraded = try Resolver(index: index).resolve(
            ResolveRequest(world: try T.world("a"), nameFlags: ["a": .upgrade]))
        #expect(upgraded.countedChanges.map(\.action) == [.upgrade, .upgrade])
        #expect(upgraded.apkTranscript() == "(1/2) Upgrading b (1 -> 2)\n(2/2) Upgrading a (1 -> 2)\nOK: 0 MiB in 2 packages\n")
    }

    @Test func resolvesTheDemoRepositoryShape() throws {
        // The packages apk-tools was observed installing in reference §10.6.
        let index = try T.index(
            T.record("busybox", "1.35.0-r0", "p:/bin/sh")
            + T.record("libb", "1.0-r0", "p:so:libb.so.1=1")
            + T.record("libb", "2.0-r0", "p:so:libb.so.1=1")
            + T.record("pkga", "1.0-r0", "D:so:libb.so.1 /bin/sh"))
        #expect(T.order(try T.resolve(index, "busybox pkga")) == ["busybox-1.35.0-r0", "libb-2.0-r0", "pkga-1.0-r0"])
    }
}
