import APK
import Archive
import DistillCrypto
import Foundation

/// The on-disk cache: one directory, shared by every build, safe for several processes at once
/// because every file appears under its final name only by `rename(2)` of a finished temporary
/// file in the same directory.
///
/// ```
/// <root>/
///   packages/<hex>.apk             a remote package, stored once it verified against its C:
///   packages/<hex>.tar             the expanded data section of any package (local ones too)
///   packages/<hex>.tar.record      that expansion's size and SHA-256, and the datahash it came from
///   indexes/<sha256(url)>/APKINDEX.tar.gz   a remote index, as served
///   indexes/<sha256(url)>/etag     the ETag it was served with (for If-None-Match)
///   indexes/<sha256(url)>/url      the URL, for people looking at the cache
///   keys/<sha256(url)>/<key name>  a remote keyring entry
/// ```
///
/// `<hex>` is the 40 hex digits of the SHA-1 in the package's `C:` (`Q1` + base64), so a package
/// is found by the identity the signed index gives it, whatever repository served it. URLs are
/// hashed without their userinfo. Nothing is trusted because it is here: packages are verified
/// against their `C:` and datahash every time they are read, expanded data is compared with the
/// package's data section as it is decompressed, and indexes are signature-checked on every load.
///
/// The one shortcut: a package whose expansion is already here, with a record written when the
/// package verified, is verified without decompressing its data again — control section,
/// signature and `C:` as always, datahash over the compressed data bytes (what it covers), and
/// the expansion re-hashed and compared with its record (hashing is several times faster than
/// inflating, which makes warm builds cheap). What that trusts is the record: someone who can
/// rewrite both files in the cache can change what a build installs, exactly as they could by
/// editing the installed output; a damaged or cut expansion is caught and rewritten.
public struct RepositoryCache: Sendable, Hashable {
    /// The cache directory.
    public let root: String

    /// A cache at `root` (created on first write).
    public init(root: String) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    /// The default location: `$XDG_CACHE_HOME/distill`, else `$HOME/.cache/distill`, else
    /// `./.distill-cache`. `environment` is passed in: the library does not read the environment.
    public static func defaultRoot(environment: [String: String]) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/distill" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.cache/distill" }
        return ".distill-cache"
    }

    /// Where the remote package with identity `checksum` is kept.
    public func packagePath(checksum: String) throws(RepositoryError) -> String {
        "\(root)/packages/\(try Self.hexIdentity(checksum)).apk"
    }

    /// Where the expanded data section of the package with identity `checksum` is kept.
    public func expandedDataPath(checksum: String) throws(RepositoryError) -> String {
        "\(root)/packages/\(try Self.hexIdentity(checksum)).tar"
    }

    /// Where the record of the expansion of package `checksum` is kept.
    public func expansionRecordPath(checksum: String) throws(RepositoryError) -> String {
        "\(root)/packages/\(try Self.hexIdentity(checksum)).tar.record"
    }

    /// The directory holding a remote index and its ETag.
    func indexDirectory(url: String) -> String {
        "\(root)/indexes/\(DigestAlgorithm.sha256.hash(Array(url.utf8)).hex)"
    }

    /// Where a remote key is kept; `name` is its apk key name.
    func keyPath(url: String, name: String) -> String {
        "\(root)/keys/\(DigestAlgorithm.sha256.hash(Array(url.utf8)).hex)/\(name)"
    }

    /// Removes the temporary files that killed processes left in the cache (a download or an
    /// expansion cut short by `kill -9`): files named by ``TemporaryFile`` whose writer no longer
    /// runs. They were never read, since nothing is visible before its rename; this only frees
    /// the space. Returns how many were removed.
    @discardableResult
    public func removeAbandonedTemporaryFiles() -> Int {
        var removed = TemporaryName.removeAbandoned(in: "\(root)/packages").count
        for area in ["indexes", "keys"] {
            let directory = "\(root)/\(area)"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                removed += TemporaryName.removeAbandoned(in: "\(directory)/\(entry)").count
            }
        }
        return removed
    }

    /// The SHA-1 of a `Q1…`/`X1…` identity as 40 hex digits.
    static func hexIdentity(_ checksum: String) throws(RepositoryError) -> String {
        guard let bytes = PackageIdentity.sha1Bytes(checksum) else {
            throw RepositoryError(.verificationFailed, "'\(checksum)' is not a Q1/X1 package checksum")
        }
        return Hex.encode(bytes)
    }
}

