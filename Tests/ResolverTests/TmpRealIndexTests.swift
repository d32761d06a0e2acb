import APK
import Foundation
import Testing
@testable import Resolver

@Suite struct TmpRealIndexTests {
    @Test func realAlpineClosures() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "/tmp/rs-idx/v3.16-x86_64-main/APKINDEX"))
        let t0 = ContinuousClock.now
        let packages = try IndexText.parse(data)
        let t1 = ContinuousClock.now
        let index = try PackageIndex(repositories: [Repository(name: "main", packages: packages)])
        print("real: parse \(t1 - t0), index \(ContinuousClock.now - t1)")
        let session = ResolverSession(index: index)
        var ok = 0, failed = 0, total = 0
        var failures: [String] = []
        let start = ContinuousClock.now
        for info in packages {
            do {
                let r = try session.resolve(ResolveRequest(world: [Dependency(name: info.name)]))
                ok += 1; total += r.packages.count
            } catch {
                failed += 1
                if failures.count < 8 { failures.append("\(info.name): \(error.message)") }
            }
        }
        print("real: \(packages.count) closures ok=\(ok) failed=\(failed) packages=\(total) in \(ContinuousClock.now - start)")
        for f in failures { print("  \(f)") }
    }
}
