import APK
import Foundation
import Testing
import TestSupport
@testable import ApkoConfig

/// Hostile or damaged files: a clear error each, never a crash or a hang.
@Suite struct BadInputTests {
    private func expectError(_ kind: ConfigError.Kind, _ bytes: [UInt8], line: Int? = nil, column: Int? = nil,
                             containing text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try ConfigLoader.parse(bytes, name: "apko.yaml")
            Issue.record("parsed without error", sourceLocation: sourceLocation)
        } catch let error as ConfigError {
            #expect(error.kind == kind, sourceLocation: sourceLocation)
            #expect(error.description.contains(text), "\(error)", sourceLocation: sourceLocation)
            if let line { #expect(error.line == line, sourceLocation: sourceLocation) }
            if let column { #expect(error.column == column, sourceLocation: sourceLocation) }
            #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func nonUTF8BytesArePlaced() {
        let bytes = Array("contents:\n  packages:\n    - caf".utf8) + [0xE9] + Array("\n".utf8)
        expectError(.encoding, bytes, line: 3, column: 10, containing: "apko.yaml:3:10: the file is not UTF-8 text: invalid byte 0xe9")
    }

    @Test func latin1AfterMultibyteCharactersCountsCharacters() {
        let bytes = Array("cmd: ünïcode ".utf8) + [0xFF]
        expectError(.encoding, bytes, line: 1, column: 14, containing: "invalid byte 0xff")
    }

    @Test func overlongAndSurrogateEncodingsAreNotUTF8() {
        expectError(.encoding, Array("cmd: ".utf8) + [0xC0, 0xAF], line: 1, column: 6, containing: "0xc0")
        expectError(.encoding, Array("cmd: ".utf8) + [0xED, 0xA0, 0x80], line: 1, column: 6, containing: "0xed")
    }

    @Test func utf16IsNamed() {
        let bytes: [UInt8] = [0xFF, 0xFE] + Array("contents: {}".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        expectError(.encoding, bytes, containing: "the file is UTF-16; save it as UTF-8")
    }

    @Test func utf8ByteOrderMarkIsSkipped() throws {
        let loaded = try ConfigLoader.parse([0xEF, 0xBB, 0xBF] + Array("contents:\n  packages: [busybox]\n".utf8), name: "apko.yaml")
        #expect(loaded.sources.packages[0]?.column == 14)
    }

    @Test func controlCharactersAreRefused() {
        expectError(.encoding, Array("cmd: a\u{0}b\n".utf8), line: 1, column: 7, containing: "control characters are not allowed")
    }

    /// Billion laughs: nine levels of nine aliases would expand to 9^9 nodes.
    @Test func aliasBombStopsAtTheNodeBudget() {
        var yaml = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        var previous = "a"
        for level in 0..<9 {
            let name = "b\(level)"
            yaml += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
            previous = name
        }
        let start = ContinuousClock.now
        expectError(.tooLarge, Array(yaml.utf8), containing: "expands to more than 200000 nodes through its aliases")
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    /// An alias used as a key is where Yams' own composer hangs (it hashes the expanded key).
    @Test func aliasOfACollectionCannotBeAKey() {
        let yaml = "x: &x [1, 2]\nenvironment:\n  ? *x\n  : value\n"
        expectError(.syntax, Array(yaml.utf8), line: 3, column: 5, containing: "a list or a mapping cannot be a key")
    }

    @Test func aliasesAndMergeKeysWork() throws {
        let config = """
            contents:
              repositories: &repos [https://packages.wolfi.dev/os]
              build_repositories: *repos
              packages: [busybox]
            annotations: &common
              org.opencontainers.image.vendor: Example
              org.opencontainers.image.title: base
            environment:
              <<: {A: "1", B: "2"}
              B: "3"
            """
        let loaded = try ConfigLoader.parse(Array(config.utf8), name: "apko.yaml")
        #expect(loaded.configuration.contents.buildRepositories == loaded.configuration.contents.repositories)
        #expect(loaded.configuration.environment == ["A": "1", "B": "3"])
    }

    @Test func deepNestingIsCapped() {
        let yaml = "cmd: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        expectError(.tooLarge, Array(yaml.utf8), line: 1, containing: "nested more than 64 levels deep")
    }

    @Test func deepBlockNestingIsCapped() {
        let yaml = "cmd:\n" + (1...200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
        expectError(.tooLarge, Array(yaml.utf8), containing: "nested more than 64 levels deep")
    }

    @Test func duplicateKeysInNestedMappings() {
        let yaml = "accounts:\n  users:\n    - username: a\n      uid: 5\n      uid: 6\n"
        expectError(.duplicateKey, Array(yaml.utf8), line: 5, column: 7,
                    containing: "key \"uid\" is already defined at line 4, column 7 of this mapping")
    }

    @Test func fiftyMegabyteFileIsRefusedBeforeParsing() throws {
        let directory = try ScratchDirectory()
        let big = try directory.file("big.yaml", Data(repeating: UInt8(ascii: "a"), count: 50 << 20))
        let start = ContinuousClock.now
        #expect {
            try ConfigLoader.load(path: big)
        } throws: { error in
            (error as? ConfigError)?.description == "\(big): the file is 52428800 bytes; the limit is 4194304 bytes"
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func endlessDeviceIsRefused() throws {
        guard FileManager.default.fileExists(atPath: "/dev/zero") else { return }
        #expect {
            try ConfigLoader.load(path: "/dev/zero")
        } throws: { error in
            (error as? ConfigError)?.kind == .tooLarge
        }
    }

    @Test func missingFileAndDirectory() throws {
        let directory = try ScratchDirectory()
        #expect {
            try ConfigLoader.load(path: directory.root + "/nope.yaml")
        } throws: { error in
            (error as? ConfigError)?.description == "\(directory.root)/nope.yaml: no such file"
        }
        #expect {
            try ConfigLoader.load(path: directory.root)
        } throws: { error in
            (error as? ConfigError)?.description == "\(directory.root): is a directory, not a config file"
        }
    }

    @Test func topLevelListIsAWrongType() {
        expectError(.wrongType, Array("- a\n- b\n".utf8), line: 1, column: 1,
                    containing: "the config must be a mapping of keys to values, not a list")
    }

    @Test func unclosedQuoteIsASyntaxError() {
        expectError(.syntax, Array("contents:\n  packages: [\"busybox]\n".utf8), containing: "apko.yaml:")
    }

    @Test func tabIndentedJSONAndCRLFLinesLoad() throws {
        let json = "{\n\t\"contents\": {\n\t\t\"packages\": [\"busybox\"]\n\t},\n\t\"archs\": [\"x86_64\"]\n}\n"
        let fromJSON = try ConfigLoader.parse(Array(json.utf8), name: "apko.json")
        #expect(fromJSON.configuration.contents.packages.map(\.name) == ["busybox"])
        let crlf = "contents:\r\n  packages:\r\n    - busybox\r\ncmd: /bin/sh -l\r\n"
        let fromCRLF = try ConfigLoader.parse(Array(crlf.utf8), name: "apko.yaml")
        #expect(fromCRLF.configuration.cmd == "/bin/sh -l")
        #expect(fromCRLF.sources.packages[0] == SourcePosition(file: "apko.yaml", line: 3, column: 7))
    }
}
