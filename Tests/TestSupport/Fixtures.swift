import Foundation

/// Locates ../shared/fixtures from the repository root (or `$DISTILL_FIXTURES`), independent of
/// the directory the tests run in.
public enum Fixtures {
    /// The fixtures folder.
    public static let root: URL = {
        if let override = ProcessInfo.processInfo.environment["DISTILL_FIXTURES"] {
            return URL(fileURLWithPath: override)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
    }()

    /// The root of this checkout.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// A fixture by its path relative to the fixtures folder.
    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// A fixture's bytes.
    public static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }
}
