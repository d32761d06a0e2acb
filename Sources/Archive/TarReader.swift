/// A streaming tar reader: pull entries with `next()`, then read, copy or skip each entry's
/// content through a bounded API. Nothing is loaded whole unless asked (`readContent(limit:)`).
///
/// Formats: POSIX ustar (`ustar\0` `00`) and GNU (`ustar  \0`) headers; octal numbers ended by
/// NUL or space, and GNU base-256 binary numbers; the 155-byte `prefix` (POSIX magic only — GNU
/// headers keep other data there); GNU `L`/`K` long names and link names; PAX `x` (next entry)
/// and `g` (all following entries) headers with `path`, `linkpath`, `size`, `uid`, `gid`,
/// `uname`, `gname`, `mtime` and `SCHILY.xattr.<name>` mapped onto `TarEntry`, every other record
/// kept in `TarEntry.paxRecords` (apk's `APK-TOOLS.checksum.SHA1` among them). Each header's
/// checksum is verified. GNU sparse (`S`) and multi-volume (`M`) entries are refused.
///
/// End of archive: two zero blocks, counted as apk-tools does (the count is never reset, so a lone
/// zero block between entries is tolerated), or the stream simply ending right after a complete
/// entry — apk's "cut" signature and control tars have no end blocks, and an .apk's tars are read
/// as one stream. The reader stops at the second zero block and does not read what follows (an
/// underlying `GzipReader` should then be drained with `drainToEnd()`).
///
/// Names: by default (`refusesUnsafeNames: true`) every entry name, and every hard link target, must
/// pass `TarName.validate` — absolute names, `.`/`..` components and control characters throw
/// `.unsafeName` before the entry is returned. Symbolic link targets are not checked (absolute and
/// `../` targets are legitimate there; following them safely is the extractor's job). Names must be
/// valid UTF-8.
///
/// Caps (`Limits`): the size of a PAX or GNU long-name header, the length of names, and the number
/// of entries; exceeding one throws `.tooLarge`. The size of content is not capped here (cap the
/// decompressed stream with `GzipReader.maximumDecompressedSize`, or an entry with
/// `readContent(limit:)`). After any error the reader's position is undefined: discard it.
public final class TarReader {
    /// Size caps that keep a hostile archive from exhausting memory or time.
    public struct Limits: Sendable {
        /// The largest PAX (`x`, `g`) or GNU long-name (`L`, `K`) header content accepted.
        public var maximumExtendedHeaderSize: Int
        /// The longest name or link target accepted, in bytes.
        public var maximumNameLength: Int
        /// The most entries (not counting PAX/long-name headers) accepted.
        public var maximumEntryCount: Int

        /// Defaults: 1 MiB extended headers, 4096-byte names, one million entries.
        public init(maximumExtendedHeaderSize: Int = 1 << 20, maximumNameLength: Int = 4096, maximumEntryCount: Int = 1_000_000) {
            self.maximumExtendedHeaderSize = maximumExtendedHeaderSize
            self.maximumNameLength = maximumNameLength
            self.maximumEntryCount = maximumEntryCount
        }
    }

    /// How the archive ended.
    public enum Ending: Sendable, Equatable {
        /// Two zero blocks.
        case endBlocks
        /// The stream ended after a complete entry (a "cut" tar), possibly after one zero block.
        case endOfStream
    }

    /// Where the tar bytes come from.
    public let source: any ByteSource
    /// The caps in force.
    public let limits: Limits
    /// Whether unsafe names throw `.unsafeName` (see the type's documentation).
    public let refusesUnsafeNames: Bool

    /// Bytes consumed from the source so far.
    public private(set) var offset: Int64 = 0
    /// Entries returned so far.
    public private(set) var entryCount = 0
    /// How the archive ended, once `next()` has returned nil.
    public private(set) var ending: Ending?
    /// The PAX global (`g`) records seen so far, binary values as stored.
    public private(set) var globalRecords: [String: [UInt8]] = [:]
    /// The entry most recently returned by `next()`.
    public private(set) var currentEntry: TarEntry?

