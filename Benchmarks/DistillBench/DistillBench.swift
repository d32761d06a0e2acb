import APK
import ArgumentParser
import Archive
import DistillCrypto
import Foundation

/// Speed measurements for `make bench` (scripts/bench.sh). Each subcommand measures one thing and
/// prints `name value unit` lines for the script to tabulate; none of them passes or fails.
@main
struct DistillBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill-bench",
        abstract: "Distill's speed measurements (run through scripts/bench.sh).",
        subcommands: [IndexParse.self, VerifyAPK.self, GzipWrite.self, MakeIndex.self, MakeTree.self, Baseline.self,
                      ResolveEach.self, ResolveWorld.self, MakeRepositoryTrees.self]
    )
}

/// Seconds taken by the fastest of `runs` calls of `body` (the others absorb cache warm-up).
/// What `body` returns is released after the clock stops: a measurement is of making a result,
/// not of freeing the previous one.
func fastest<Result>(runs: Int, _ body: () throws -> Result) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<max(runs, 1) {
        let start = ContinuousClock.now
        let result = try body()
        let elapsed = ContinuousClock.now - start
        withExtendedLifetime(result) {}
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
    return best
}

/// One `name value unit` line.
func report(_ name: String, _ value: Double, _ unit: String) {
    print("\(name) \(String(format: "%.3f", value)) \(unit)")
}

/// Reads a signed APKINDEX.tar.gz (inflate, verify, untar, parse), parses its text alone, and
/// inflates it alone (with the CRC-32 check and the SHA-1 of the compressed bytes that reading
/// does): the part of reading that parsing cannot speed up.
struct IndexParse: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "index-parse", abstract: "Read and parse an APKINDEX.tar.gz.")

    @Option(help: "Label for the output lines.") var label: String
    @Option(name: .customLong("keyring"), help: "Keys the index is signed with.") var keyrings: [String] = []
    @Option(help: "Repetitions (the fastest counts).") var runs = 5
    @Argument(help: "The APKINDEX.tar.gz.") var file: String

    func run() throws {
        let keyring = try Keyring(paths: keyrings)
        let index = try APKIndexFile.read(path: file, keyring: keyring)
        let text = Array(IndexText.write(index.packages).utf8)
        let seconds = try fastest(runs: runs) { try APKIndexFile.read(path: file, keyring: keyring) }
        let parseSeconds = try fastest(runs: runs) { try IndexText.parse(text) }
        let inflateSeconds = try fastest(runs: runs) { try Self.inflate(path: file) }
        report("\(label).packages", Double(index.packages.count), "records")
        report("\(label).text", Double(text.count) / 1e6, "MB")
        report("\(label).read", seconds, "s")
        report("\(label).read_rate", Double(text.count) / 1e6 / seconds, "MB/s")
        report("\(label).parse_rate", Double(text.count) / 1e6 / parseSeconds, "MB/s")
        report("\(label).inflate_rate", Double(text.count) / 1e6 / inflateSeconds, "MB/s")
    }

    /// Inflates the whole file, checking each member's CRC-32 and hashing the compressed bytes
    /// with SHA-1, as the signed-index reader does; nothing is parsed.
    static func inflate(path: String) throws -> Digest {
        let source = try FileDescriptorSource(path: path)
        defer { try? source.close() }
        let hashing = HashingObserver()
        let gzip = try GzipReader(source: source, observer: hashing)
        try gzip.drainToEnd()
        return hashing.hasher.finalize()
    }
}

/// SHA-1 of every compressed byte a `GzipReader` consumes.
final class HashingObserver: GzipMemberObserver {
    var hasher = DigestHasher(.sha1)

    func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws {
        hasher.update(bytes)
    }
}

/// Verifies an .apk in one pass, expanding its data tar to a counting sink.
struct VerifyAPK: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify-apk", abstract: "Verify (and expand) one .apk.")

    @Option(help: "Label for the output lines.") var label: String
    @Option(name: .customLong("keyring"), help: "Keys the package is signed with.") var keyrings: [String] = []
    @Option(help: "Repetitions (the fastest counts).") var runs = 3
    @Argument(help: "The .apk.") var file: String

    func run() throws {
        let keyring = try Keyring(paths: keyrings)
        var result: APKFile?
        var expanded = CountingSink()
        let seconds = try fastest(runs: runs) {
            expanded = CountingSink()
            result = try APKFile.read(path: file, options: APKFile.Options(keyring: keyring, listsDataEntries: false),
                                      expandingDataTo: expanded)
        }
        guard let result, result.verdict == .ok else {
            throw ValidationError("\(file): \(result?.verdict.rawValue ?? "unreadable")")
        }
        let size = Double(result.info.fileSize ?? 0)
        report("\(label).size", size / 1e6, "MB")
        report("\(label).expanded", Double(expanded.count) / 1e6, "MB")
        report("\(label).seconds", seconds, "s")
        report("\(label).rate", size / 1e6 / seconds, "MB/s")
    }
}

