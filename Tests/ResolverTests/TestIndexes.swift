import APK
import Resolver

/// Small hand-written indexes for the semantic tests.
enum TestIndexes {
    /// Builds an index from APKINDEX texts, one per repository, in order; a `tag` makes the
    /// repository `@tag`.
    static func index(_ repositories: [(tag: String?, text: String)], installed: String? = nil) throws -> PackageIndex {
        let built = try repositories.enumerated().map { position, repository in
            Repository(name: "repo\(position)", packages: try IndexText.parse(Array(repository.text.utf8)),
                       tag: repository.tag)
        }
        let installedPackages = try installed.map {
            try IndexText.parse(Array($0.utf8)).map { InstalledPackage(info: $0) }
        } ?? []
        return try PackageIndex(repositories: built, installed: installedPackages)
    }

    static func index(_ text: String) throws -> PackageIndex {
        try index([(nil, text)])
    }

    static func world(_ text: String) throws -> [Dependency] {
        try Dependency.parseList(text)
    }

    static func resolve(_ index: PackageIndex, _ world: String) throws -> Resolution {
        try Resolver(index: index).resolve(world: try Self.world(world))
    }

    /// `name-version` of each selected package, in install order.
    static func order(_ resolution: Resolution) -> [String] {
        resolution.packages.map(\.nameVersion)
    }

    /// Runs a solve that must fail and returns the error.
    static func failure(_ index: PackageIndex, _ world: String) throws -> ResolverError? {
        do {
            _ = try Resolver(index: index).resolve(world: try Self.world(world))
            return nil
        } catch let error as ResolverError {
            return error
        }
    }

    /// The record of a package: one line per field, blank line after.
    static func record(_ name: String, _ version: String, _ extra: String = "", identity: String? = nil) -> String {
        var text = "C:Q1\(checksum(identity ?? name + "-" + version))=\nP:\(name)\nV:\(version)\nS:1\nI:1\n"
        if !extra.isEmpty { text += extra.split(separator: "|").map { $0 + "\n" }.joined() }
        return text + "\n"
    }

    /// A fake but unique base64 identity for a test record (27 characters + `=`).
    static func checksum(_ seed: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var hash: UInt64 = 1469598103934665603
        var text = ""
        for _ in 0..<27 {
            for byte in seed.utf8 { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
            hash = (hash ^ UInt64(text.count)) &* 1099511628211
            text.append(alphabet[Int(hash >> 58)])
        }
        // The last group's two low bits are unused by base64; keep them zero so spellings
        // are canonical.
        let last = alphabet.firstIndex(of: text.last!)! & ~3
        text.removeLast()
        text.append(alphabet[last])
        return text
    }
}
