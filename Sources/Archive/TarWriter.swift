/// A deterministic tar writer: the same entries and content give the same bytes.
///
/// Each entry gets one ustar header; a PAX `x` header goes before it only when something does not
/// fit ustar:
/// - a name longer than 100 bytes that cannot be split at a `/` into `prefix` (≤ 155) and
///   `name` (≤ 100) → `path`; a link target longer than 100 bytes → `linkpath`;
/// - a size, mtime, uid or gid that octal cannot hold (or a negative mtime) → `size`, `mtime`,
///   `uid`, `gid`; a user or group name over 32 bytes → `uname`, `gname`;
/// - extended attributes → `SCHILY.xattr.<name>` (binary values), in name order;
/// - the caller's `paxRecords` (e.g. `APK-TOOLS.checksum.SHA1`), in key order, last.
/// Records appear in exactly that order. Fields not set by the caller are zero or empty; no
/// timestamp, user or host information is ever taken from the environment.
///
/// With `.gnu` format (magic `ustar  \0`, as apk-tools' APKINDEX uses) long names and link
/// targets become GNU `L`/`K` entries instead and numbers too large for octal use base-256; PAX
/// headers are written only for user/group names over 32 bytes, extended attributes and caller
/// records.
///
/// The archive ends with `finish(.endBlocks)` — exactly two zero blocks, no record padding (what
/// apko layers and GNU tar-compatible readers expect) — or `finish(.cut)`, with no end blocks at all
/// (apk's signature and control tars, which are concatenated with the next tar).
public final class TarWriter {
    /// Header dialect.
    public enum Format: Sendable {
        /// POSIX ustar magic (`ustar\0` `00`) with PAX extended headers where needed.
        case pax
        /// GNU magic (`ustar  \0`), GNU long names and base-256 numbers.
        case gnu
    }

    /// How `finish` ends the archive.
    public enum Ending: Sendable {
        /// Two 512-byte zero blocks.
        case endBlocks
        /// Nothing: the tar continues in whatever is concatenated after it.
        case cut
    }

    /// Where the tar bytes go.
    public let sink: any ByteSink
    /// The header dialect.
    public let format: Format
    /// Whether entry names (and hard link targets) must pass `TarName.validate`.
    public let refusesUnsafeNames: Bool
    /// Bytes written so far.
    public private(set) var bytesWritten: Int64 = 0
    /// The size of the archive described so far: ``bytesWritten``, except that an entry added by
    /// ``appendDescription(of:standIn:)`` counts with its content and padding, not its stand-in.
    public private(set) var archiveSize: Int64 = 0

    private var isFinished = false
    private let buffer: UnsafeMutableRawBufferPointer

    /// Records the writer derives from entry fields; callers may not pass these themselves.
    private static let derivedKeys: Set<String> = ["path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime"]

    /// A writer to `sink`.
    public init(sink: any ByteSink, format: Format = .pax, refusesUnsafeNames: Bool = true) {
        self.sink = sink
        self.format = format
        self.refusesUnsafeNames = refusesUnsafeNames
        self.buffer = .allocate(byteCount: streamChunkSize, alignment: 16)
    }

    deinit {
        buffer.deallocate()
    }

    /// Appends an entry without content (directory, link, device, fifo, or an empty file).
    public func append(_ entry: TarEntry) throws {
        guard entry.size == 0 else {
            throw ArchiveError(.invalidArgument, "entry \(TarName.quoted(entry.name)) has size \(entry.size) but no content was given")
        }
        try writeHeaders(for: entry)
    }

    /// Appends a regular file whose content is `content`; `entry.size` must equal its length.
    public func append(_ entry: TarEntry, content: [UInt8]) throws {
        try append(entry, content: MemorySource(content))
    }