    /// The largest content size believed (4 EiB): base-256 and PAX sizes reach 2^63 - 1, and
    /// offsets, padding and remaining counts computed from such a size would overflow.
    static let maximumContentSize: Int64 = 1 << 62

    private var remainingContent: Int64 = 0
    private var remainingPadding = 0
    private var zeroBlockCount = 0
    private let block: UnsafeMutableRawBufferPointer
    /// Where skipped content goes; allocated once rather than per skipped entry.
    private let scratch: UnsafeMutableRawBufferPointer

    /// A reader over `source` (often a `GzipReader`).
    public init(source: any ByteSource, limits: Limits = Limits(), refusesUnsafeNames: Bool = true) {
        self.source = source
        self.limits = limits
        self.refusesUnsafeNames = refusesUnsafeNames
        self.block = .allocate(byteCount: TarHeader.blockSize, alignment: 16)
        self.scratch = .allocate(byteCount: 32 * 1024, alignment: 16)
    }

    deinit {
        block.deallocate()
        scratch.deallocate()
    }

    // MARK: Entries

    /// The next entry, skipping whatever content of the previous entry was not read; nil at the
    /// end of the archive (see `ending`).
    public func next() throws -> TarEntry? {
        guard ending == nil else { return nil }
        try skipContent()
        currentEntry = nil

        var records: [String: [UInt8]] = [:]
        var hasExtendedHeader = false
        var longName: [UInt8]?
        var longLinkName: [UInt8]?
        var firstHeaderOffset: Int64?

        while true {
            let headerOffset = offset
            guard try readBlock() else {
                if hasExtendedHeader || longName != nil || longLinkName != nil {
                    throw ArchiveError(.truncated, "tar stream ends after an extended header at offset \(firstHeaderOffset ?? headerOffset), before its entry")
                }
                ending = .endOfStream
                return nil
            }
            let header = UnsafeRawBufferPointer(block)
            if TarHeader.isZeroBlock(header) {
                if hasExtendedHeader || longName != nil || longLinkName != nil {
                    throw ArchiveError(.malformedHeader, "tar extended header at offset \(firstHeaderOffset ?? headerOffset) is followed by a zero block, not an entry")
                }
                zeroBlockCount += 1
                if zeroBlockCount == 2 {
                    ending = .endBlocks
                    return nil
                }
                continue
            }
            try checkHeader(header, at: headerOffset)
            if firstHeaderOffset == nil { firstHeaderOffset = headerOffset }

            let flag = header[TarHeader.typeFlag]
            switch flag {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let data = try readMetaContent(header, at: headerOffset, what: flag == UInt8(ascii: "x") ? "PAX header" : "PAX global header")
                guard let parsed = TarHeader.parseRecords(data) else {
                    throw ArchiveError(.malformedHeader, "malformed PAX record in the header at offset \(headerOffset)")
                }
                if flag == UInt8(ascii: "x") {
                    hasExtendedHeader = true
                    for (key, value) in parsed { records[key] = value }
                } else {
                    for (key, value) in parsed {
                        // An empty value deletes a global default (POSIX pax semantics).
                        globalRecords[key] = value.isEmpty ? nil : value
                    }
                    if globalRecords.reduce(0, { $0 + $1.key.utf8.count + $1.value.count }) > limits.maximumExtendedHeaderSize {
                        throw ArchiveError(.tooLarge, "PAX global records exceed \(limits.maximumExtendedHeaderSize) bytes (header at offset \(headerOffset))")
                    }
                    firstHeaderOffset = nil
                }
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                var data = try readMetaContent(header, at: headerOffset, what: "GNU long name")
                while data.last == 0 { data.removeLast() }
                if data.count > limits.maximumNameLength {
                    throw ArchiveError(.tooLarge, "GNU long name at offset \(headerOffset) is \(data.count) bytes, over the \(limits.maximumNameLength)-byte limit")
                }
                if flag == UInt8(ascii: "L") { longName = data } else { longLinkName = data }
            case UInt8(ascii: "S"):
                throw ArchiveError(.unsupported, "GNU sparse file at offset \(headerOffset) is not supported")
            case UInt8(ascii: "M"):
                throw ArchiveError(.unsupported, "GNU multi-volume continuation at offset \(headerOffset) is not supported")
            default:
                var effective = globalRecords
                for (key, value) in records { effective[key] = value.isEmpty ? nil : value }
                let entry = try makeEntry(
                    header, flag: flag, records: effective, longName: longName, longLinkName: longLinkName,
                    headerOffset: firstHeaderOffset ?? headerOffset)
                entryCount += 1
                if entryCount > limits.maximumEntryCount {
                    throw ArchiveError(.tooLarge, "tar archive has more than \(limits.maximumEntryCount) entries (offset \(headerOffset))")
                }
                remainingContent = entry.size
                remainingPadding = TarHeader.padding(entry.size)
                currentEntry = entry
                return entry
            }
        }
    }

