import APK
import Testing
@testable import Resolver

@Suite struct MultiArchTests {
    typealias T = TestIndexes

    static func resolver(_ text: String) throws -> Resolver {
        Resolver(index: try T.index(text))
    }

    static func versions(_ result: MultiArchResolution, _ arch: String) -> [String] {
        result.resolutions[arch]!.packages.map(\.nameVersion)
    }

    @Test func picksTheNewestVersionEveryArchitectureHas() throws {
        let multi = MultiArchResolver(resolvers: [
            "x86_64": try Self.resolver(T.record("busybox", "1.36.0-r0") + T.record("busybox", "1.36.1-r0")),
            "aarch64": try Self.resolver(T.record("busybox", "1.36.0-r0")),
        ])
        let result = try multi.resolve(ResolveRequest(world: try T.world("busybox")))
        #expect(result.architectures == ["aarch64", "x86_64"])
        #expect(Self.versions(result, "x86_64") == ["busybox-1.36.0-r0"])
        #expect(Self.versions(result, "aarch64") == ["busybox-1.36.0-r0"])
        #expect(result.pins.map(\.description) == ["busybox=1.36.0-r0"])
    }

    @Test func alignsDependenciesAndConverges() throws {
        // The newer libx on x86_64 needs libz 2; pinning libx back must also drop libz 2.
        let multi = MultiArchResolver(resolvers: [
            "x86_64": try Self.resolver(
                T.record("app", "1.0", "D:libx") + T.record("libx", "1.0", "D:libz") + T.record("libx", "2.0", "D:libz>=2")
                + T.record("libz", "1.0") + T.record("libz", "2.0")),
            "aarch64": try Self.resolver(
                T.record("app", "1.0", "D:libx") + T.record("libx", "1.0", "D:libz") + T.record("libz", "1.0")),
        ])
        let result = try multi.resolve(ResolveRequest(world: try T.world("app")))
        #expect(Self.versions(result, "x86_64") == ["libz-1.0", "libx-1.0", "app-1.0"])
        #expect(Self.versions(result, "aarch64") == ["libz-1.0", "libx-1.0", "app-1.0"])
        #expect(result.pins.map(\.description) == ["libx=1.0", "libz=1.0"])
    }

    @Test func leavesArchitectureSpecificPackagesAlone() throws {
        let multi = MultiArchResolver(resolvers: [
            "x86_64": try Self.resolver(T.record("app", "1.0", "D:cpuid") + T.record("cpuid", "3")),
            "aarch64": try Self.resolver(T.record("app", "1.0")),
        ])
        let result = try multi.resolve(ResolveRequest(world: try T.world("app")))
        #expect(Self.versions(result, "x86_64") == ["cpuid-3", "app-1.0"])
        #expect(Self.versions(result, "aarch64") == ["app-1.0"])
        #expect(result.pins.isEmpty)
    }

    @Test func namesThePackageVersionsAndArchitecturesThatDisagree() throws {
        let multi = MultiArchResolver(resolvers: [
            "x86_64": try Self.resolver(T.record("tool", "2.0")),
            "aarch64": try Self.resolver(T.record("tool", "1.0")),
            "armv7": try Self.resolver(T.record("tool", "1.0")),
        ])
        do {
            _ = try multi.resolve(ResolveRequest(world: try T.world("tool")))
            Issue.record("architectures with no common version of a requested package must fail")
        } catch let error as ResolverError {
            #expect(error.kind == .inconsistentArchitectures)
            #expect(error.message == "cannot pick one version of tool for every architecture: 1.0 (aarch64), 1.0 (armv7), 2.0 (x86_64); no version is available on all of them")
        }
    }

    @Test func reportsWhichArchitectureCannotBeSolved() throws {
        let multi = MultiArchResolver(resolvers: [
            "x86_64": try Self.resolver(T.record("app", "1.0")),
            "riscv64": try Self.resolver(T.record("other", "1.0")),
        ])
        do {
            _ = try multi.resolve(ResolveRequest(world: try T.world("app")))
            Issue.record("a world one architecture cannot satisfy must fail")
        } catch let error as ResolverError {
            #expect(error.kind == .unsatisfiable)
            #expect(error.message.hasPrefix("riscv64: unable to select packages: app — no such package"))
        }
    }

    @Test func keepsTheTagOfATaggedPackageWhenPinning() throws {
        func tagged(_ versions: [String]) throws -> Resolver {
            Resolver(index: try T.index([(nil, T.record("base", "1")),
                                         ("edge", versions.map { T.record("tool", $0) }.joined())]))
        }
        let multi = MultiArchResolver(resolvers: ["x86_64": try tagged(["1", "2"]), "aarch64": try tagged(["1"])])
        let result = try multi.resolve(ResolveRequest(world: try T.world("base tool@edge")))
        #expect(result.pins.map(\.description) == ["tool@edge=1"])
        #expect(Self.versions(result, "x86_64") == ["base-1", "tool-1"])
    }
}

@Suite struct DotGraphTests {
    typealias T = TestIndexes

    static let index = """
        \(T.record("app", "2", "D:so:foo.so.1 libc"))\
        \(T.record("libfoo", "1", "p:so:foo.so.1=1.0|D:libc"))\
        \(T.record("libc", "1"))\
        \(T.record("tool", "1", "D:libc"))
        """

    @Test func drawsPackagesAndLabelsVirtualEdges() throws {
        let resolution = try T.resolve(try T.index(Self.index), "app tool")
        #expect(resolution.dot() == """
            digraph resolution {
              node [shape=box];
              "world" [shape=oval];
              "libc-1";
              "libfoo-1";
              "app-2";
              "tool-1";
              "world" -> "app-2";
              "world" -> "tool-1";
              "libfoo-1" -> "libc-1";
              "app-2" -> "libfoo-1" [label="so:foo.so.1"];
              "app-2" -> "libc-1";
              "tool-1" -> "libc-1";
            }

            """)
    }

    @Test func spanningTreeKeepsTheFirstEdgeIntoEachPackage() throws {
        let resolution = try T.resolve(try T.index(Self.index), "app tool")
        #expect(resolution.dot(spanningTree: true) == """
            digraph resolution {
              node [shape=box];
              "world" [shape=oval];
              "libc-1";
              "libfoo-1";
              "app-2";
              "tool-1";
              "world" -> "app-2";
              "world" -> "tool-1";
              "app-2" -> "libfoo-1" [label="so:foo.so.1"];
              "app-2" -> "libc-1";
            }

            """)
    }

    @Test func quotesNamesSafely() {
        #expect(Resolution.quoted("a\"b\\c") == "\"a\\\"b\\\\c\"")
    }
}
