import Archive
import Foundation

/// One entry as both our reader and Python's `tarfile` (an independent implementation) describe
/// it, so listings can be compared field by field.
struct ListedEntry: Codable, Equatable, CustomStringConvertible {
    var name: String
    var type: String
    var mode: UInt32
    var uid: Int
    var gid: Int
    var size: Int64
    var mtime: Int64
    var linkname: String
    var uname: String
    var gname: String
    var devmajor: UInt32
    var devminor: UInt32
    var records: [String: String]
    var xattrs: [String: String]  // name -> hex of the binary value

    var description: String { "\(type) \(name) \(size) \(mode)" }

    init(_ entry: TarEntry) {
        // Python strips the trailing slash of directory names; do the same for comparison.
        name = entry.kind == .directory && entry.name.count > 1 && entry.name.hasSuffix("/") ? String(entry.name.dropLast()) : entry.name
        switch entry.kind {
        case .regular: type = "file"
        case .hardLink: type = "hardlink"
        case .symbolicLink: type = "symlink"
        case .characterDevice: type = "chr"
        case .blockDevice: type = "blk"
        case .directory: type = "dir"
        case .fifo: type = "fifo"
        case .other(let flag): type = "other:\(Character(Unicode.Scalar(flag)))"
        }
        mode = entry.mode
        uid = entry.uid
        gid = entry.gid
        size = entry.kind == .regular ? entry.size : 0
        mtime = entry.modificationTime
        linkname = entry.linkName
        uname = entry.userName
        gname = entry.groupName
        devmajor = entry.deviceMajor
        devminor = entry.deviceMinor
        records = entry.paxRecords
        xattrs = entry.extendedAttributes.mapValues(hexString)
    }
}

enum TarOracle {
    /// Lists a tar (plain or gzip, members concatenated) with Python's tarfile.
    static let script = #"""
    import json, math, sys, tarfile
    mapped = {"path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime"}
    with tarfile.open(sys.argv[1], mode="r:*") as archive:
        for info in archive:
            if info.isreg(): kind = "file"
            elif info.islnk(): kind = "hardlink"
            elif info.issym(): kind = "symlink"
            elif info.ischr(): kind = "chr"
            elif info.isblk(): kind = "blk"
            elif info.isdir(): kind = "dir"
            elif info.isfifo(): kind = "fifo"
            else: kind = "other:" + info.type.decode()
            records, xattrs = {}, {}
            for key, value in info.pax_headers.items():
                if key.startswith("SCHILY.xattr."):
                    xattrs[key[len("SCHILY.xattr."):]] = value.encode("utf-8", "surrogateescape").hex()
                elif key not in mapped and value != "":
                    # POSIX: an empty value deletes the record (tarfile keeps it as "").
                    records[key] = value
            device = info.ischr() or info.isblk()
            print(json.dumps({
                "name": info.name, "type": kind, "mode": info.mode & 0o7777, "uid": info.uid, "gid": info.gid,
                "size": info.size if info.isreg() else 0, "mtime": math.floor(info.mtime),
                "linkname": info.linkname, "uname": info.uname, "gname": info.gname,
                "devmajor": info.devmajor if device else 0, "devminor": info.devminor if device else 0,
                "records": records, "xattrs": xattrs}))
    """#

    static func list(_ path: String) throws -> [ListedEntry] {
        let output = try Tool.output(["python3", "-c", script, path])
        return try String(decoding: output, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(ListedEntry.self, from: Data($0.utf8))
        }
    }

    /// Our reader's listing of a tar stream.
    static func ours(_ source: any ByteSource, refusesUnsafeNames: Bool = true) throws -> [ListedEntry] {
        let reader = TarReader(source: source, refusesUnsafeNames: refusesUnsafeNames)
        var listed: [ListedEntry] = []
        while let entry = try reader.next() { listed.append(ListedEntry(entry)) }
        return listed
    }

    /// Our listing of a gzip-compressed tar file.
    static func oursGzip(_ path: String) throws -> [ListedEntry] {
        try ours(GzipReader(source: FileDescriptorSource(path: path)))
    }
}

/// Lowercase hex of `bytes` (not `String(format:)`, which races in parallel tests on Linux).
func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
}
