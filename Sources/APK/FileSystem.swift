#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif
import Archive

// The few file-system calls the APK module makes (key files, atomic outputs, the directory walk
// of `pack`), on the C library directly so the module does not need Foundation.

enum FileSystem {
    /// The whole file at `path`, refusing files longer than `limit` bytes.
    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        do {
            let source = try FileDescriptorSource(path: path)
            defer { try? source.close() }
            return try source.readAll(limit: limit)
        } catch let error as ArchiveError {
            if error.kind == .tooLarge {
                throw APKError(.tooLarge, "file is larger than \(limit) bytes", source: path)
            }
            throw APKError(.io, error.message, source: path)
        }
    }

    /// Whether anything (a file, a directory, a dangling symlink) exists at `path`.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Whether `path` is a directory (following symlinks).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory (without `.` and `..`), in byte order.
    static func directoryNames(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else {
            throw APKError(.io, "cannot list directory: \(errorText(errno))", source: path)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw APKError(.io, "cannot list directory: \(errorText(errno))", source: path) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The last path component (what apk calls a key's name).
    static func baseName(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        if let slash = trimmed.lastIndex(of: "/") { return String(trimmed[trimmed.index(after: slash)...]) }
        return String(trimmed)
    }

    /// Everything before the last component, or "." for a bare name.
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// A file written under a temporary name in its final directory and renamed into place by
/// `commit()`, so an interrupted write never leaves a half-written file under the real name.
/// Released without `commit()`, it removes the temporary file.
final class AtomicFile {
    /// The final path.
    let path: String
    /// Where the bytes go until `commit()`.
    let temporaryPath: String
    /// The open temporary file.
    let sink: FileDescriptorSink
    private var isDone = false

    /// Creates the temporary file beside `path` with permission bits `mode`.
    init(path: String, mode: UInt32 = 0o644) throws {
        self.path = path
        let directory = FileSystem.directoryName(path)
        let stem = FileSystem.baseName(path)
        // What a killed writer of this same file left (its pid no longer runs) goes first.
        TemporaryName.removeAbandoned(in: directory) { $0 == stem }
        var created: (String, FileDescriptorSink)?
        for attempt in 0..<100 {
            let candidate = "\(directory)/.\(stem).tmp-\(getpid())-\(attempt)"
            let descriptor = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(mode))
            if descriptor >= 0 {
                // The umask may have narrowed the mode; a private key must get exactly what was asked.
                _ = fchmod(descriptor, mode_t(mode))
                created = (candidate, FileDescriptorSink(fileDescriptor: descriptor, closeWhenDone: true))
                break
            }
            if errno != EEXIST {
                throw APKError(.io, "cannot create a temporary file in \(directory): \(FileSystem.errorText(errno))", source: path)
            }
        }
        guard let created else {
            throw APKError(.io, "cannot find a free temporary name in \(directory)", source: path)
        }
        (temporaryPath, sink) = created
    }

    deinit {
        if !isDone {
            try? sink.close()
            unlink(temporaryPath)
        }
    }

    /// Writes `bytes` to the temporary file.
    func write(_ bytes: [UInt8]) throws {
        do {
            try sink.write(bytes)
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: path)
        }
    }

    /// Flushes, closes and renames the temporary file to `path`.
    func commit() throws {
        guard !isDone else { return }
        isDone = true
        do {
            try sink.synchronize()
            try sink.close()
        } catch let error as ArchiveError {
            unlink(temporaryPath)
            throw APKError(.io, error.message, source: path)
        }
        if rename(temporaryPath, path) != 0 {
            let code = errno
            unlink(temporaryPath)
            throw APKError(.io, "cannot rename the temporary file into place: \(FileSystem.errorText(code))", source: path)
        }
    }

    /// Writes `bytes` to `path` atomically.
    static func write(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws {
        let file = try AtomicFile(path: path, mode: mode)
        try file.write(bytes)
        try file.commit()
    }
}
