import Foundation
import Testing
import TestSupport
@testable import SBOM

/// A purl and the string it must produce.
struct PURLCase: Sendable, CustomTestStringConvertible {
    let purl: PackageURL
    let expected: String
    var testDescription: String { expected }
}

/// An input and the identifier text it must sanitize to.
struct SanitizeCase: Sendable {
    let input: String
    let expected: String
}

/// An epoch and its SPDX timestamp.
struct TimeCase: Sendable {
    let seconds: Int64
    let expected: String
}

/// A location and what a document may carry for it.
struct LocationCase: Sendable, CustomTestStringConvertible {
    let url: String
    let portable: String?
    var testDescription: String { url }
}

@Suite struct PackageURLTests {
    static let cases: [PURLCase] = [
        PURLCase(purl: PackageURL(type: "apk", namespace: ["alpine"], name: "busybox", version: "1.35.0-r17",
                                  qualifiers: ["arch": "x86_64", "distro": "alpine"]),
                 expected: "pkg:apk/alpine/busybox@1.35.0-r17?arch=x86_64&distro=alpine"),
        // Names with characters outside the unreserved set are percent-encoded.
        PURLCase(purl: PackageURL(type: "apk", namespace: ["alpine"], name: "libstdc++", version: "11.2.1_git20220219-r2",
                                  qualifiers: ["arch": "x86_64"]),
                 expected: "pkg:apk/alpine/libstdc%2B%2B@11.2.1_git20220219-r2?arch=x86_64"),
        // Qualifiers sorted by key, keys lower-cased, empty values dropped, values encoded; ':' stays.
        PURLCase(purl: PackageURL(type: "OCI", name: "app", version: "sha256:abc",
                                  qualifiers: ["os": "linux", "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                               "arch": "amd64", "tag": "", "repository_url": "registry.example.com:5000/team/app"]),
                 expected: "pkg:oci/app@sha256:abc?arch=amd64&mediatype=application%2Fvnd.oci.image.manifest.v1%2Bjson"
                     + "&os=linux&repository_url=registry.example.com:5000%2Fteam%2Fapp"),
        PURLCase(purl: PackageURL(type: "github", namespace: ["package-url"], name: "purl-spec", version: "244fd47e07d1004",
                                  subpath: "everybody/loves/dogs"),
                 expected: "pkg:github/package-url/purl-spec@244fd47e07d1004#everybody/loves/dogs"),
        PURLCase(purl: PackageURL(type: "generic", name: "a name", version: "1.0 beta", subpath: "./x/../y"),
                 expected: "pkg:generic/a%20name@1.0%20beta#x/y"),
        PURLCase(purl: PackageURL(type: "apk", namespace: ["wolfi"], name: "ca-certificates-bundle",
                                  version: "20230506-r0", qualifiers: ["arch": "x86_64", "distro": "wolfi"]),
                 expected: "pkg:apk/wolfi/ca-certificates-bundle@20230506-r0?arch=x86_64&distro=wolfi"),
        PURLCase(purl: PackageURL(type: "generic", name: "ünïcode", version: "1~2"),
                 expected: "pkg:generic/%C3%BCn%C3%AFcode@1~2"),
    ]

    @Test(arguments: cases)
    func encodes(_ row: PURLCase) {
        #expect(row.purl.description == row.expected)
    }
}

@Suite struct SPDXIdentifierTests {
    static let cases: [SanitizeCase] = [
        SanitizeCase(input: "busybox", expected: "busybox"),
        SanitizeCase(input: "1.35.0-r17", expected: "1.35.0-r17"),
        SanitizeCase(input: "libstdc++", expected: "libstdcC43C43"),
        SanitizeCase(input: "11.2.1_git20220219-r2", expected: "11.2.1C95git20220219-r2"),
        SanitizeCase(input: "sha256:0a1b", expected: "sha256-0a1b"),
        SanitizeCase(input: "github.com/org/repo", expected: "github.comC47orgC47repo"),
        SanitizeCase(input: "a b", expected: "aC32b"),
        SanitizeCase(input: "é", expected: "C233"),
        SanitizeCase(input: "", expected: "C0"),
    ]

    @Test(arguments: cases)
    func sanitizes(_ row: SanitizeCase) {
        let sanitized = SPDXIdentifier.sanitize(row.input)
        #expect(sanitized == row.expected)
        #expect(SPDXIdentifier.isValid("SPDXRef-" + sanitized))
    }

    @Test func validatesIdentifiers() {
        #expect(SPDXIdentifier.isValid("SPDXRef-Package-apk-busybox-1.35.0-r17"))
        #expect(!SPDXIdentifier.isValid("SPDXRef-"))
        #expect(!SPDXIdentifier.isValid("SPDXRef-a b"))
        #expect(!SPDXIdentifier.isValid("SPDXRef-a_b"))
        #expect(!SPDXIdentifier.isValid("Package-a"))
        #expect(SPDXIdentifier.make("Package", "apk", "libstdc++", "12.2.1_git20220924-r4")
            == "SPDXRef-Package-apk-libstdcC43C43-12.2.1C95git20220924-r4")
    }

    @Test func allocatesUniqueIdentifiersInRequestOrder() {
        var allocator = SPDXIdentifierAllocator()
        let first = allocator.allocate("SPDXRef-a")
        let second = allocator.allocate("SPDXRef-a")
        let reserved = allocator.reserve("SPDXRef-a-3")
        let fourth = allocator.allocate("SPDXRef-a")
        let reservedAgain = allocator.reserve("SPDXRef-a")
        #expect([first, second, fourth] == ["SPDXRef-a", "SPDXRef-a-2", "SPDXRef-a-4"])
        #expect(reserved)
        #expect(!reservedAgain)
    }
}

@Suite struct SPDXTimeTests {
    static let cases: [TimeCase] = [
        TimeCase(seconds: 0, expected: "1970-01-01T00:00:00Z"),
        TimeCase(seconds: 1_700_000_000, expected: "2023-11-14T22:13:20Z"),
        TimeCase(seconds: 951_782_400, expected: "2000-02-29T00:00:00Z"),
        TimeCase(seconds: 4_107_542_399, expected: "2100-02-28T23:59:59Z"),
        TimeCase(seconds: 253_402_300_799, expected: "9999-12-31T23:59:59Z"),
    ]

