import Testing
import TestSupport
@testable import APK

@Suite struct DependencyTests {
    /// What one dependency string should parse into.
    struct ParseCase: Sendable, CustomTestStringConvertible {
        var text: String
        var name: String
        var tag: String? = nil
        var op: VersionOperator = .any
        var version: String? = nil
        var conflict = false
        var testDescription: String { text }
    }

    static let parseCases: [ParseCase] = [
        ParseCase(text: "busybox", name: "busybox"),
        ParseCase(text: "libb=1.0-r0", name: "libb", op: .equal, version: "1.0-r0"),
        ParseCase(text: "libb<2", name: "libb", op: .less, version: "2"),
        ParseCase(text: "libb>1", name: "libb", op: .greater, version: "1"),
        ParseCase(text: "libb<=2", name: "libb", op: [.less, .equal], version: "2"),
        ParseCase(text: "libb>=2", name: "libb", op: [.greater, .equal], version: "2"),
        ParseCase(text: "curl~8.17.0", name: "curl", op: [.equal, .fuzzy], version: "8.17.0"),
        ParseCase(text: "curl=~8.17", name: "curl", op: [.equal, .fuzzy], version: "8.17"),
        ParseCase(text: "!vi-big", name: "vi-big", conflict: true),
        ParseCase(text: "!libb<2", name: "libb", op: .less, version: "2", conflict: true),
        ParseCase(text: "libb@testing", name: "libb", tag: "testing"),
        ParseCase(text: "busybox@edge>=1.36", name: "busybox", tag: "edge", op: [.greater, .equal], version: "1.36"),
        ParseCase(text: "so:libc.musl-x86_64.so.1", name: "so:libc.musl-x86_64.so.1"),
        ParseCase(text: "so:libssl.so.3=3", name: "so:libssl.so.3", op: .equal, version: "3"),
        ParseCase(text: "cmd:sh=1.35.0-r0", name: "cmd:sh", op: .equal, version: "1.35.0-r0"),
        ParseCase(text: "pc:libpq=15.5", name: "pc:libpq", op: .equal, version: "15.5"),
        ParseCase(text: "/bin/sh", name: "/bin/sh"),
        ParseCase(text: "vi-tiny><Q1zWCdqAc8ZIjjhWqmFWEzNw+l3eQ=", name: "vi-tiny", op: .checksum,
                  version: "Q1zWCdqAc8ZIjjhWqmFWEzNw+l3eQ="),
    ]

    @Test(arguments: parseCases)
    func parses(_ expected: ParseCase) throws {
        let dependency = try Dependency(parsing: expected.text)
        #expect(dependency.name == expected.name)
        #expect(dependency.tag == expected.tag)
        #expect(dependency.op == expected.op)
        #expect(dependency.version == expected.version)
        #expect(dependency.isConflict == expected.conflict)
    }

    @Test(arguments: ["busybox", "libb=1.0-r0", "libb<2", "libb>=2", "curl~8.17.0", "!vi-big",
                      "libb@testing", "busybox@edge>=1.36", "so:libssl.so.3=3", "/bin/sh"])
    func roundTrips(text: String) throws {
        #expect(try Dependency(parsing: text).description == text)
    }

    @Test(arguments: ["", "!", "=1.0", "libb>=", "libb=1.0_foo", "libb@", "@tag", "libb>=1.0bc"])
    func rejects(text: String) {
        #expect(throws: APKError.self) { try Dependency(parsing: text) }
    }

    @Test func unversionedProvideSatisfiesOnlyUnversionedDependencies() throws {
        #expect(try Dependency(parsing: "so:libfoo.so.1").versionMatches(nil))
        #expect(try !Dependency(parsing: "so:libfoo.so.1>=2").versionMatches(nil))
    }

    /// Constraint matching verified with apk-tools against x-1.2.3-r0 and x-1.20-r0 (§5.2).
    @Test(arguments: [
        ("x~1.2", "1.2.3-r0", true), ("x~1.2", "1.20-r0", false), ("x~1", "1.20-r0", true),
        ("x=1.2.3", "1.2.3-r0", false), ("x=1.2.3-r0", "1.2.3-r0", true), ("x<1.2.4", "1.2.3-r0", true),
        ("x<1.2.4", "1.20-r0", false), ("x>1.2.3", "1.20-r0", true), ("x>1.2.3", "1.2.3-r0", true),
        ("x~1.2.3", "1.2", true),
    ])
    func constraintMatching(constraint: String, version: String, matches: Bool) throws {
        #expect(try Dependency(parsing: constraint).versionMatches(APKVersion(version)) == matches)
    }
}
