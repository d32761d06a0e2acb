import APK
import Testing
@testable import ApkoConfig

@Suite struct RepositoryReferenceTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var text: String
        var tag: String?
        var location: String
        var remote: Bool
        var shown: String
        var testDescription: String { text }
    }

    static let rows: [Row] = [
        Row(text: "https://packages.wolfi.dev/os", tag: nil, location: "https://packages.wolfi.dev/os", remote: true,
            shown: "https://packages.wolfi.dev/os"),
        Row(text: "https://dl-cdn.alpinelinux.org/alpine/v3.22/main/", tag: nil,
            location: "https://dl-cdn.alpinelinux.org/alpine/v3.22/main", remote: true,
            shown: "https://dl-cdn.alpinelinux.org/alpine/v3.22/main"),
        Row(text: "@local ./packages", tag: "local", location: "./packages", remote: false, shown: "@local ./packages"),
        Row(text: "./testdata/packages", tag: nil, location: "./testdata/packages", remote: false, shown: "./testdata/packages"),
        Row(text: "/srv/repo//", tag: nil, location: "/srv/repo", remote: false, shown: "/srv/repo"),
        Row(text: "file:///srv/repo", tag: nil, location: "file:///srv/repo", remote: false, shown: "file:///srv/repo"),
        Row(text: "@edge-testing https://u:secret@example.com/apk", tag: "edge-testing",
            location: "https://u:secret@example.com/apk", remote: true, shown: "@edge-testing https://u:xxxxx@example.com/apk"),
        Row(text: "https://TOKEN@example.com/apk", tag: nil, location: "https://TOKEN@example.com/apk", remote: true,
            shown: "https://xxxxx@example.com/apk"),
        Row(text: "HTTP://Example.com/os", tag: nil, location: "HTTP://Example.com/os", remote: true, shown: "HTTP://Example.com/os"),
    ]

    @Test(arguments: rows)
    func parses(_ row: Row) throws {
        let reference = try RepositoryReference(parsing: row.text)
        #expect(reference.tag == row.tag)
        #expect(reference.location == row.location)
        #expect(reference.isRemote == row.remote)
        #expect(reference.description == row.shown)
        #expect(try RepositoryReference(parsing: reference.spelling) == reference)
    }

    @Test(arguments: ["", "   ", "@local", "@ https://x", "@lo/cal https://x", "https://a b", "s3://bucket/os"])
    func refuses(_ text: String) {
        #expect(throws: ConfigError.self) { try RepositoryReference(parsing: text) }
    }

    @Test func redactionCoversEveryURLInAText() {
        #expect(redactingCredentials(in: "fetch https://a:b@x.dev/os and http://t@y.dev/k?x=1@2") ==
                "fetch https://a:xxxxx@x.dev/os and http://xxxxx@y.dev/k?x=1@2")
        #expect(redactingCredentials(in: "https://x.dev/path@v1") == "https://x.dev/path@v1")
        #expect(redactingCredentials(in: "no url here") == "no url here")
    }
}

@Suite struct PackageSpellingTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var text: String
        var expected: Dependency
        var apko: String
        var testDescription: String { text }
    }

    static let rows: [Row] = [
        Row(text: "busybox", expected: Dependency(name: "busybox"), apko: "busybox"),
        Row(text: "curl~8.17.0", expected: Dependency(name: "curl", op: [.equal, .fuzzy], version: "8.17.0"), apko: "curl~8.17.0"),
        Row(text: "curl=~8.17", expected: Dependency(name: "curl", op: [.equal, .fuzzy], version: "8.17"), apko: "curl~8.17"),
        Row(text: "tzdata=2026c-r0", expected: Dependency(name: "tzdata", op: .equal, version: "2026c-r0"), apko: "tzdata=2026c-r0"),
        Row(text: "go>=1.22", expected: Dependency(name: "go", op: [.greater, .equal], version: "1.22"), apko: "go>=1.22"),
        Row(text: "go<1.23", expected: Dependency(name: "go", op: .less, version: "1.23"), apko: "go<1.23"),
        Row(text: "tool@local", expected: Dependency(name: "tool", tag: "local"), apko: "tool@local"),
        Row(text: "tool=1.0-r0@local", expected: Dependency(name: "tool", tag: "local", op: .equal, version: "1.0-r0"),
            apko: "tool=1.0-r0@local"),
        Row(text: "tool@local=1.0-r0", expected: Dependency(name: "tool", tag: "local", op: .equal, version: "1.0-r0"),
            apko: "tool=1.0-r0@local"),
        Row(text: "!vim", expected: Dependency(name: "vim", isConflict: true), apko: "!vim"),
        Row(text: "so:libc.so.6", expected: Dependency(name: "so:libc.so.6"), apko: "so:libc.so.6"),
    ]

    @Test(arguments: rows)
    func parsesApkoSpelling(_ row: Row) throws {
        let dependency = try PackageSpelling.parse(row.text)
        #expect(dependency == row.expected)
        #expect(PackageSpelling.spelling(of: dependency) == row.apko)
        #expect(try PackageSpelling.parse(row.apko) == dependency)
    }

    @Test(arguments: ["", "=1.0", "curl=", "curl=1.0@", "a@x=1.0@y", "has space", "curl=abc"])
    func refuses(_ text: String) {
        #expect(throws: ConfigError.self) { try PackageSpelling.parse(text) }
    }
}

@Suite struct ShellWordsTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var text: String
        var words: [String]
        var testDescription: String { text }
    }

    static let rows: [Row] = [
        Row(text: "/bin/sh -l", words: ["/bin/sh", "-l"]),
        Row(text: "  spaced   out\t", words: ["spaced", "out"]),
        Row(text: "/usr/sbin/nginx -c /etc/nginx/nginx.conf -g \"daemon off;\"",
            words: ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf", "-g", "daemon off;"]),
        Row(text: "sh -c 'echo \"$HOME\"'", words: ["sh", "-c", "echo \"$HOME\""]),
        Row(text: "a\\ b c", words: ["a b", "c"]),
        Row(text: "\"a\\\"b\"", words: ["a\"b"]),
        Row(text: "x'y'\"z\"", words: ["xyz"]),
        Row(text: "a '' b", words: ["a", "", "b"]),
        Row(text: "run # the rest is a comment", words: ["run"]),
        Row(text: "a#b", words: ["a#b"]),
        Row(text: "", words: []),
    ]

    @Test(arguments: rows)
    func splits(_ row: Row) throws {
        #expect(try ShellWords.split(row.text) == row.words)
    }

    @Test(arguments: ["'open", "\"open", "trailing\\", "\"esc\\"])
    func refuses(_ text: String) {
        #expect(throws: ConfigError.self) { try ShellWords.split(text) }
    }
}
