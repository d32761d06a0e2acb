import Archive
import Foundation
import Testing
import TestSupport
@testable import APK

/// The fast APKINDEX parser against `ReferenceIndexText` (the straightforward parser it replaced):
/// the same records, field by field and byte for byte, or the same error, for every index and
/// repository in the fixtures, for crafted edge cases and for generated text — whole, fed in
/// pieces of many sizes, and through the signed-index reader that parses while it inflates.
@Suite struct IndexParserDifferentialTests {
    /// Every signed index under fixtures/.
    static let indexes = [
        "alpine/v3.14-armv7-community/APKINDEX.tar.gz", "alpine/v3.14-armv7-main/APKINDEX.tar.gz",
        "alpine/v3.16-x86_64-main/APKINDEX.tar.gz", "alpine/v3.17-aarch64-main/APKINDEX.tar.gz",
        "alpine/v3.18-aarch64-main/APKINDEX.tar.gz", "alpine/v3.4-x86_64-main/APKINDEX.tar.gz",
        "apko-private-repo/aarch64/APKINDEX.tar.gz", "apko-private-repo/x86_64/APKINDEX.tar.gz",
        "apko-testrepo/aarch64/APKINDEX.tar.gz", "apko-testrepo/x86_64/APKINDEX.tar.gz",
        "chainguard-multisig-rsa256/APKINDEX.tar.gz", "rsa256-test/APKINDEX.tar.gz",
        "third-party/alauda-istio/aarch64/APKINDEX.tar.gz", "third-party/alauda-istio/x86_64/APKINDEX.tar.gz",
        "wolfi/index-early-x86_64-subset/APKINDEX.tar.gz",
    ]

    @Test func everyFixtureIndexIsListed() throws {
        let found = try Self.files(under: Fixtures.root, named: { $0 == "APKINDEX.tar.gz" })
        #expect(found == Self.indexes.sorted())
    }

    @Test(arguments: indexes)
    func fixtureIndex(_ path: String) throws {
        let text = try Self.indexText(Fixtures.data(path))
        let expected = Differential.outcome { try ReferenceIndexText.parse(text, source: path) }
        let records = try expected.get()
        #expect(records.count > 0)
        Differential.expectSame(text, source: path)
        // The signed-index reader parses while it inflates; it must see the same records.
        let index = try APKIndexFile.read(from: MemorySource(Array(Fixtures.data(path))), name: path, keyring: Keyring(),
                                          requiresTrust: false)
        Differential.expectEqual(index.packages, records, context: "\(path) through APKIndexFile")
    }

