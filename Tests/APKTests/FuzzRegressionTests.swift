import Archive
import Testing
import TestSupport
@testable import APK

/// Inputs the libFuzzer targets in Fuzz/ found (minimized), kept so each fix stays fixed: every
/// one must now give a clean answer or a thrown `APKError`, never a trap.
@Suite struct APKFuzzRegressionTests {
    /// fuzz-dependency: `o>=<=\0`. An operator spelling every order (`<`, `>` and `=`) made a
    /// `.any` dependency that still carried a version, so its canonical spelling (`o\0`) did not
    /// parse back. apk-tools matches such a dependency like a bare name; so does Distill now.
    @Test func operatorAllowingEveryOrderKeepsNoVersion() throws {
        let text = String(decoding: [0x6f, 0x3e, 0x3d, 0x3c, 0x3d, 0x00] as [UInt8], as: UTF8.self)
        let dependency = try Dependency(parsing: text)
        #expect(dependency == Dependency(name: "o"))
        #expect(try Dependency(parsing: dependency.description) == dependency)

        let spelled = try Dependency(parsing: "busybox<>=1.36")
        #expect(spelled.op == .any && spelled.version == nil)
        // Like a bare name, it is met by an unversioned provide too.
        #expect(spelled.versionMatches(nil))
        #expect(spelled.versionMatches(APKVersion("0.1")))
    }
}
