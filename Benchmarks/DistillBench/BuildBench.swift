import ArgumentParser
import Foundation

/// The file trees of a synthetic repository for the build measurement: `count` packages holding
/// about `bytes` of files with a realistic mix — mostly small files, a few large ones; text that
/// compresses well, machine code that compresses somewhat, and already-compressed data that does
/// not. Fixed seed: the same arguments write the same trees (and, packed with a fixed
/// SOURCE_DATE_EPOCH, the same packages).
struct MakeRepositoryTrees: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-repo-trees", abstract: "Write the file trees of a synthetic package repository.")

    @Option(help: "How many packages.") var packages = 300
    @Option(help: "Total bytes of file content.") var bytes = 200_000_000
    @Argument(help: "The directory to create; package N's tree is DIR/bench-NNN/.") var directory: String

    /// xorshift64*, so every run draws the same numbers.
    struct Random {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func between(_ low: Int, _ high: Int) -> Int { low + below(high - low + 1) }
    }

    enum Content: CaseIterable { case text, code, compressed }

    func run() throws {
        var random = Random()
        let vocabulary: [[UInt8]] = (0..<512).map { _ in
            (0..<random.between(2, 11)).map { _ in UInt8(97 + random.below(26)) }
        }
        var remaining = bytes
        var fileNumber = 0
        var filesPerPackage = [Int](repeating: 0, count: packages)
        while remaining > 0 {
            // Sizes as in a distribution's packages: most files are small, a few are large.
            let bucket = random.below(100)
            let size = min(remaining, bucket < 60 ? random.between(200, 8_000)
                : bucket < 90 ? random.between(8_000, 128_000)
                : bucket < 99 ? random.between(128_000, 1_000_000)
                : random.between(1_000_000, 8_000_000))
            // Every package gets files; after that they land anywhere.
            let package = fileNumber < packages ? fileNumber : random.below(packages)
            let kind = random.below(100)
            let content: Content = kind < 55 ? .text : kind < 85 ? .code : .compressed
            let folder = URL(fileURLWithPath: directory)
                .appendingPathComponent(String(format: "bench-%03d", package))
                .appendingPathComponent(content == .text ? "usr/share/doc/bench-\(package)" : content == .code ? "usr/lib/bench-\(package)" : "usr/share/bench-\(package)")
                .appendingPathComponent("d\(filesPerPackage[package] / 32)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let bytes = Self.content(content, size: size, vocabulary: vocabulary, random: &random)
            try Data(bytes).write(to: folder.appendingPathComponent("f\(filesPerPackage[package])"))
            filesPerPackage[package] += 1
            remaining -= size
            fileNumber += 1
        }
        report("repo.files", Double(fileNumber), "files")
    }

    static func content(_ kind: Content, size: Int, vocabulary: [[UInt8]], random: inout Random) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + 16)
        switch kind {
        case .text:
            while bytes.count < size {
                bytes += vocabulary[random.below(vocabulary.count)]
                bytes.append(random.below(12) == 0 ? 10 : 32)
            }
        case .code:
            // Short repeated opcodes and random operands: deflate gets about half of it.
            while bytes.count < size {
                if random.below(2) == 0 {
                    bytes += [0x48, 0x89, 0xE5, 0x41, 0x57][0..<random.between(1, 5)]
                } else {
                    let word = random.next()
                    bytes += withUnsafeBytes(of: word) { Array($0.prefix(random.between(1, 4))) }
                }
            }
        case .compressed:
            while bytes.count < size {
                bytes += withUnsafeBytes(of: random.next()) { Array($0) }
            }
        }
        return Array(bytes.prefix(size))
    }
}