    /// apk-tools' solver test repositories and installed databases, and real installed databases:
    /// the same text format, with letters an index does not have.
    @Test func apkToolsRepositoriesAndInstalledDatabases() throws {
        let folders = ["apk-tools-tests", "installed-db"]
        var count = 0
        for folder in folders {
            let directory = Fixtures.url(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            where name.hasSuffix(".repo") || name.hasSuffix(".installed") || name.hasSuffix(".installed2") {
                let text = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
                Differential.expectSame(text, source: name)
                count += 1
            }
        }
        #expect(count >= 21 + 16 + 8)
    }

    /// Texts chosen for the rules they exercise; whatever the reference makes of each (records or
    /// an error), the fast parser must make the same.
    @Test(arguments: [
        "P:a\nV:1\n\n",
        "P:a\nV:1",  // no final newline
        "P:a\r\nV:1\r\n\r\nP:b\r\nV:2\r\n",  // CRLF
        "P:a\nV:1\n\r\nP:b\nV:2\n\n\n\n",  // a CR-only line separates records
        "\n\n\nP:a\nV:1\n",
        "P:a\nV:1\nS:0012\nI:18446744073709551615\nt:-5\nk:+3\nq:-0\n",
        "P:a\nV:1\nS:18446744073709551616\n",  // overflow
        "P:a\nV:1\nI:123456789012345678901\n",
        "P:a\nV:1\nS:\n",
        "P:a\nV:1\nS:1 \n",
        "P:a\nV:1\nt:9223372036854775808\n",
        "P:a\nV:1\nk:١٢\n",  // non-ASCII digits
        "P:a\nV:1\nD:b c\td  e\n",
        "P:a\nV:1\nD:\nD: \np:\ni:   \n",
        "P:a\nV:1\nD:b\nD:c\np:x=1\np:y\n",
        "P:a\nV:1\nD:!b !c<2 !d@tag>=1.0-r0 ~e\n",
        "P:a\nV:1\nD:b@ c\n",
        "P:a\nV:1\nD:!\n",
        "P:a\nV:1\nD:=1\n",
        "P:a\nV:1\nD:b=\n",
        "P:a\nV:1\nD:b=x.y\n",
        "P:a\nV:1\nD:b>=1.0_rc1-r2 c<~2 d><Q1abc= e>< f~1.2\n",
        "P:a\nV:1\nD:b=<>=1\n",
        "P:a\nV:1\nD:b=1.0\u{0}junk\n",
        "P:a\nV:1\nD:b\u{1}c\n",
        "P:a\nV:1\nD:b\rc\n",
        "P:a\nV:1\nD:bä c=1.0é d=ü\n",
        "P:a\nV:1\np:so:libc.musl-x86_64.so.1=1 so:libc.musl-x86_64.so.1=1 cmd:a=1.0-r0\n",
        "P:a\nV:1\ni:b@t=1 c@@ d@t@u\n",
        "P:a\nV:1\nr:x y\n",
        "P:a\nV:1\nX:future\nz:ignored\n\nP:b\nV:2\nF:usr\nR:file\nZ:Q1x\nM:0:0:755\n",
        "P:\nV:1\n",
        "V:1\n\nP:a\nV:1\n",
        "P:a\nV:\n",
        "P:a\nA:x86_64\n",
        "P:a\nV:1\nno colon\n",
        "P:a\nV:1\nx\n",
        ":a\nP:a\nV:1\n",
        "P:a\nP:b\nV:1\nV:2\nC:Q1first\nC:Q1second\n",
        "P:a very long package name that goes on\nV:1.0.0.0.0.0.0.0.0-r100\nT:a description\nU:https://example.invalid/a/very/long/url\n",
        "P:a\nV:1\nT:é\u{301} composed and decomposed\nm:Jöhn Döe <j@example.invalid>\n",
    ])
    func edgeCase(_ text: String) {
        Differential.expectSame(Array(text.utf8), source: "edge")
    }

    /// Bytes that are not UTF-8, in every kind of field.
    @Test func invalidUTF8() {
        let broken: [[UInt8]] = [[0xFF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0x80, 0x80], [0xED, 0xA0, 0x80]]
        for bytes in broken {
            for letter in ["P", "V", "T", "U", "m", "c", "L", "o", "A", "C", "D", "p", "i", "S"] {
                var text = Array("P:a\nV:1\n".utf8)
                text += Array("\(letter):x".utf8) + bytes + Array(" y".utf8) + bytes + Array("0123456789abcdef\n".utf8)
                text += Array("\(letter):".utf8) + bytes + Array("=1 name\n\n".utf8)
                Differential.expectSame(text, source: "utf8")
            }
        }
    }

    /// Generated records: real-looking fields mixed with the characters the syntax cares about,
    /// control characters, non-UTF-8 bytes and broken lines. Values repeat across records so the
    /// parser's string sharing is exercised, including values that collide in its cache.
    @Test func generatedText() {
        var random = SplitMix64(seed: 0xD1571)
        for round in 0..<400 {
            let text = Generator.index(records: 1 + Int(random.next() % 40), &random, breakage: round % 4 == 3)
            Differential.expectSame(text, source: "generated \(round)")
        }
    }

    /// The cache that shares repeated values hands out exactly what `String(decoding:as:)` would,
    /// whatever it held before: hits, evictions, short and long values, invalid UTF-8.
    @Test func stringCacheAgreesWithStringDecoding() {
        let cache = StringCache()
        var random = SplitMix64(seed: 42)
        var pool: [[UInt8]] = []
        for _ in 0..<3000 {
            let length = Int(random.next() % 48)
            pool.append((0..<length).map { _ in
                let roll = random.next() % 100
                return roll < 85 ? UInt8(0x61 + random.next() % 4) : UInt8(truncatingIfNeeded: random.next())
            })
        }
        for _ in 0..<60_000 {
            let bytes = pool[Int(random.next() % UInt64(pool.count))]
            // Sites that see few repeats stop sharing for a while; every site must still agree.
            let site = StringCache.Site.allCases[Int(random.next() % UInt64(StringCache.Site.allCases.count))]
            let shared = bytes.withUnsafeBufferPointer { cache.shared($0, at: site) }
            let expected = String(decoding: bytes, as: UTF8.self)
            #expect(Array(shared.utf8) == Array(expected.utf8))
            let (version, isValid) = bytes.withUnsafeBufferPointer { cache.version($0) }
            #expect(Array(version.utf8) == Array(expected.utf8))
            #expect(isValid == bytes.withUnsafeBufferPointer { APKVersion.isValid($0) })
            // Repairing invalid UTF-8 changes only non-ASCII bytes, which a version never accepts.
            #expect(isValid == APKVersion(expected).isValid)
        }
    }

    /// A reference error in a signed index is reported after the archive was read, as before:
    /// the records' fault, unless the archive itself is broken. Small and large indexes, so that
    /// both the inline parser and the one on a second thread are held to it.
    @Test(arguments: [1_000, 80_000])
    func signedIndexErrorsKeepTheirOrder(records: Int) throws {
        let bad = "P:a\nV:1\nS:big\n\n"
        let bytes = try Self.signedIndex(bad + String(repeating: "P:b\nV:1\n\n", count: records))
        #expect((records * 10 >= APKIndexFile.pipelinedParseSize) == (records == 80_000))
        #expect(throws: APKError(.malformedIndex, "line 3: 'S:big' is not a number", source: "i")) {
            try APKIndexFile.read(from: MemorySource(bytes), name: "i", keyring: Craft.keyring)
        }
        #expect {
            try APKIndexFile.read(from: MemorySource(Array(bytes.dropLast(40))), name: "i", keyring: Craft.keyring)
        } throws: { error in
            (error as? APKError)?.kind == .malformedIndex && (error as? APKError)?.message.contains("input ends inside") == true
        }
    }

    /// Texts that end exactly on, just before and just after a piece boundary of the reader that
    /// parses on a second thread, with a line cut by every boundary on the way.
    @Test(arguments: [-1, 0, 1])
    func pipelinedReaderAtPieceBoundaries(offset: Int) throws {
        var text = ""
        var number = 0
        let target = 5 * APKIndexFile.parsePieceSize + offset
        while text.utf8.count < target - 200 {
            text += "P:package-\(number)\nV:1.\(number % 9)-r0\nD:so:libc.musl-x86_64.so.1 dep-\(number % 97)>=1\n\n"
            number += 1
        }
        let filler = target - text.utf8.count - "P:filler\nV:1\nx:\n".utf8.count
        text += "P:filler\nV:1\nx:" + String(repeating: "f", count: filler) + "\n"
        #expect(text.utf8.count == target)
        let bytes = try Self.signedIndex(text)
        let index = try APKIndexFile.read(from: MemorySource(bytes), name: "i", keyring: Craft.keyring)
        Differential.expectEqual(index.packages, try ReferenceIndexText.parse(Array(text.utf8), source: "i"), context: "offset \(offset)")
    }

    // MARK: - Helpers

    static func signedIndex(_ text: String) throws -> [UInt8] {
        let body = try Craft.gzip(try Craft.tar([(TarEntry(name: "APKINDEX"), Array(text.utf8))], ending: .endBlocks))
        return try Craft.signatureMember(over: body) + body
    }

    /// The `APKINDEX` entry of a signed index, unparsed.
    static func indexText(_ data: Data) throws -> [UInt8] {
        let tar = TarReader(source: try GzipReader(source: MemorySource(Array(data))))
        while let entry = try tar.next() {
            if entry.name == "APKINDEX" { return try tar.readContent(limit: 64 << 20) }
        }
        throw APKError(.malformedIndex, "no APKINDEX entry")
    }

    static func files(under folder: URL, named matches: (String) -> Bool) throws -> [String] {
        let root = folder.standardizedFileURL.path
        var found: [String] = []
        let walker = FileManager.default.enumerator(atPath: root)
        while let path = walker?.nextObject() as? String {
            if matches((path as NSString).lastPathComponent) { found.append(path) }
        }
        return found.sorted()
    }
}

