import Foundation

/// An OCI layout read as plain files and JSON, independently of the OCI module under test.
public struct LayoutFiles: Sendable {
    /// What a layout file did not hold.
    public struct Problem: Error, CustomStringConvertible {
        /// Which file and what was wrong with it.
        public let description: String
    }

    /// The layout directory.
    public let directory: String

    /// The layout at `directory`.
    public init(directory: String) {
        self.directory = directory
    }

    /// The JSON object in the file at `relativePath`.
    public func json(_ relativePath: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(relativePath))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Problem(description: "\(directory)/\(relativePath) does not hold a JSON object")
        }
        return object
    }

    /// The JSON object stored as the blob `digest` (`sha256:…`).
    public func blob(_ digest: String) throws -> [String: Any] {
        try json("blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: ""))
    }

    /// Where the blob `digest` (`sha256:…`) is stored.
    public func blobPath(_ digest: String) -> String {
        directory + "/blobs/sha256/" + digest.replacingOccurrences(of: "sha256:", with: "")
    }
}
