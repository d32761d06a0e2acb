import APK
import Foundation
import Testing
import TestSupport
@testable import Resolver

/// The Resolver on a real Alpine index (v3.16 x86_64 main, 4,929 packages), read and verified
/// with the project's own signed-index reader against the Alpine keys.
@Suite struct RealIndexTests {
    static func alpineMain() throws -> [PackageInfo] {
        let keyring = try Keyring(directory: Fixtures.url("keys/alpine").path)
        let index = try APKIndexFile.read(path: Fixtures.url("alpine/v3.16-x86_64-main/APKINDEX.tar.gz").path, keyring: keyring)
        return index.packages
    }

    @Test func resolvesEveryPackageOneByOne() throws {
        let packages = try Self.alpineMain()
        #expect(packages.count == 4929)
        let index = try PackageIndex(repositories: [Repository(name: "v3.16/main", packages: packages)])
        let session = ResolverSession(index: index)
        var solved = 0
        var selected = 0
        var failures: [String: Int] = [:]
        let start = ContinuousClock.now
        for package in packages {
            do {
                let resolution = try session.resolve(ResolveRequest(world: [Dependency(name: package.name)]))
                solved += 1
                selected += resolution.packages.count
                // Dependencies come before the package that needs them; after the package asked
                // for come only packages installed because of it (install_if) and their own
                // dependencies.
                if let position = resolution.packages.firstIndex(where: { $0.info.name == package.name }) {
                    for later in resolution.packages.indices where later > position {
                        let pulledIn = !resolution.packages[later].info.installIf.isEmpty
                            || resolution.edges.contains { $0.to == later && ($0.from ?? -1) > later }
                        #expect(pulledIn, "\(resolution.packages[later].nameVersion) after \(package.name)")
                    }
                } else {
                    Issue.record("\(package.name) is missing from its own closure")
                }
            } catch {
                // Alpine 3.16's /bin/sh comes only from busybox, unversioned and without a
                // priority, so apk refuses to pick it on its own (reference §7.2); the same goes
                // for perl-test-tester; nvme-cli is in the community repository.
                let problem = error.problems.first
                #expect(problem?.kind == .noAutomaticChoice || problem?.kind == .noSuchPackage)
                failures[problem?.names.first ?? error.message, default: 0] += 1
            }
        }
        let elapsed = ContinuousClock.now - start
        print("real index: \(packages.count) closures, \(solved) solved (\(selected) packages), failures \(failures.sorted { $0.key < $1.key }), \(elapsed)")
        #expect(solved + failures.values.reduce(0, +) == packages.count)
        #expect(failures == ["/bin/sh": 999, "perl-test-tester": 1, "nvme-cli": 1])
        #expect(elapsed < .seconds(120))
    }

    @Test func resolvesABaseImage() throws {
        let index = try PackageIndex(repositories: [Repository(name: "v3.16/main", packages: try Self.alpineMain())])
        let resolver = Resolver(index: index)
        let base = try resolver.resolve(world: try Dependency.parseList("alpine-baselayout busybox apk-tools ca-certificates"))
        let names = base.packages.map(\.info.name)
        #expect(Set(names).isSuperset(of: ["alpine-baselayout", "busybox", "apk-tools", "ca-certificates", "musl",
                                           "libcrypto1.1", "libssl1.1", "zlib"]))
        // Dependencies come before the packages that need them.
        for edge in base.edges {
            if let from = edge.from { #expect(edge.to < from || base.edges.contains { $0.from == edge.to && $0.to == from }) }
        }
        // zsh needs /bin/sh, which only busybox provides and apk will not pick by itself.
        do {
            _ = try resolver.resolve(world: [Dependency(name: "zsh")])
            Issue.record("zsh alone must not resolve")
        } catch {
            #expect(error.problems.first?.description.hasPrefix("zsh → /bin/sh — /bin/sh is only provided") == true)
        }
        #expect(try resolver.resolve(world: try Dependency.parseList("zsh busybox")).packages.contains { $0.info.name == "zsh" })
    }
}