    @Test(arguments: cases)
    func formats(_ row: TimeCase) throws {
        #expect(try SPDXTime.format(epochSeconds: row.seconds) == row.expected)
    }

    /// Foundation's ISO 8601 formatter as an independent oracle over a spread of instants.
    @Test func agreesWithFoundation() throws {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var seconds: Int64 = 0
        while seconds < 4_200_000_000 {
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(try SPDXTime.format(epochSeconds: seconds) == expected)
            seconds += 86_400 * 97 + 3_607
        }
    }

    @Test func refusesWhatSPDXCannotWrite() {
        #expect(throws: SBOMError.self) { try SPDXTime.format(epochSeconds: -1) }
        #expect(throws: SBOMError.self) { try SPDXTime.format(epochSeconds: 253_402_300_800) }
    }
}

@Suite struct SPDXLocationTests {
    static let cases: [LocationCase] = [
        LocationCase(url: "https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/busybox-1.35.0-r17.apk",
                     portable: "https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/busybox-1.35.0-r17.apk"),
        LocationCase(url: "https://packages.wolfi.dev/os", portable: "https://packages.wolfi.dev/os"),
        LocationCase(url: "https://user:secret@apk.cgr.dev/chainguard/x86_64/a.apk",
                     portable: "https://apk.cgr.dev/chainguard/x86_64/a.apk"),
        LocationCase(url: "http://mirror.example.com:8080/alpine", portable: "http://mirror.example.com:8080/alpine"),
        LocationCase(url: "git+https://github.com/org/repo@0123", portable: "git+https://github.com/org/repo@0123"),
        LocationCase(url: "https://curl.se/", portable: "https://curl.se/"),
        LocationCase(url: "https://www.gnu.org/software/bash/bash.html",
                     portable: "https://www.gnu.org/software/bash/bash.html"),
        LocationCase(url: "http://127.0.0.1:8080/x86_64/a.apk", portable: nil),
        LocationCase(url: "http://localhost/repo", portable: nil),
        LocationCase(url: "file:///srv/repo/x86_64/a.apk", portable: nil),
        LocationCase(url: "/srv/repo/x86_64/a.apk", portable: nil),
        LocationCase(url: "https://a..b.org/", portable: nil),
        LocationCase(url: "https://example.com:99999/", portable: nil),
        LocationCase(url: "https://example.com/a b", portable: nil),
        LocationCase(url: "https://example.c0m/", portable: nil),
    ]

