import APK
import Foundation
import TestSupport
import Testing
@testable import Resolver

/// The resolver at scale, on synthetic indexes shaped like real ones: many names, several
/// versions, so:/cmd: provides, dependencies on earlier packages by name and by soname. Only the
/// results are checked here; the timings are `make bench`'s (distill-bench resolve-world and
/// resolve-each), never a pass/fail threshold.
@Suite struct ResolverScaleTests {
    /// A deterministic synthetic index: `names` package names, `versions` versions each; package
    /// `i` provides `so:libpkgI.so.1` and `cmd:pkgI`, and depends on up to three earlier
    /// packages (by name or by soname).
    static func syntheticIndex(names: Int, versions: Int) -> [PackageInfo] {
        var random = SplitMix64(seed: 0x5eed)
        var packages: [PackageInfo] = []
        packages.reserveCapacity(names * versions)
        for number in 0..<names {
            let dependencyCount = number < 8 ? 0 : Int(random.next() % 4)
            var depends: [Dependency] = []
            for _ in 0..<dependencyCount {
                let target = Int(random.next() % UInt64(number))
                depends.append(random.next() % 2 == 0
                    ? Dependency(name: "pkg\(target)")
                    : Dependency(name: "so:libpkg\(target).so.1"))
            }
            for version in 0..<versions {
                packages.append(PackageInfo(
                    name: "pkg\(number)", version: "1.\(version).\(number % 7)-r\(version)", arch: "x86_64",
                    checksum: "synthetic-\(number)-\(version)", installedSize: 4096,
                    depends: depends,
                    provides: [Dependency(name: "so:libpkg\(number).so.1", op: .equal, version: "1.\(version)"),
                               Dependency(name: "cmd:pkg\(number)", op: .equal, version: "1.\(version)")]))
            }
        }
        return packages
    }

    @Test func bigWorldOnAHundredThousandEntryIndex() throws {
        let packages = Self.syntheticIndex(names: 25_000, versions: 4)
        #expect(packages.count == 100_000)
        let index = try PackageIndex(repositories: [Repository(name: "synthetic", packages: packages)])
        var random = SplitMix64(seed: 42)
        var world: [Dependency] = []
        var chosen = Set<Int>()
        while world.count < 300 {
            let number = 20_000 + Int(random.next() % 5_000)
            if chosen.insert(number).inserted { world.append(Dependency(name: "pkg\(number)")) }
        }
        let resolution = try Resolver(index: index).resolve(world: world)
        #expect(resolution.packages.count >= 300)
        // Every selected package is the newest version (nothing constrains versions here).
        #expect(resolution.packages.allSatisfy { $0.info.version.hasPrefix("1.3.") })
    }

    @Test func closureOfEveryPackageOneByOne() throws {
        // About the size of Alpine's main repository.
        let packages = Self.syntheticIndex(names: 5_000, versions: 1)
        let index = try PackageIndex(repositories: [Repository(name: "synthetic", packages: packages)])
        let session = ResolverSession(index: index)
        var total = 0
        var largest = 0
        for number in 0..<5_000 {
            let resolution = try session.resolve(ResolveRequest(world: [Dependency(name: "pkg\(number)")]))
            total += resolution.packages.count
            largest = max(largest, resolution.packages.count)
        }
        #expect(total > 5_000)
        #expect(largest > 1)
    }
}
