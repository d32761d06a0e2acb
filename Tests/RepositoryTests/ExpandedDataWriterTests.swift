import Archive
import Foundation
import Testing
import TestSupport
@testable import Repository

/// The compare-or-write sink behind the cached expansions.
@Suite struct ExpandedDataWriterTests {
    static let content: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let existing: [UInt8]?
        let reused: Bool
        var description: String { name }
    }

    @Test(arguments: [
        Case(name: "absent", existing: nil, reused: false),
        Case(name: "identical", existing: content, reused: true),
        Case(name: "differs at 5000", existing: content.enumerated().map { $0.offset == 5000 ? $0.element ^ 1 : $0.element }, reused: false),
        Case(name: "shorter", existing: Array(content.prefix(4321)), reused: false),
        Case(name: "longer", existing: content + [1, 2, 3], reused: false),
        Case(name: "empty", existing: [], reused: false),
    ])
    func endsWithTheWrittenBytes(_ row: Case) throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path("sub/dir/x.tar")
        if let existing = row.existing {
            try FileManager.default.createDirectory(atPath: scratch.path("sub/dir"), withIntermediateDirectories: true)
            try Data(existing).write(to: URL(fileURLWithPath: path))
        }
        let writer = try ExpandedDataWriter(path: path)
        // Uneven chunks, so comparisons straddle the point of difference.
        var offset = 0
        for size in [1, 999, 3000, 17, 6000] where offset < Self.content.count {
            let end = min(Self.content.count, offset + size)
            try writer.write(Array(Self.content[offset..<end]))
            offset = end
        }
        try writer.write(Array(Self.content[offset...]))
        try writer.finish()
        #expect(writer.reusedExistingFile == row.reused)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == Self.content)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("sub/dir")) == ["x.tar"])
    }

    @Test func abandonLeavesTheOldFileAlone() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path("x.tar")
        try Data([9, 9, 9]).write(to: URL(fileURLWithPath: path))
        let writer = try ExpandedDataWriter(path: path)
        try writer.write(Array(Self.content.prefix(100)))
        writer.abandon()
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == [9, 9, 9])
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["x.tar"])
    }
}