/// Runs both parsers and compares.
enum Differential {
    static func outcome(_ body: () throws -> [PackageInfo]) -> Result<[PackageInfo], APKError> {
        do {
            return .success(try body())
        } catch let error as APKError {
            return .failure(error)
        } catch {
            return .failure(APKError(.io, "unexpected error type: \(error)"))
        }
    }

    /// The reference outcome, then the fast parser's: whole, and fed in pieces of several sizes.
    static func expectSame(_ text: [UInt8], source: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = outcome { try ReferenceIndexText.parse(text, source: source) }
        var ways: [(String, Result<[PackageInfo], APKError>)] = [
            ("whole", outcome { try IndexText.parse(text, source: source) }),
            ("not contiguous", outcome { try IndexText.parse(text.lazy.map { $0 }, source: source) }),
        ]
        var sizes = [4093, 131_072]
        if text.count < 200_000 { sizes += [1, 2, 3, 17] }
        for size in sizes {
            ways.append(("pieces of \(size)", outcome { try parseInPieces(text, size: size, source: source) }))
        }
        for (way, result) in ways {
            switch (expected, result) {
            case (.success(let reference), .success(let fast)):
                expectEqual(fast, reference, context: "\(source), \(way)", sourceLocation: sourceLocation)
            case (.failure(let reference), .failure(let fast)):
                #expect(fast == reference, "\(source), \(way)", sourceLocation: sourceLocation)
            default:
                Issue.record("\(source), \(way): reference \(expected), fast parser \(result)", sourceLocation: sourceLocation)
            }
        }
    }

