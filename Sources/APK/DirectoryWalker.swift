#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif
#if canImport(CXattr)
internal import CXattr
#endif
import Archive

/// One file-system object found under the directory being packed.
struct WalkedEntry {
    /// The path relative to the packed directory, `/`-separated.
    var path: String
    /// Where it is on disk.
    var absolutePath: String
    var kind: TarEntry.Kind
    /// Permission bits with setuid, setgid and sticky (`& 0o7777`); symlinks get 0o777.
    var mode: UInt32
    /// Content size for regular files, 0 otherwise.
    var size: Int64
    /// A symlink's target, or the earlier path a hard link repeats.
    var linkTarget: String
    var deviceMajor: UInt32
    var deviceMinor: UInt32
    var extendedAttributes: [String: [UInt8]]
}

/// Lists a directory tree in the order a package stores it: depth first, the names of each
/// directory in byte order, every directory before what it holds. A regular file met again
/// through another hard link becomes a hard-link entry naming the first path, as tar does.
enum DirectoryWalker {
    /// The most entries packed; beyond this a directory is not a package.
    static let maximumEntryCount = 1_000_000

    /// Extended attributes tar (and abuild) leave out: SELinux labels belong to the build host.
    static let excludedAttributes: Set<String> = ["security.selinux"]

    static func walk(_ root: String) throws -> [WalkedEntry] {
        var entries: [WalkedEntry] = []
        var firstPathOfInode: [InodeKey: String] = [:]
        var pending: [(relative: String, absolute: String)] = []
        // Reversed so the first name is popped first; children are pushed after their parent is
        // emitted, keeping each directory before its contents.
        for name in try FileSystem.directoryNames(root).reversed() {
            if name.hasPrefix(".") {
                throw APKError(.malformedPackage, "top-level name \(quoted(name)) starts with '.': apk skips such entries, so it cannot be packed",
                               source: root)
            }
            pending.append((name, root + "/" + name))
        }
        while let (relative, absolute) = pending.popLast() {
            if let reason = TarName.unsafeReason(relative) {
                throw APKError(.malformedPackage, "cannot pack \(quoted(relative)): \(reason)", source: root)
            }
            var info = stat()
            guard lstat(absolute, &info) == 0 else {
                throw APKError(.io, "cannot stat: \(FileSystem.errorText(errno))", source: absolute)
            }
            var entry = WalkedEntry(path: relative, absolutePath: absolute, kind: .regular, mode: UInt32(info.st_mode) & 0o7777,
                                    size: 0, linkTarget: "", deviceMajor: 0, deviceMinor: 0, extendedAttributes: [:])
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                let key = InodeKey(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
                if info.st_nlink > 1, let first = firstPathOfInode[key] {
                    entry.kind = .hardLink
                    entry.linkTarget = first
                } else {
                    if info.st_nlink > 1 { firstPathOfInode[key] = relative }
                    entry.size = Int64(info.st_size)
                }
            case S_IFDIR:
                entry.kind = .directory
                for name in try FileSystem.directoryNames(absolute).reversed() {
                    pending.append((relative + "/" + name, absolute + "/" + name))
                }
            case S_IFLNK:
                entry.kind = .symbolicLink
                entry.mode = 0o777
                entry.linkTarget = try readLink(absolute, size: Int(info.st_size))
            case S_IFCHR, S_IFBLK:
                entry.kind = (info.st_mode & S_IFMT) == S_IFCHR ? .characterDevice : .blockDevice
                (entry.deviceMajor, entry.deviceMinor) = split(device: UInt64(info.st_rdev))
            case S_IFIFO:
                entry.kind = .fifo
            default:
                throw APKError(.malformedPackage, "cannot pack a socket or other special file", source: absolute)
            }
            entry.extendedAttributes = try extendedAttributes(absolute)
            entries.append(entry)
            if entries.count > maximumEntryCount {
                throw APKError(.tooLarge, "more than \(maximumEntryCount) entries to pack", source: root)
            }
        }
        return entries
    }

    private struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private static func readLink(_ path: String, size: Int) throws -> String {
        var buffer = [UInt8](repeating: 0, count: max(size, 255) + 1)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) {
                readlink(path, $0, pointer.count)
            }
        }
        guard count >= 0 else { throw APKError(.io, "cannot read the symlink: \(FileSystem.errorText(errno))", source: path) }
        guard count < buffer.count else { throw APKError(.io, "the symlink changed while it was read", source: path) }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// glibc's `gnu_dev_major`/`gnu_dev_minor` encoding of a 64-bit device number.
    private static func split(device: UInt64) -> (UInt32, UInt32) {
        #if os(Linux)
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
        #else
        return (UInt32(truncatingIfNeeded: (device >> 24) & 0xff), UInt32(truncatingIfNeeded: device & 0xffffff))
        #endif
    }

    private static func extendedAttributes(_ path: String) throws -> [String: [UInt8]] {
        let listSize = listAttributes(path, nil, 0)
        if listSize < 0 {
            // File systems without xattr support simply have none.
            if errno == ENOTSUP { return [:] }
            throw APKError(.io, "cannot list extended attributes: \(FileSystem.errorText(errno))", source: path)
        }
        guard listSize > 0 else { return [:] }
        var names = [CChar](repeating: 0, count: listSize)
        let written = listAttributes(path, &names, listSize)
        guard written >= 0 else { throw APKError(.io, "the extended attributes changed while they were read", source: path) }
        var attributes: [String: [UInt8]] = [:]
        for nameBytes in names[0..<written].split(separator: 0) {
            let name = String(decoding: nameBytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if excludedAttributes.contains(name) { continue }
            let valueSize = getAttribute(path, name, nil, 0)
            guard valueSize >= 0 else {
                throw APKError(.io, "cannot read extended attribute \(name): \(FileSystem.errorText(errno))", source: path)
            }
            var value = [UInt8](repeating: 0, count: valueSize)
            let read = getAttribute(path, name, &value, valueSize)
            guard read == valueSize else { throw APKError(.io, "extended attribute \(name) changed while it was read", source: path) }
            attributes[name] = value
        }
        return attributes
    }

    // The xattr calls that do not follow symlinks: Linux has l-prefixed functions, Darwin an option.
    #if canImport(Darwin)
    private static func listAttributes(_ path: String, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        listxattr(path, buffer, size, XATTR_NOFOLLOW)
    }

    private static func getAttribute(_ path: String, _ name: String, _ buffer: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        getxattr(path, name, buffer, size, 0, XATTR_NOFOLLOW)
    }
    #else
    private static func listAttributes(_ path: String, _ buffer: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        llistxattr(path, buffer, size)
    }

    private static func getAttribute(_ path: String, _ name: String, _ buffer: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        lgetxattr(path, name, buffer, size)
    }
    #endif
}
