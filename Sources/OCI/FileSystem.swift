import Archive
import Foundation

/// The few file-system operations the writers need, with errno turned into one-line `OCIError`s.
/// Everything that becomes visible under its final name goes through a temporary name in the same
/// directory, is flushed with fsync, and is renamed into place.
enum FileSystem {
    enum Kind {
        case missing, file, directory, other
    }

    /// What is at `path` (symlinks are not followed, so a link is `other`).
    static func kind(of path: String) -> Kind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// The size of the regular file at `path`, or nil when there is none.
    static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Creates the directory `path` (its parent must exist); an existing directory is fine.
    static func makeDirectory(_ path: String) throws(OCIError) {
        if mkdir(path, 0o755) != 0 && !(errno == EEXIST && kind(of: path) == .directory) {
            throw posixError("cannot create directory", path)
        }
    }

    /// A name for a temporary sibling of `path`: hidden, unique, in the same directory so a
    /// rename is atomic.
    /// The name carries the writer's pid, so a later run can remove it if this process is killed
    /// (``TemporaryName``).
    static func temporarySibling(of path: String) -> String {
        TemporaryName.sibling(of: path)
    }

    /// Writes `bytes` to `path` through a temporary sibling, fsync and rename.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws(OCIError) {
        try writeAtomically(to: path, mode: mode) { sink throws(OCIError) in
            try mapErrors(.io, "cannot write \(path)") { try sink.write(bytes) }
        }
    }

    /// Creates a temporary sibling of `path`, lets `body` fill it, flushes it and renames it to
    /// `path`. On any error the temporary file is removed and `path` is left as it was.
    static func writeAtomically(to path: String, mode: UInt32 = 0o644,
                                _ body: (FileDescriptorSink) throws(OCIError) -> Void) throws(OCIError) {
        let temporary = temporarySibling(of: path)
        let sink = try mapErrors(.io, "cannot create \(temporary)") { try FileDescriptorSink(creatingFileAt: temporary, mode: mode) }
        do {
            try body(sink)
            try mapErrors(.io, "cannot flush \(temporary)") {
                try sink.synchronize()
                try sink.close()
            }
            try rename(temporary, to: path)
        } catch {
            try? sink.close()
            unlink(temporary)
            throw error
        }
    }

    /// Renames `source` to `destination`, replacing a file there.
    static func rename(_ source: String, to destination: String) throws(OCIError) {
        if Foundation.rename(source, destination) != 0 {
            throw posixError("cannot rename \(source) to", destination)
        }
    }

    /// Makes a directory's entries (new names, renames) durable.
    static func synchronizeDirectory(_ path: String) throws(OCIError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw posixError("cannot open directory", path) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 && errno != EINVAL {
            throw posixError("cannot flush directory", path)
        }
    }

    /// Removes `path` and everything under it; a missing path is fine.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Reads a whole file of at most `limit` bytes.
    static func read(_ path: String, limit: Int) throws(OCIError) -> [UInt8] {
        guard let size = fileSize(path) else {
            throw OCIError(.notFound, "no such file", source: path)
        }
        guard size <= Int64(limit) else {
            throw OCIError(.tooLarge, "file is \(size) bytes, more than the \(limit)-byte limit", source: path)
        }
        return try mapErrors(.io, "cannot read file", source: path) {
            let source = try FileDescriptorSource(path: path)
            defer { try? source.close() }
            return try source.readAll(limit: limit)
        }
    }

    static func posixError(_ what: String, _ path: String) -> OCIError {
        OCIError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
