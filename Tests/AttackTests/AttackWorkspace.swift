import APK
import Archive
import DistillCrypto
import Foundation
import TestSupport

/// One case's world: a scratch directory with the trusted key, a local repository
/// (`repo/x86_64/`), the config, and — when the case needs them — a fault server in front of the
/// repository or a registry.
final class AttackWorkspace {
    let scratch: ScratchDirectory
    private(set) var server: LoopbackServer?
    private(set) var registry: LocalRegistry?

    /// The output every build writes (a layout directory).
    static let output = "out"
    static let reference = "attack.example/app:1.0"

    init() throws {
        scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("repo/x86_64"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("keys"), withIntermediateDirectories: true)
        try scratch.write("keys/attack.rsa.pub", text: AttackKeys.trusted.publicKey.pemRepresentation)
        try scratch.write("keys/stranger.rsa.pub", text: AttackKeys.stranger.publicKey.pemRepresentation)
    }

    var repositoryPath: String { scratch.path("repo") }
    var trustedKeyPath: String { scratch.path("keys/attack.rsa.pub") }

    /// Puts `packages` into the repository and writes an index listing `records` (by default
    /// each package's own record), signed by `indexKey`.
    func publish(_ packages: [CraftedPackage], records: [PackageInfo]? = nil,
                 indexKey: SigningKey? = AttackKeys.trusted) throws {
        for package in packages {
            try scratch.write("repo/x86_64/\(package.fileName)", Data(package.bytes))
        }
        try writeIndex(try Craft.index(try records ?? packages.map { try $0.record() }, key: indexKey))
    }

    func writeIndex(_ bytes: [UInt8]) throws {
        try scratch.write("repo/x86_64/APKINDEX.tar.gz", Data(bytes))
    }

    func writePackage(_ package: CraftedPackage, bytes: [UInt8]? = nil) throws {
        try scratch.write("repo/x86_64/\(package.fileName)", Data(bytes ?? package.bytes))
    }

    /// Writes `apko.yaml` installing `packages` from `repository` (the local one by default),
    /// trusting `keyring` (the trusted key by default).
    func config(packages: [String], repository: String? = nil, keyring: [String]? = nil) throws {
        func list(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        try scratch.write("apko.yaml", text: """
            contents:
              repositories: \(list([repository ?? repositoryPath]))
              keyring: \(list(keyring ?? [trustedKeyPath]))
              packages: \(list(packages))
            archs: [x86_64]

            """)
    }

    /// Serves the repository directory through the fault server; returns the repository URL for
    /// fault `mode`.
    func serve(mode: String) throws -> String {
        let server = try LoopbackServer(serving: URL(fileURLWithPath: repositoryPath), in: scratch)
        self.server = server
        return server.url(mode)
    }

    func startRegistry() throws -> LocalRegistry {
        let registry = try LocalRegistry()
        self.registry = registry
        return registry
    }

    /// `distill build` of the config into the layout `out/`, with the scratch cache.
    static func build(_ flags: [String] = []) -> [String] {
        ["build", "--cache-dir", "cache"] + flags + ["apko.yaml", reference, output + "/"]
    }

    deinit {
        registry?.stop()
    }
}

/// Reads what a build wrote.
enum LayoutInspection {
    /// The JSON object in blob `digest` of `layout`.
    static func blob(_ layout: String, _ digest: String) throws -> [String: Any] {
        let hex = digest.replacingOccurrences(of: "sha256:", with: "")
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(hex)"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func firstDigest(_ object: [String: Any], _ key: String) -> String {
        ((object[key] as! [[String: Any]])[0]["digest"] as! String)
    }

    /// The image manifest of the first platform.
    static func manifestDigest(_ layout: String) throws -> String {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(layout)/index.json"))) as! [String: Any]
        let imageIndex = try blob(layout, firstDigest(index, "manifests"))
        return firstDigest(imageIndex, "manifests")
    }

    /// Every entry of every layer of the first platform's image, with contents of small files.
    static func layerEntries(_ layout: String) throws -> [TarEntry] {
        let manifest = try blob(layout, try manifestDigest(layout))
        var entries: [TarEntry] = []
        for layer in manifest["layers"] as! [[String: Any]] {
            let hex = (layer["digest"] as! String).replacingOccurrences(of: "sha256:", with: "")
            let source = try FileDescriptorSource(path: "\(layout)/blobs/sha256/\(hex)")
            defer { try? source.close() }
            let tar = TarReader(source: try GzipReader(source: source))
            while let entry = try tar.next() { entries.append(entry) }
        }
        return entries
    }

    /// Paths under `root` (recursively, symlinks not followed) that are device nodes, FIFOs or
    /// sockets, or carry setuid/setgid bits.
    static func specialFiles(under root: String) -> [String] {
        var found: [String] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        while let relative = walker.nextObject() as? String {
            var info = stat()
            let path = root + "/" + relative
            guard lstat(path, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            if type == S_IFCHR || type == S_IFBLK || type == S_IFIFO || type == S_IFSOCK
                || (type == S_IFREG && info.st_mode & (S_ISUID | S_ISGID) != 0) {
                found.append(relative)
            }
        }
        return found
    }

    /// Every regular file under `root`, relative.
    static func files(under root: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [String] = []
        while let relative = walker.nextObject() as? String {
            var info = stat()
            if lstat(root + "/" + relative, &info) == 0, info.st_mode & S_IFMT == S_IFREG { found.append(relative) }
        }
        return found.sorted()
    }
}

/// Zeros, `count` of them, without holding them in memory.
final class ZeroSource: ByteSource {
    private var remaining: Int64

    init(count: Int64) { remaining = count }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = Int(min(Int64(buffer.count), remaining))
        guard count > 0 else { return 0 }
        buffer.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        remaining -= Int64(count)
        return count
    }
}