/// Small file-system helpers for the cache and local repositories.
enum Files {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The size of the file at `path`, nil when it cannot be read.
    static func size(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func createDirectory(_ path: String) throws(RepositoryError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RepositoryError(.io, "cannot create the directory: \(error.localizedDescription)", source: path)
        }
    }

    static func remove(_ path: String) {
        unlink(path)
    }

    /// The whole file, refusing one longer than `limit`.
    static func read(_ path: String, limit: Int64) throws(RepositoryError) -> [UInt8] {
        do {
            let source = try FileDescriptorSource(path: path)
            defer { try? source.close() }
            return try source.readAll(limit: Int(limit))
        } catch let error as ArchiveError {
            if error.kind == .tooLarge {
                throw RepositoryError(.tooLarge, "the file is larger than \(limit) bytes", source: path)
            }
            throw RepositoryError(.io, error.message, source: path)
        } catch {
            throw RepositoryError(.io, "\(error)", source: path)
        }
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(RepositoryError) {
        let file = try TemporaryFile(finalPath: path)
        try file.write(bytes)
        try file.commit()
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// A file written under a temporary name beside its final path and renamed into place by
/// `commit()`; dropped without `commit()`, it removes itself. The directory is created if needed.
///
/// Cache files are not fsynced: a file cut short by a crash is caught by the verification every
/// read does, and the cache is only ever a copy.
final class TemporaryFile: @unchecked Sendable {
    /// The final path.
    let finalPath: String
    /// Where the bytes go until `commit()`.
    let path: String
    /// The open temporary file.
    let sink: FileDescriptorSink
    private var isDone = false

    init(finalPath: String) throws(RepositoryError) {
        self.finalPath = finalPath
        let slash = finalPath.lastIndex(of: "/")
        let directory = slash.map { String(finalPath[..<$0]) } ?? "."
        let name = slash.map { String(finalPath[finalPath.index(after: $0)...]) } ?? finalPath
        if !directory.isEmpty { try Files.createDirectory(directory) }
        for _ in 0..<100 {
            // ``TemporaryName``'s rule, so ``RepositoryCache/removeAbandonedTemporaryFiles()``
            // recognises it after a crash.
            let candidate = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if descriptor >= 0 {
                path = candidate
                sink = FileDescriptorSink(fileDescriptor: descriptor, closeWhenDone: true)
                return
            }
            if errno != EEXIST {
                throw RepositoryError(.io, "cannot create a temporary file: \(Files.errorText(errno))", source: directory)
            }
        }
        throw RepositoryError(.io, "cannot find a free temporary file name", source: directory)
    }

    deinit {
        abandon()
    }

    func write(_ bytes: [UInt8]) throws(RepositoryError) {
        do {
            try sink.write(bytes)
        } catch {
            throw RepositoryError(.io, "cannot write: \(error)", source: finalPath)
        }
    }

    /// Closes the file and renames it to its final path.
    func commit() throws(RepositoryError) {
        guard !isDone else { return }
        isDone = true
        do {
            try sink.close()
        } catch {
            unlink(path)
            throw RepositoryError(.io, "cannot write: \(error)", source: finalPath)
        }
        if rename(path, finalPath) != 0 {
            let code = errno
            unlink(path)
            throw RepositoryError(.io, "cannot rename the temporary file into place: \(Files.errorText(code))", source: finalPath)
        }
    }

    /// Closes and removes the temporary file (nothing happens after `commit()`).
    func abandon() {
        guard !isDone else { return }
        isDone = true
        try? sink.close()
        unlink(path)
    }
}