    /// Appends a regular file, streaming exactly `entry.size` bytes from `content`. A source that
    /// ends early or has bytes left over throws `.sizeMismatch` (the header is already written then,
    /// so the output must be discarded).
    public func append(_ entry: TarEntry, content: any ByteSource) throws {
        guard entry.kind == .regular || entry.size == 0 else {
            throw ArchiveError(.invalidArgument, "entry \(TarName.quoted(entry.name)) is not a regular file but has size \(entry.size)")
        }
        try writeHeaders(for: entry)
        var remaining = entry.size
        while remaining > 0 {
            let want = Int(min(Int64(buffer.count), remaining))
            let count = try content.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            if count == 0 {
                throw ArchiveError(.sizeMismatch, "content of \(TarName.quoted(entry.name)) ended \(remaining) bytes short of its size \(entry.size)")
            }
            try emit(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            remaining -= Int64(count)
        }
        if try content.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<1])) != 0 {
            throw ArchiveError(.sizeMismatch, "content of \(TarName.quoted(entry.name)) is longer than its size \(entry.size)")
        }
        try pad(entry.size)
    }

    /// Appends a regular file's headers exactly as ``append(_:content:)`` writes them, followed by
    /// `standIn` instead of the content and without padding. A writer used this way produces a
    /// description of an archive, not an archive: hashing it names the archive's bytes without
    /// reading them, provided every stand-in identifies its content (length included) and is
    /// self-delimiting. ``archiveSize`` grows as if the content had been written.
    public func appendDescription(of entry: TarEntry, standIn: [UInt8]) throws {
        guard entry.kind == .regular || entry.size == 0 else {
            throw ArchiveError(.invalidArgument, "entry \(TarName.quoted(entry.name)) is not a regular file but has size \(entry.size)")
        }
        try writeHeaders(for: entry)
        try sink.write(standIn)
        bytesWritten += Int64(standIn.count)
        archiveSize += entry.size + Int64(TarHeader.padding(entry.size))
    }

    /// Ends the archive. Does not close or finish the sink.
    public func finish(_ ending: Ending = .endBlocks) throws {
        guard !isFinished else { return }
        isFinished = true
        if ending == .endBlocks {
            try emit([UInt8](repeating: 0, count: 2 * TarHeader.blockSize))
        }
    }

    // MARK: Headers

    private func writeHeaders(for entry: TarEntry) throws {
        guard !isFinished else {
            throw ArchiveError(.invalidArgument, "append after TarWriter.finish()")
        }
        try validate(entry)
        let nameBytes = Array(entry.name.utf8)
        let linkBytes = Array(entry.linkName.utf8)
        var records: [(String, [UInt8])] = []
        // GNU long-name entries go first; nothing is emitted until every field was encoded, so a
        // refused entry leaves no partial header behind.
        var prelude: [UInt8] = []
        var block = TarHeader.emptyBlock()

        // Name: ustar name, or prefix + name, or a long-name mechanism with a truncated field.
        if nameBytes.count <= TarHeader.name.count {
            TarHeader.put(nameBytes, into: &block, TarHeader.name)
        } else if format == .pax, let split = Self.splitForPrefix(nameBytes) {
            TarHeader.put(nameBytes[..<split], into: &block, TarHeader.prefix)
            TarHeader.put(nameBytes[(split + 1)...], into: &block, TarHeader.name)
        } else {
            TarHeader.put(nameBytes.prefix(TarHeader.name.count), into: &block, TarHeader.name)
            if format == .pax {
                records.append(("path", nameBytes))
            } else {
                prelude += Self.longNameEntry(nameBytes, flag: UInt8(ascii: "L"))
            }
        }
        if linkBytes.count <= TarHeader.linkName.count {
            TarHeader.put(linkBytes, into: &block, TarHeader.linkName)
        } else {
            TarHeader.put(linkBytes.prefix(TarHeader.linkName.count), into: &block, TarHeader.linkName)
            if format == .pax {
                records.append(("linkpath", linkBytes))
            } else {
                prelude += Self.longNameEntry(linkBytes, flag: UInt8(ascii: "K"))
            }
        }

        TarHeader.putOctal(Int64(entry.mode & 0o7777), into: &block, TarHeader.mode)
        let size = entry.kind == .regular ? entry.size : 0
        try putNumber(size, "size", TarHeader.size, &block, &records)
        try putNumber(Int64(entry.uid), "uid", TarHeader.uid, &block, &records)
        try putNumber(Int64(entry.gid), "gid", TarHeader.gid, &block, &records)
        try putNumber(entry.modificationTime, "mtime", TarHeader.mtime, &block, &records)
        for (value, key, range) in [(entry.userName, "uname", TarHeader.userName), (entry.groupName, "gname", TarHeader.groupName)] {
            let bytes = Array(value.utf8)
            if bytes.count <= range.count {
                TarHeader.put(bytes, into: &block, range)
            } else {
                // GNU has no long-uname mechanism of its own; a PAX record works in both dialects.
                records.append((key, bytes))
            }
        }
        block[TarHeader.typeFlag] = entry.kind.typeFlag
        TarHeader.put(format == .pax ? TarHeader.posixMagic : TarHeader.gnuMagic, into: &block, TarHeader.magic.lowerBound..<TarHeader.version.upperBound)
        for (value, range) in [(entry.deviceMajor, TarHeader.deviceMajor), (entry.deviceMinor, TarHeader.deviceMinor)] {
            if Int64(value) <= TarHeader.octalLimit(range.count) {
                TarHeader.putOctal(Int64(value), into: &block, range)
            } else if format == .gnu {
                TarHeader.putBase256(Int64(value), into: &block, range)
            } else {
                throw ArchiveError(.invalidArgument, "device number \(value) of \(TarName.quoted(entry.name)) does not fit a ustar header")
            }
        }
        TarHeader.seal(&block)

        for name in entry.extendedAttributes.keys.sorted() {
            records.append(("SCHILY.xattr." + name, entry.extendedAttributes[name]!))
        }
        for key in entry.paxRecords.keys.sorted() {
            records.append((key, Array(entry.paxRecords[key]!.utf8)))
        }
        if !records.isEmpty {
            prelude += paxEntry(records, for: entry)
        }
        try emit(prelude + block)
    }

    private func validate(_ entry: TarEntry) throws {
        if case .other(let flag) = entry.kind {
            throw ArchiveError(.invalidArgument, "entry \(TarName.quoted(entry.name)) has typeflag \(flag), which TarWriter does not write")
        }
        if refusesUnsafeNames {
            try TarName.validate(entry.name)
            if entry.kind == .hardLink { try TarName.validate(entry.linkName) }
        } else if entry.name.isEmpty || entry.name.utf8.contains(0) {
            throw ArchiveError(.invalidArgument, "entry name \(TarName.quoted(entry.name)) is empty or contains NUL")
        }
        if entry.linkName.utf8.contains(0) {
            throw ArchiveError(.invalidArgument, "link target of \(TarName.quoted(entry.name)) contains NUL")
        }
        if entry.size < 0 {
            throw ArchiveError(.invalidArgument, "entry \(TarName.quoted(entry.name)) has negative size \(entry.size)")
        }
        if entry.kind != .regular, entry.size != 0 {
            throw ArchiveError(.invalidArgument, "entry \(TarName.quoted(entry.name)) is not a regular file but has size \(entry.size)")
        }
        for key in entry.paxRecords.keys {
            if key.isEmpty || key.utf8.contains(UInt8(ascii: "=")) || key.utf8.contains(0) || key.utf8.contains(UInt8(ascii: "\n")) {
                throw ArchiveError(.invalidArgument, "PAX record key \(TarName.quoted(key)) of \(TarName.quoted(entry.name)) is empty or contains '=', NUL or newline")
            }
            if Self.derivedKeys.contains(key) || key.hasPrefix("SCHILY.xattr.") {
                throw ArchiveError(.invalidArgument, "PAX record \(key) of \(TarName.quoted(entry.name)) is derived from the entry's fields; set the field instead")
            }
        }
        for name in entry.extendedAttributes.keys where name.isEmpty || name.utf8.contains(UInt8(ascii: "=")) || name.utf8.contains(0) {
            throw ArchiveError(.invalidArgument, "extended attribute name \(TarName.quoted(name)) of \(TarName.quoted(entry.name)) is empty or contains '=' or NUL")
        }
    }

    /// Writes a number in octal if it fits, else as a PAX record (pax) or base-256 (gnu).
    private func putNumber(_ value: Int64, _ key: String, _ range: Range<Int>, _ block: inout [UInt8], _ records: inout [(String, [UInt8])]) throws {
        if value >= 0, value <= TarHeader.octalLimit(range.count) {
            TarHeader.putOctal(value, into: &block, range)
        } else if format == .gnu {
            TarHeader.putBase256(value, into: &block, range)
        } else {
            TarHeader.putOctal(0, into: &block, range)
            records.append((key, Array(String(value).utf8)))
        }
    }

    /// The index of the `/` that splits `name` into a prefix (≤ 155 bytes) and a name (1...100
    /// bytes), preferring the longest name part; nil when no split works.
    private static func splitForPrefix(_ name: [UInt8]) -> Int? {
        for index in name.indices where name[index] == UInt8(ascii: "/") {
            let rest = name.count - index - 1
            if index > TarHeader.prefix.count { return nil }
            if rest >= 1, rest <= TarHeader.name.count, index >= 1 { return index }
        }
        return nil
    }

    /// A PAX `x` header named `PaxHeaders/<last component>` holding `records`, with its data.
    private func paxEntry(_ records: [(String, [UInt8])], for entry: TarEntry) -> [UInt8] {
        let data = records.flatMap { TarHeader.record(key: $0.0, value: $0.1) }
        let base = entry.name.split(separator: "/").last.map(String.init) ?? entry.name
        let headerName = Array(("PaxHeaders/" + base).utf8)
        var block = TarHeader.emptyBlock()
        TarHeader.put(headerName.prefix(TarHeader.name.count), into: &block, TarHeader.name)
        TarHeader.putOctal(0o644, into: &block, TarHeader.mode)
        TarHeader.putOctal(0, into: &block, TarHeader.uid)
        TarHeader.putOctal(0, into: &block, TarHeader.gid)
        TarHeader.putOctal(Int64(data.count), into: &block, TarHeader.size)
        let mtime = min(max(entry.modificationTime, 0), TarHeader.octalLimit(TarHeader.mtime.count))
        TarHeader.putOctal(mtime, into: &block, TarHeader.mtime)
        block[TarHeader.typeFlag] = UInt8(ascii: "x")
        TarHeader.put(format == .pax ? TarHeader.posixMagic : TarHeader.gnuMagic, into: &block, TarHeader.magic.lowerBound..<TarHeader.version.upperBound)
        TarHeader.seal(&block)
        return block + data + [UInt8](repeating: 0, count: TarHeader.padding(Int64(data.count)))
    }

    /// A GNU `././@LongLink` entry of type `L` (name) or `K` (link target), with its data.
    private static func longNameEntry(_ bytes: [UInt8], flag: UInt8) -> [UInt8] {
        let data = bytes + [0]
        var block = TarHeader.emptyBlock()
        TarHeader.put("././@LongLink".utf8, into: &block, TarHeader.name)
        TarHeader.putOctal(0o644, into: &block, TarHeader.mode)
        TarHeader.putOctal(0, into: &block, TarHeader.uid)
        TarHeader.putOctal(0, into: &block, TarHeader.gid)
        TarHeader.putOctal(Int64(data.count), into: &block, TarHeader.size)
        TarHeader.putOctal(0, into: &block, TarHeader.mtime)
        block[TarHeader.typeFlag] = flag
        TarHeader.put(TarHeader.gnuMagic, into: &block, TarHeader.magic.lowerBound..<TarHeader.version.upperBound)
        TarHeader.seal(&block)
        return block + data + [UInt8](repeating: 0, count: TarHeader.padding(Int64(data.count)))
    }

    // MARK: Output

    private func pad(_ size: Int64) throws {
        let count = TarHeader.padding(size)
        if count > 0 { try emit([UInt8](repeating: 0, count: count)) }
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink.write(bytes)
        bytesWritten += Int64(bytes.count)
        archiveSize += Int64(bytes.count)
    }
}
