import APK
import ArgumentParser
import Foundation
import Resolver

/// Seconds in a `Duration`.
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Resolves the closure of every package of an index, one world at a time, with one reusable
/// solver session (what `apk add NAME` would install for each NAME).
struct ResolveEach: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve-each",
                                                    abstract: "Resolve every package of a signed index on its own.")

    @Option(help: "Label for the output lines.") var label: String
    @Option(name: .customLong("keyring"), help: "Keys the index is signed with.") var keyrings: [String] = []
    @Argument(help: "The APKINDEX.tar.gz.") var file: String

    func run() throws {
        let clock = ContinuousClock()
        var start = clock.now
        let packages = try APKIndexFile.read(path: file, keyring: try Keyring(paths: keyrings)).packages
        let readSeconds = seconds(clock.now - start)
        start = clock.now
        let index = try PackageIndex(repositories: [Repository(name: file, packages: packages)])
        let buildSeconds = seconds(clock.now - start)
        let session = ResolverSession(index: index)
        var durations: [Double] = []
        durations.reserveCapacity(packages.count)
        var failed = 0
        var selected = 0
        let total = clock.now
        for package in packages {
            let solveStart = clock.now
            do {
                selected += try session.resolve(ResolveRequest(world: [Dependency(name: package.name)])).packages.count
            } catch {
                failed += 1
            }
            durations.append(seconds(clock.now - solveStart))
        }
        let totalSeconds = seconds(clock.now - total)
        durations.sort()
        report("\(label).read", readSeconds, "s")
        report("\(label).index_build", buildSeconds, "s")
        report("\(label).solves", Double(packages.count), "worlds")
        report("\(label).failed", Double(failed), "worlds")
        report("\(label).selected", Double(selected), "packages")
        report("\(label).total", totalSeconds, "s")
        report("\(label).median_ms", durations[durations.count / 2] * 1000, "ms")
        report("\(label).p99_ms", durations[min(durations.count - 1, durations.count * 99 / 100)] * 1000, "ms")
    }
}

/// Resolves one world of `--size` package names spread evenly over a signed index.
struct ResolveWorld: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resolve-world",
                                                    abstract: "Resolve one large world against a signed index.")

    @Option(help: "Label for the output lines.") var label: String
    @Option(name: .customLong("keyring"), help: "Keys the index is signed with.") var keyrings: [String] = []
    @Option(help: "Number of package names in the world.") var size = 300
    @Option(name: .customLong("provide"),
            help: "A name the index depends on but nothing in it provides (make-index's so:libc…), given by one extra base package.")
    var provided: [String] = []
    @Argument(help: "The APKINDEX.tar.gz.") var file: String

    func run() throws {
        let clock = ContinuousClock()
        var start = clock.now
        let packages = try APKIndexFile.read(path: file, keyring: try Keyring(paths: keyrings)).packages
        let readSeconds = seconds(clock.now - start)
        start = clock.now
        let base = PackageInfo(name: "bench-base", version: "1.0-r0", arch: "x86_64", checksum: "Q1bench-base",
                               providerPriority: 100, provides: provided.map { Dependency(name: $0) })
        let index = try PackageIndex(repositories: [Repository(name: file, packages: packages),
                                                    Repository(name: "base", packages: provided.isEmpty ? [] : [base])])
        let buildSeconds = seconds(clock.now - start)
        let names = Array(Set(packages.map(\.name))).sorted()
        let step = max(1, names.count / size)
        let world = stride(from: 0, to: names.count, by: step).prefix(size).map { Dependency(name: names[$0]) }
        start = clock.now
        let resolution = try Resolver(index: index).resolve(ResolveRequest(world: world))
        let solveSeconds = seconds(clock.now - start)
        report("\(label).records", Double(packages.count), "records")
        report("\(label).read", readSeconds, "s")
        report("\(label).index_build", buildSeconds, "s")
        report("\(label).world", Double(world.count), "names")
        report("\(label).selected", Double(resolution.packages.count), "packages")
        report("\(label).solve", solveSeconds, "s")
    }
}