/// gzip throughput of the single-threaded and the parallel writer on a file held in memory.
struct GzipWrite: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gzip", abstract: "Compress a file with GzipWriter and ParallelGzipWriter.")

    @Option(help: "Label for the output lines.") var label: String
    @Option(help: "Compression level.") var level = 6
    @Option(help: "Threads for the parallel writer.") var threads = ParallelGzipWriter.defaultThreadCount
    @Option(name: .customLong("block-kib"), help: "Parallel writer block size in KiB.") var blockKiB = 128
    @Argument(help: "The input file.") var file: String

    func run() throws {
        let input = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        let megabytes = Double(input.count) / 1e6
        func measure(_ name: String, _ makeWriter: (any ByteSink) throws -> (any ByteSink, () throws -> Void)) throws {
            let counter = CountingSink()
            let seconds = try fastest(runs: 1) {
                let (writer, finish) = try makeWriter(counter)
                try input.withUnsafeBytes { all in
                    var offset = 0
                    while offset < all.count {
                        let end = min(all.count, offset + (1 << 20))
                        try writer.write(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
                        offset = end
                    }
                }
                try finish()
            }
            report("\(label).\(name).rate", megabytes / seconds, "MB/s")
            report("\(label).\(name).size", Double(counter.count) / 1e6, "MB")
        }
        try measure("serial") { sink in
            let writer = try GzipWriter(sink: sink, level: level)
            return (writer, writer.finish)
        }
        try measure("parallel") { sink in
            let writer = try ParallelGzipWriter(sink: sink, level: level, blockSize: blockKiB * 1024, threads: threads)
            return (writer, writer.finish)
        }
    }
}

/// A deterministic signed index of synthetic, realistic-looking records.
struct MakeIndex: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "make-index", abstract: "Write a synthetic signed APKINDEX.tar.gz.")

    @Option(help: "Number of records.") var entries = 100_000
    @Option(help: "Private key to sign with.") var key: String
    @Option(name: .shortAndLong, help: "Output file.") var output: String

    func run() throws {
        var packages: [PackageInfo] = []
        packages.reserveCapacity(entries)
        for number in 0..<entries {
            let name = "synthetic-\(number)"
            var depends: [Dependency] = [Dependency(name: "so:libc.musl-x86_64.so.1")]
            for step in [1, 7, 31] where number >= step {
                depends.append(Dependency(name: "synthetic-\(number - step)", op: .greater.union(.equal), version: "1.0-r0"))
            }
            let digest = DigestAlgorithm.sha1.hash(Array(name.utf8))
            packages.append(PackageInfo(
                name: name, version: "\(number % 17 + 1).\(number % 5).\(number % 3)-r\(number % 4)", arch: "x86_64",
                checksum: PackageIdentity.string(digest), fileSize: UInt64(10_000 + number * 7 % 90_000),
                installedSize: UInt64(40_960 + number * 13 % 400_000), description: "Synthetic package number \(number) for benchmarks",
                url: "https://example.invalid/\(name)", license: "MIT AND BSD-3-Clause", origin: "synthetic-\(number / 3)",
                maintainer: "Bench Mark <bench@example.invalid>", buildTime: 1_700_000_000 + Int64(number),
                commit: DigestAlgorithm.sha1.hash(Array("commit-\(number)".utf8)).hex, depends: depends,
                provides: [Dependency(name: "so:lib\(name).so.1", op: .equal, version: "1"),
                           Dependency(name: "cmd:\(name)", op: .equal, version: "1.0-r0")]))
        }
        try APKIndexWriter.write(packages: packages, description: "synthetic \(entries)", modificationTime: 0,
                                 key: try SigningKey(file: key), to: output)
    }
}

/// A deterministic directory of incompressible files for the large-package measurement.
struct MakeTree: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "make-tree", abstract: "Write a directory of pseudo-random files.")

    @Option(help: "Total bytes of file content.") var bytes = 200_000_000
    @Option(name: .customLong("file-size"), help: "Bytes per file.") var fileSize = 8_000_000
    @Argument(help: "The directory to create.") var directory: String

    func run() throws {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("usr/share/bench")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // xorshift64*: a fixed seed, so the tree (and the package made from it) is the same every run.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var remaining = bytes
        var number = 0
        while remaining > 0 {
            let count = min(fileSize, remaining)
            var content = [UInt8](repeating: 0, count: count)
            content.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < count {
                    state ^= state >> 12
                    state ^= state << 25
                    state ^= state >> 27
                    var word = (state &* 0x2545_F491_4F6C_DD1D).littleEndian
                    let take = min(8, count - offset)
                    withUnsafeBytes(of: &word) {
                        buffer.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: take)
                    }
                    offset += take
                }
            }
            try Data(content).write(to: folder.appendingPathComponent(String(format: "blob-%04d.bin", number)))
            remaining -= count
            number += 1
        }
    }
}

/// Loads the libraries and does nothing: the resident set every measurement starts from.
struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "baseline", abstract: "Do nothing, for the baseline RSS.")

    func run() throws {
        _ = try Keyring(paths: [])
        _ = DigestAlgorithm.sha256.hash([UInt8]())
        report("baseline", 0, "-")
    }
}
