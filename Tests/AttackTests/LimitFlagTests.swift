import APK
import Archive
import Foundation
import TestSupport
import Testing

/// Every resource cap has a flag that raises it: the same input fails under the lower cap (with an
/// error naming the cap) and builds under the higher one.
@Suite("Resource limit flags", .serialized)
struct LimitFlagTests {
    struct Row: Sendable, CustomStringConvertible {
        var flag: String
        var low: String?
        var high: String
        var expected: String
        var prepare: @Sendable (AttackWorkspace) throws -> Void
        var description: String { flag }
    }

    static let rows: [Row] = [
        Row(flag: "--max-apk-control-size", low: nil, high: "32M", expected: "over the 10485760-byte limit") { w in
            let script = [UInt8](repeating: 0x23, count: 11 << 20)
            try Benign.repository(w, [try Craft.package(name: "app", items: Craft.skeleton,
                                                        controlExtra: [.bytes(".post-install", script, mode: 0o755)])])
        },
        Row(flag: "--max-apk-data-size", low: "1M", high: "64M", expected: "data section decompresses to more than 1048576") { w in
            try Benign.repository(w, [try Benign.app(extra: [.bytes("usr/share/big", [UInt8](repeating: 0, count: 4 << 20))])])
        },
        Row(flag: "--max-apkindex-decompressed-size", low: "1M", high: "16M", expected: "over the 1048576-byte limit") { w in
            let app = try Benign.app()
            try w.publish([app])
            // 2 MiB of records: the app and 20,000 packages nobody installs.
            let filler = try (0..<20_000).map { number in
                PackageInfo(name: "filler-\(number)", version: "1.0-r0", arch: "x86_64", checksum: app.checksum, fileSize: 1,
                            installedSize: 1, description: "a package listed only to make the index large",
                            depends: try Dependency.parseList("so:libc.musl-x86_64.so.1 /bin/sh"))
            }
            try w.writeIndex(try Craft.index([try app.record()] + filler))
            try w.config(packages: ["app"])
        },
        Row(flag: "--max-apk-entries", low: "10", high: "100", expected: "more than 10 entries") { w in
            try Benign.repository(w, [try Benign.app(extra: (0..<20).map { .file("usr/share/f\($0)") })])
        },
        Row(flag: "--max-config-size", low: nil, high: "8M", expected: "the limit is 4194304 bytes") { w in
            try Benign.repository(w, [try Benign.app()])
            let padding = String(repeating: "# a comment line that pads the config past four mebibytes\n", count: 80_000)
            try w.scratch.write("apko.yaml", text: try w.scratch.readText("apko.yaml") + padding)
        },
        Row(flag: "--max-http-response-size", low: "4K", high: "16M", expected: "--max-http-response-size") { w in
            // 8 KiB that do not compress: the package is over the low cap, the index is not.
            var generator = XorShift(seed: 11)
            let app = try Benign.app(extra: [.bytes("usr/share/blob", generator.bytes(8 << 10))])
            try w.publish([app])
            try w.config(packages: ["app"], repository: try w.serve(mode: "ok"))
        },
    ]

    @Test(arguments: rows)
    func flagRaisesTheCap(_ row: Row) throws {
        let workspace = try AttackWorkspace()
        try row.prepare(workspace)
        let refused = try DistillBinary.run(AttackWorkspace.build(row.low.map { [row.flag, $0] } ?? []), in: workspace.scratch,
                                            expectSuccess: false)
        #expect(refused.status == 1 || refused.status == 3)
        #expect(refused.standardError.contains(row.expected), "\(refused.standardError)")
        #expect(!FileManager.default.fileExists(atPath: workspace.scratch.path(AttackWorkspace.output)))

        let accepted = try DistillBinary.run(AttackWorkspace.build([row.flag, row.high]), in: workspace.scratch, expectSuccess: false)
        #expect(accepted.status == 0, "\(accepted.standardError)")
        #expect(FileManager.default.fileExists(atPath: workspace.scratch.path("\(AttackWorkspace.output)/index.json")))
    }

    @Test("every cap's flag is documented in build --help")
    func flagsAreDocumented() throws {
        let scratch = try ScratchDirectory()
        let help = try DistillBinary.run(["build", "--help"], in: scratch).text
        for flag in Self.rows.map(\.flag) + ["--http-timeout"] {
            #expect(help.contains(flag), "\(flag) missing from build --help")
        }
    }
}