    @Test(arguments: cases)
    func decidesPortability(_ row: LocationCase) {
        #expect(SPDXLocation.portableURL(row.url) == row.portable)
    }

    @Test func stripsCredentials() {
        #expect(SPDXLocation.withoutCredentials("https://u:p@host.example.com/x@y") == "https://host.example.com/x@y")
        #expect(SPDXLocation.withoutCredentials("http://127.0.0.1:8080/r") == "http://127.0.0.1:8080/r")
        #expect(SPDXLocation.withoutCredentials("/srv/repo") == "/srv/repo")
    }
}

@Suite struct OSReleaseTests {
    @Test func parsesRealFiles() {
        let alpine = OSRelease.parse("""
            NAME="Alpine Linux"
            ID=alpine
            VERSION_ID=3.16.3
            PRETTY_NAME="Alpine Linux v3.16"
            HOME_URL="https://alpinelinux.org/"
            BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"

            """)
        #expect(alpine == OSRelease(id: "alpine", name: "Alpine Linux", versionID: "3.16.3"))
        let wolfi = OSRelease.parse("ID=wolfi\nNAME='Wolfi'\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=20230201\n")
        #expect(wolfi == OSRelease(id: "wolfi", name: "Wolfi", versionID: "20230201"))
    }

    @Test func handlesQuotingCommentsAndJunk() {
        let release = OSRelease.parse("# comment\n  NAME=\"A \\\"quoted\\\" name\"  \nnot a line\nID=\nVERSION_ID=1\r\n")
        #expect(release.name == "A \"quoted\" name")
        #expect(release.id == nil)
        #expect(release.versionID == "1")
    }
}

@Suite struct JSONTests {
    @Test func writesSortedKeysTwoSpaceIndentAndNoEscapedSlashes() {
        let value = JSONValue.object([
            "b": .array([.string("https://x/y"), .number("1"), .bool(true), .null]),
            "a": .object([:]),
            "c": .array([]),
            "B": .string("é\u{1}\"\\\n\t"),
        ])
        let text = String(decoding: value.serialized(), as: UTF8.self)
        #expect(text == """
            {
              "B": "é\\u0001\\"\\\\\\n\\t",
              "a": {},
              "b": [
                "https://x/y",
                1,
                true,
                null
              ],
              "c": []
            }

            """)
    }

    @Test func roundTripsThroughTheParser() throws {
        let text = #"{"x": [1, -2.5e3, 0, "\u00e9\ud83d\ude00\/", {"k": false}], "y": null, "z": "\b\f\r"}"#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["x"]?.arrayValue?[1] == .number("-2.5e3"))
        #expect(value["x"]?.arrayValue?[3] == .string("é😀/"))
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    /// Python's json module reads what the writer writes, to the same value.
    @Test func pythonReadsTheOutput() throws {
        let value = JSONValue.object(["k": .array([.string("a/b\u{7f}ü\u{2028}"), .number("12")])])
        let scratch = try ScratchDirectory()
        try scratch.write("v.json", value.serialized())
        let output = try ExternalTool.run(
            "python3", ["-c", "import json,sys; v=json.load(open('v.json')); print(v == {'k': ['a/b\\x7fü\\u2028', 12]})"],
            in: scratch)
        #expect(output.text == "True\n")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "tru",
        "[1] 2", "\"a\nb\"", "{\"a\" 1}", "[\"\u{00}\"]",
    ])
    func refusesMalformedJSON(_ text: String) {
        #expect(throws: SBOMError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8AndDeepNesting() {
        #expect(throws: SBOMError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect {
            try JSONValue.parse(Array(deep.utf8))
        } throws: { ($0 as? SBOMError)?.kind == .tooLarge }
    }
}
