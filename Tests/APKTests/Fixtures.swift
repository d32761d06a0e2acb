import Foundation

/// Locates ../shared/fixtures from the repository root (or `$DISTILL_FIXTURES`), independent of
/// the directory the tests run in.
enum Fixtures {
    static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["DISTILL_FIXTURES"] {
            return URL(fileURLWithPath: override)
        }
        let repositoryRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // APKTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // repository root
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }()

    static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }
}
