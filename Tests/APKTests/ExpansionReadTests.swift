import APK
import Archive
import DistillCrypto
import Foundation
import TestSupport
import Testing

/// `APKFile.read(path:options:expansion:)`: verifying a package against an earlier expansion of
/// its data section gives what a full read gives, and refuses (nil) anything but that expansion.
@Suite struct ExpansionReadTests {
    struct Package: Sendable, CustomStringConvertible {
        let path: String
        var description: String { (path as NSString).lastPathComponent }
    }

    static let packages = [
        Package(path: "alpine/packages/x86_64/strace-5.17-r0.apk"),
        Package(path: "alpine/packages/x86_64/curl-7.83.1-r1.apk"),
        // Its data is split over several gzip members.
        Package(path: "local-melange-tzdata/x86_64/tzdata-2023c-r0.apk"),
        Package(path: "apko-testrepo/x86_64/replayout-1.0.0-r0.apk"),
    ]

    /// A full read expanding into `scratch`, and the expansion as a cache would record it.
    static func fullRead(_ path: String, in scratch: ScratchDirectory, options: APKFile.Options) throws -> (APKFile, APKFile.Expansion) {
        let expanded = scratch.path("expanded.tar")
        let sink = try FileDescriptorSink(creatingFileAt: expanded)
        let file = try APKFile.read(path: path, options: options, expandingDataTo: sink)
        try sink.close()
        let bytes = try scratch.read("expanded.tar")
        let expansion = APKFile.Expansion(path: expanded, size: Int64(bytes.count), digest: DigestAlgorithm.sha256.hash(bytes),
                                          dataHash: try #require(file.info.dataHash))
        return (file, expansion)
    }

    @Test("the same metadata, verdicts, sections and data entries as a full read", arguments: packages)
    func sameAsFullRead(_ package: Package) throws {
        let scratch = try ScratchDirectory()
        let path = Fixtures.url(package.path).path
        let checksum = try APKFile.read(path: path, options: APKFile.Options(requiresSignature: false)).identity
        let options = APKFile.Options(requiresSignature: false, expectedChecksum: checksum)
        let (full, expansion) = try Self.fullRead(path, in: scratch, options: options)
        let fast = try #require(try APKFile.read(path: path, options: options, expansion: expansion))
        #expect(fast.verdict == .ok)
        #expect(fast.info == full.info)
        #expect(fast.identity == full.identity)
        #expect(fast.identityMatches == true)
        #expect(fast.dataHash == full.dataHash)
        #expect(fast.dataSection == full.dataSection)
        #expect(fast.controlSection == full.controlSection)
        #expect(fast.scripts == full.scripts)
        #expect(fast.expandedDataSize == full.expandedDataSize)
        #expect(fast.skippedDataEntries == full.skippedDataEntries)
        #expect(fast.dataEntries == full.dataEntries)
        #expect(!fast.dataEntries.isEmpty)
    }

    @Test("another C:, a damaged data section, or a wrong expansion are caught", arguments: packages.prefix(2))
    func refusals(_ package: Package) throws {
        let scratch = try ScratchDirectory()
        let path = Fixtures.url(package.path).path
        let checksum = try APKFile.read(path: path, options: APKFile.Options(requiresSignature: false)).identity
        let options = APKFile.Options(requiresSignature: false, expectedChecksum: checksum)
        let (_, expansion) = try Self.fullRead(path, in: scratch, options: options)

        // Another expected C: is reported as by a full read.
        var other = options
        other.expectedChecksum = "Q1" + Base64.encode([UInt8](repeating: 7, count: 20))
        #expect(try APKFile.read(path: path, options: other, expansion: expansion)?.verdict == .checksumMismatch)

        // A byte of the compressed data changed: the datahash check fails without inflating.
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 20] ^= 0x01
        try scratch.write("damaged.apk", bytes)
        let damaged = try #require(try APKFile.read(path: scratch.path("damaged.apk"), options: options, expansion: expansion))
        #expect(damaged.verdict == .badDataHash)

        // The expansion: a changed byte, a changed record, another datahash: read in full instead.
        var expanded = try scratch.read("expanded.tar")
        expanded[expanded.count / 2] ^= 0x01
        try scratch.write("changed.tar", expanded)
        var changed = expansion
        changed.path = scratch.path("changed.tar")
        #expect(try APKFile.read(path: path, options: options, expansion: changed) == nil)
        var shorter = expansion
        shorter.size -= 512
        #expect(try APKFile.read(path: path, options: options, expansion: shorter) == nil)
        var otherHash = expansion
        otherHash.dataHash = String(repeating: "0", count: 64)
        #expect(try APKFile.read(path: path, options: options, expansion: otherHash) == nil)
        var truncated = expansion
        try scratch.write("truncated.tar", try scratch.read("expanded.tar").prefix(1000))
        truncated.path = scratch.path("truncated.tar")
        #expect(try APKFile.read(path: path, options: options, expansion: truncated) == nil)
    }
}