    // MARK: Content

    /// Reads the current entry's content into `buffer`; 0 at the end of the content.
    public func readContent(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard remainingContent > 0, buffer.count > 0 else { return 0 }
        let want = Int(min(Int64(buffer.count), remainingContent))
        let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        if count == 0 {
            throw ArchiveError(.truncated, "tar stream ends inside the content of \(TarName.quoted(currentEntry?.name ?? "")) at offset \(offset)")
        }
        remainingContent -= Int64(count)
        offset += Int64(count)
        return count
    }

    /// The current entry's remaining content in memory; `.tooLarge` (before reading anything) when it
    /// is longer than `limit` bytes.
    public func readContent(limit: Int) throws -> [UInt8] {
        guard remainingContent <= Int64(limit) else {
            throw ArchiveError(.tooLarge, "content of \(TarName.quoted(currentEntry?.name ?? "")) is \(remainingContent) bytes, over the \(limit)-byte limit")
        }
        var bytes = [UInt8](repeating: 0, count: Int(remainingContent))
        var filled = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < buffer.count {
                filled += try readContent(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            }
        }
        return bytes
    }

    /// Copies the current entry's remaining content to `sink` through a fixed buffer.
    @discardableResult
    public func copyContent(to sink: any ByteSink) throws -> Int64 {
        try contentSource().copy(to: sink)
    }

    /// Skips the current entry's remaining content and padding.
    public func skipContent() throws {
        let total = remainingContent + Int64(remainingPadding)
        guard total > 0 else { return }
        let name = currentEntry?.name ?? ""
        let skipped = try discard(total)
        remainingContent = 0
        remainingPadding = 0
        if skipped < total {
            throw ArchiveError(.truncated, "tar stream ends inside the content of \(TarName.quoted(name)) at offset \(offset)")
        }
    }

    /// The current entry's remaining content as a `ByteSource`, for APIs that consume a source,
    /// e.g. `TarWriter.append(_:content:)`. Once `next()` moves on, it reports the end.
    public func contentSource() -> any ByteSource {
        TarContentSource(reader: self, entryNumber: entryCount)
    }

    /// Reads and drops up to `count` bytes, advancing `offset`; returns how many were dropped
    /// (fewer only at the end of the stream).
    private func discard(_ count: Int64) throws -> Int64 {
        var remaining = count
        while remaining > 0 {
            let want = Int(min(Int64(scratch.count), remaining))
            let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
            if got == 0 { break }
            remaining -= Int64(got)
            offset += Int64(got)
        }
        return count - remaining
    }

    // MARK: Headers

