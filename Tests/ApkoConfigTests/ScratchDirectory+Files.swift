import Foundation
import TestSupport

extension ScratchDirectory {
    /// Writes `text` to `name`, creating the folders on the way, and returns the file's path.
    @discardableResult
    func file(_ name: String, _ text: String) throws -> String {
        try file(name, Data(text.utf8))
    }

    /// Writes `data` to `name`, creating the folders on the way, and returns the file's path.
    @discardableResult
    func file(_ name: String, _ data: Data) throws -> String {
        let target = path(name)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: target))
        return target
    }

    /// The directory's path.
    var root: String { url.path }
}
