import APK
import Foundation
import TestSupport

/// The key lookup rule of fixtures/PROVENANCE.md: a key is looked up by name next to the file,
/// in a `keys/` folder (any depth) of a parent folder, or in the top-level `keys/`; the nearest
/// folder wins, so fixture groups that reuse a key name do not mix.
enum FixtureKeys {
    static func keyring(for relativePath: String) throws -> Keyring {
        var keyring = Keyring()
        let root = Fixtures.root.standardizedFileURL.path
        var folder = Fixtures.url(relativePath).standardizedFileURL.deletingLastPathComponent()
        while true {
            try keyring.addKeys(inDirectory: folder.path, replacing: false)
            let keys = folder.appendingPathComponent("keys")
            if FileManager.default.fileExists(atPath: keys.path) {
                for subfolder in try allFolders(under: keys) {
                    try keyring.addKeys(inDirectory: subfolder.path, replacing: false)
                }
            }
            if folder.path == root || !folder.path.hasPrefix(root) { break }
            folder = folder.deletingLastPathComponent()
        }
        return keyring
    }

    /// `folder` and every folder below it, sorted so the result does not depend on the file system.
    private static func allFolders(under folder: URL) throws -> [URL] {
        var result = [folder]
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        for name in names {
            let child = folder.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: child.path, isDirectory: &isDirectory), isDirectory.boolValue {
                result += try allFolders(under: child)
            }
        }
        return result
    }
}