    /// Reads one block; false at a clean end of stream (no byte of the block present).
    private func readBlock() throws -> Bool {
        let count = try source.readFully(into: block)
        offset += Int64(count)
        if count == 0 { return false }
        if count < TarHeader.blockSize {
            throw ArchiveError(.truncated, "tar stream ends inside a header at offset \(offset - Int64(count)) (\(count) of 512 bytes)")
        }
        return true
    }

    private func checkHeader(_ header: UnsafeRawBufferPointer, at headerOffset: Int64) throws {
        guard header[TarHeader.magic].starts(with: "ustar".utf8) else {
            throw ArchiveError(.malformedHeader, "no ustar magic in the tar header at offset \(headerOffset): not a ustar/GNU tar archive")
        }
        guard TarHeader.checksumMatches(header) else {
            throw ArchiveError(.badHeaderChecksum, "tar header checksum mismatch at offset \(headerOffset)")
        }
    }

    /// Reads a PAX or long-name header's content (and its padding), within the cap.
    private func readMetaContent(_ header: UnsafeRawBufferPointer, at headerOffset: Int64, what: String) throws -> [UInt8] {
        guard let size = TarHeader.number(header, TarHeader.size), size >= 0 else {
            throw ArchiveError(.malformedHeader, "unreadable size in the \(what) at offset \(headerOffset)")
        }
        if size > Int64(limits.maximumExtendedHeaderSize) {
            throw ArchiveError(.tooLarge, "\(what) at offset \(headerOffset) is \(size) bytes, over the \(limits.maximumExtendedHeaderSize)-byte limit")
        }
        var data = [UInt8](repeating: 0, count: Int(size))
        let count = try data.withUnsafeMutableBytes { try source.readFully(into: $0) }
        offset += Int64(count)
        let padding = Int64(TarHeader.padding(size))
        let skipped = try discard(padding)
        if count < Int(size) || skipped < padding {
            throw ArchiveError(.truncated, "tar stream ends inside the \(what) at offset \(headerOffset)")
        }
        return data
    }