    static func parseInPieces(_ text: [UInt8], size: Int, source: String) throws -> [PackageInfo] {
        var parser = IndexTextParser(source: source, expectedSize: text.count)
        try text.withUnsafeBufferPointer { all in
            var offset = 0
            while offset < all.count {
                let end = min(all.count, offset + size)
                try parser.feed(UnsafeBufferPointer(rebasing: all[offset..<end]))
                offset = end
            }
        }
        return try parser.finish()
    }

    /// Record by record and field by field, strings compared as bytes (Swift's `==` would call
    /// canonically equivalent but different spellings equal).
    static func expectEqual(_ fast: [PackageInfo], _ reference: [PackageInfo], context: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard fast.count == reference.count else {
            Issue.record("\(context): \(fast.count) records, the reference has \(reference.count)", sourceLocation: sourceLocation)
            return
        }
        for (number, (mine, theirs)) in zip(fast, reference).enumerated() {
            let mineFields = fields(mine), theirFields = fields(theirs)
            for ((label, value), (_, expected)) in zip(mineFields, theirFields) where Array(value.utf8) != Array(expected.utf8) {
                Issue.record("\(context): record \(number) field \(label) is \(value), the reference has \(expected)",
                             sourceLocation: sourceLocation)
            }
            #expect(mine == theirs, "\(context): record \(number)", sourceLocation: sourceLocation)
        }
    }

    /// Every stored property of a record, rendered so that different values render differently.
    static func fields(_ info: PackageInfo) -> [(String, String)] {
        Mirror(reflecting: info).children.map { child in
            (child.label ?? "?", render(child.value))
        }
    }

    private static func render(_ value: Any) -> String {
        func text(_ string: String?) -> String {
            guard let string else { return "nil" }
            return "\(string.utf8.count):\(string)"
        }
        switch value {
        case let string as String: return text(string)
        case let string as String?: return text(string)
        case let number as UInt64?: return number.map { "\($0)" } ?? "nil"
        case let number as Int64?: return number.map { "\($0)" } ?? "nil"
        case let number as Int?: return number.map { "\($0)" } ?? "nil"
        case let flag as Bool: return "\(flag)"
        case let strings as [String]: return strings.map { text($0) }.joined(separator: ",")
        case let list as [Dependency]:
            return list.map { "[\($0.isConflict) \(text($0.name)) \(text($0.tag)) \($0.op.rawValue) \(text($0.version))]" }
                .joined(separator: ",")
        default:
            Issue.record("PackageInfo has a field of a type the comparison does not know: \(type(of: value))")
            return "\(value)"
        }
    }
}