    private func makeEntry(
        _ header: UnsafeRawBufferPointer, flag: UInt8, records: [String: [UInt8]],
        longName: [UInt8]?, longLinkName: [UInt8]?, headerOffset: Int64
    ) throws -> TarEntry {
        let at = "at offset \(headerOffset)"
        func number(_ range: Range<Int>, _ field: String) throws -> Int64 {
            guard let value = TarHeader.number(header, range) else {
                throw ArchiveError(.malformedHeader, "unreadable \(field) field in the tar header \(at)")
            }
            return value
        }
        func text(_ bytes: some Collection<UInt8>, _ field: String) throws -> String {
            guard let value = utf8String(bytes) else {
                throw ArchiveError(.malformedHeader, "\(field) in the tar header \(at) is not valid UTF-8")
            }
            return value
        }
        func recordNumber(_ key: String) throws -> Int64? {
            guard let raw = records[key] else { return nil }
            guard let value = utf8String(raw).flatMap(parseDecimal) else {
                throw ArchiveError(.malformedHeader, "PAX record \(key) is not a number \(at)")
            }
            return value
        }

        let kind: TarEntry.Kind
        switch flag {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .regular
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symbolicLink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        default: kind = .other(flag)
        }

        var nameBytes: [UInt8]
        if let path = records["path"] {
            nameBytes = path
        } else if let longName {
            nameBytes = longName
        } else {
            nameBytes = Array(TarHeader.stringBytes(header, TarHeader.name))
            // The prefix field only means "prefix" under POSIX magic; GNU stores times there.
            let prefix = TarHeader.stringBytes(header, TarHeader.prefix)
            if header[TarHeader.magic.lowerBound + 5] == 0, !prefix.isEmpty {
                nameBytes = Array(prefix) + [UInt8(ascii: "/")] + nameBytes
            }
        }
        let linkBytes = records["linkpath"] ?? longLinkName ?? Array(TarHeader.stringBytes(header, TarHeader.linkName))
        for (bytes, field) in [(nameBytes, "name"), (linkBytes, "link name")] where bytes.count > limits.maximumNameLength {
            throw ArchiveError(.tooLarge, "tar entry \(field) \(at) is \(bytes.count) bytes, over the \(limits.maximumNameLength)-byte limit")
        }

        var entry = TarEntry(name: try text(nameBytes, "name"), kind: kind)
        entry.linkName = try text(linkBytes, "link name")
        entry.mode = UInt32(truncatingIfNeeded: try number(TarHeader.mode, "mode")) & 0o7777
        entry.uid = Int(try recordNumber("uid") ?? number(TarHeader.uid, "uid"))
        entry.gid = Int(try recordNumber("gid") ?? number(TarHeader.gid, "gid"))
        entry.size = try recordNumber("size") ?? number(TarHeader.size, "size")
        entry.modificationTime = try recordNumber("mtime") ?? number(TarHeader.mtime, "mtime")
        entry.userName = try records["uname"].map { try text($0, "PAX uname") } ?? text(TarHeader.stringBytes(header, TarHeader.userName), "uname")
        entry.groupName = try records["gname"].map { try text($0, "PAX gname") } ?? text(TarHeader.stringBytes(header, TarHeader.groupName), "gname")
        if kind == .characterDevice || kind == .blockDevice {
            entry.deviceMajor = UInt32(truncatingIfNeeded: try number(TarHeader.deviceMajor, "devmajor"))
            entry.deviceMinor = UInt32(truncatingIfNeeded: try number(TarHeader.deviceMinor, "devminor"))
        }
        if entry.size < 0 {
            throw ArchiveError(.malformedHeader, "negative size in the tar header \(at)")
        }
        if entry.size > Self.maximumContentSize {
            throw ArchiveError(.tooLarge, "tar entry size \(entry.size) \(at) is beyond what any tar stream holds")
        }
        let mapped: Set<String> = ["path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime"]
        for (key, value) in records where !mapped.contains(key) {
            if key.hasPrefix("SCHILY.xattr.") {
                entry.extendedAttributes[String(key.dropFirst("SCHILY.xattr.".count))] = value
            } else {
                // Other records are opaque to us; keep them readable even if not valid UTF-8.
                entry.paxRecords[key] = String(decoding: value, as: UTF8.self)
            }
        }
        entry.headerOffset = headerOffset
        entry.contentOffset = offset

        if refusesUnsafeNames {
            try TarName.validate(entry.name)
            if kind == .hardLink {
                do {
                    try TarName.validate(entry.linkName)
                } catch var error as ArchiveError {
                    error.message = "hard link \(TarName.quoted(entry.name)) has an " + error.message
                    throw error
                }
            }
        }
        return entry
    }
}

/// A PAX decimal number: an optional sign, digits, and an optional fraction that is dropped,
/// rounding down ("-1.5" is -2), as times before the epoch need.
private func parseDecimal(_ text: String) -> Int64? {
    let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard let whole = Int64(parts[0]) ?? (parts[0] == "-" ? 0 : nil) else { return nil }
    guard parts.count == 2 else { return parts[0].isEmpty ? nil : whole }
    let fraction = parts[1]
    guard !fraction.isEmpty, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    let negative = parts[0].hasPrefix("-")
    guard negative && fraction.contains(where: { $0 != "0" }) else { return whole }
    // Rounding down past Int64.min has no value to give.
    let (rounded, overflow) = whole.subtractingReportingOverflow(1)
    return overflow ? nil : rounded
}

/// The content of a `TarReader`'s current entry as a `ByteSource`.
private final class TarContentSource: ByteSource {
    private let reader: TarReader
    private let entryNumber: Int

    init(reader: TarReader, entryNumber: Int) {
        self.reader = reader
        self.entryNumber = entryNumber
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard reader.entryCount == entryNumber else { return 0 }
        return try reader.readContent(into: buffer)
    }
}