/// Generated index text for the differential tests.
enum Generator {
    static let names = ["a", "busybox", "so:libc.musl-x86_64.so.1", "cmd:sh", "/bin/sh", "py3-setuptools-pyc",
                        "so:libcrypto.so.3", "pc:openssl", "a-very-long-package-name-for-the-cache"]
    static let versions = ["1", "1.0-r0", "2.36.1-r2", "1.0_rc1", "3.0.7-r0", "1.2.3_p4-r10", "0.0.0", "x", "1..2", "1.0-r"]
    static let operators = ["", "", "", "=", ">=", "<", "~", "><", "<=", ">~", "=<>"]
    static let texts = ["MIT", "GPL-2.0-or-later AND MIT", "https://example.invalid/project", "Natanael Copa <ncopa@alpinelinux.org>",
                        "x86_64", "", " leading space", "trailing space ", "tab\there", "é\u{301}"]

    static func index(records: Int, _ random: inout SplitMix64, breakage: Bool) -> [UInt8] {
        var text: [UInt8] = []
        for _ in 0..<records {
            var lines: [[UInt8]] = []
            if random.next() % 20 != 0 { lines.append(Array("P:\(pick(names, &random))".utf8)) }
            if random.next() % 20 != 0 { lines.append(Array("V:\(pick(versions, &random))".utf8)) }
            for letter in ["C", "A", "T", "U", "L", "o", "m", "c"] where random.next() % 3 != 0 {
                lines.append(Array("\(letter):\(pick(texts, &random))\(random.next() % 4 == 0 ? "\(random.next() % 1000)" : "")".utf8))
            }
            for letter in ["S", "I", "t", "k", "q"] where random.next() % 3 == 0 {
                let numbers = ["0", "42", "0012", "-1", "+7", "18446744073709551615", "99999999999999999999", "1e3", ""]
                lines.append(Array("\(letter):\(pick(numbers, &random))".utf8))
            }
            for letter in ["D", "p", "i", "r"] where random.next() % 2 == 0 {
                let count = Int(random.next() % 5)
                let tokens = (0..<count).map { _ in dependency(&random) }
                lines.append(Array("\(letter):".utf8) + Array(tokens.joined(separator: random.next() % 8 == 0 ? "  " : " ").utf8))
            }
            if random.next() % 10 == 0 { lines.append(Array("\(random.next() % 2 == 0 ? "X" : "x"):future".utf8)) }
            if breakage {
                // Raw bytes anywhere: control characters, bytes that are not UTF-8, stray CRs.
                for _ in 0..<Int(random.next() % 3) where !lines.isEmpty {
                    let line = Int(random.next() % UInt64(lines.count))
                    let at = Int(random.next() % UInt64(lines[line].count + 1))
                    let bytes: [UInt8] = [0x00, 0x01, 0x0D, 0x09, 0x20, 0x7F, 0x80, 0xC3, 0xFF, 0x3A, 0x40, 0x21, 0x3D]
                    lines[line].insert(bytes[Int(random.next() % UInt64(bytes.count))], at: at)
                }
                if random.next() % 10 == 0 { lines.append(Array("broken".utf8)) }
            }
            for line in lines {
                text += line
                text += random.next() % 15 == 0 ? [0x0D, 0x0A] : [0x0A]
            }
            text.append(0x0A)
        }
        if random.next() % 4 == 0, let last = text.indices.last { text.remove(at: last) }
        return text
    }

    static func dependency(_ random: inout SplitMix64) -> String {
        var token = random.next() % 6 == 0 ? "!" : ""
        token += pick(names, &random)
        if random.next() % 8 == 0 { token += "@" + (random.next() % 3 == 0 ? "" : "edge") }
        let op = pick(operators, &random)
        if !op.isEmpty { token += op + (random.next() % 10 == 0 ? "" : pick(versions, &random)) }
        return token
    }

    static func pick(_ values: [String], _ random: inout SplitMix64) -> String {
        values[Int(random.next() % UInt64(values.count))]
    }
}

