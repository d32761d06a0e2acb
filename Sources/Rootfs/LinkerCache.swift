/// What `ld.so.cache` needs from a shared object: its `DT_SONAME` and glibc's cache flags for
/// its machine (glibc `elf/cache.c`, `sysdeps/*/readelflib.c`).
struct SharedObject: Sendable, Hashable {
    var soname: String?
    var flags: UInt32

    static let elfLibc6: UInt32 = 0x0003

    /// Reads the ELF header, the program headers and the dynamic section through `read(offset,
    /// count)`; nil for anything that is not a shared object of a machine glibc's cache knows.
    static func parse<Failure: Error>(read: (Int64, Int) throws(Failure) -> [UInt8]) throws(Failure) -> SharedObject? {
        let header = try read(0, 64)
        guard header.count >= 52, header[0] == 0x7f, header[1] == 0x45, header[2] == 0x4c, header[3] == 0x46 else { return nil }
        let is64 = header[4] == 2
        guard header[4] == 1 || is64, header[5] == 1 || header[5] == 2 else { return nil }
        let bigEndian = header[5] == 2
        let numbers = Numbers(bigEndian: bigEndian)
        guard numbers.u16(header, 16) == 3 else { return nil }  // ET_DYN
        let machine = numbers.u16(header, 18)
        let elfFlags = numbers.u32(header, is64 ? 48 : 36)
        guard let flags = cacheFlags(machine: machine, is64: is64, elfFlags: elfFlags) else { return nil }

        guard header.count >= (is64 ? 64 : 52) else { return nil }
        let programHeaderOffset = is64 ? Int64(numbers.u64(header, 32)) : Int64(numbers.u32(header, 28))
        let entrySize = Int(numbers.u16(header, is64 ? 54 : 42))
        let count = Int(numbers.u16(header, is64 ? 56 : 44))
        guard entrySize >= (is64 ? 56 : 32), count > 0, count <= 512, programHeaderOffset > 0 else {
            return SharedObject(soname: nil, flags: flags)
        }
        let table = try read(programHeaderOffset, entrySize * count)
        guard table.count == entrySize * count else { return nil }
        var loads: [(vaddr: UInt64, offset: UInt64, size: UInt64)] = []
        var dynamic: (offset: UInt64, size: UInt64)?
        for index in 0..<count {
            let base = index * entrySize
            let type = numbers.u32(table, base)
            let offset = is64 ? numbers.u64(table, base + 8) : UInt64(numbers.u32(table, base + 4))
            let vaddr = is64 ? numbers.u64(table, base + 16) : UInt64(numbers.u32(table, base + 8))
            let size = is64 ? numbers.u64(table, base + 32) : UInt64(numbers.u32(table, base + 16))
            if type == 1 { loads.append((vaddr, offset, size)) }
            if type == 2 { dynamic = (offset, size) }
        }
        guard let dynamic, dynamic.size > 0, dynamic.size <= 1 << 20 else { return SharedObject(soname: nil, flags: flags) }
        let entries = try read(Int64(dynamic.offset), Int(dynamic.size))
        let dynamicEntrySize = is64 ? 16 : 8
        var stringTable: UInt64?
        var stringTableSize: UInt64 = 0
        var sonameOffset: UInt64?
        var position = 0
        while position + dynamicEntrySize <= entries.count {
            let tag = is64 ? numbers.u64(entries, position) : UInt64(numbers.u32(entries, position))
            let value = is64 ? numbers.u64(entries, position + 8) : UInt64(numbers.u32(entries, position + 4))
            position += dynamicEntrySize
            switch tag {
            case 0: position = entries.count  // DT_NULL
            case 5: stringTable = value       // DT_STRTAB
            case 10: stringTableSize = value  // DT_STRSZ
            case 14: sonameOffset = value     // DT_SONAME
            default: break
            }
        }
        guard let stringTable, let sonameOffset, sonameOffset < max(stringTableSize, 1) || stringTableSize == 0,
              let load = loads.first(where: { stringTable >= $0.vaddr && stringTable < $0.vaddr + $0.size }) else {
            return SharedObject(soname: nil, flags: flags)
        }
        let fileOffset = Int64(load.offset + (stringTable - load.vaddr) + sonameOffset)
        let bytes = try read(fileOffset, 4096)
        guard let end = bytes.firstIndex(of: 0), end > 0 else { return SharedObject(soname: nil, flags: flags) }
        return SharedObject(soname: String(decoding: bytes[..<end], as: UTF8.self), flags: flags)
    }

    /// `FLAG_ELF_LIBC6` plus the machine's `FLAG_*` (glibc `sysdeps/generic/ldconfig.h`); nil for
    /// machines and ABIs the cache has no flag for.
    static func cacheFlags(machine: UInt16, is64: Bool, elfFlags: UInt32) -> UInt32? {
        switch machine {
        case 3: return elfLibc6                                              // EM_386
        case 62: return elfLibc6 | (is64 ? 0x0300 : 0x0800)                  // EM_X86_64 (x32)
        case 183: return elfLibc6 | 0x0a00                                   // EM_AARCH64
        case 40:                                                             // EM_ARM
            if elfFlags & 0x400 != 0 { return elfLibc6 | 0x0900 }           // hard float
            if elfFlags & 0x200 != 0 { return elfLibc6 | 0x0b00 }           // soft float
            return elfLibc6
        case 21: return elfLibc6 | 0x0500                                    // EM_PPC64
        case 20: return elfLibc6                                             // EM_PPC
        case 22: return elfLibc6 | (is64 ? 0x0400 : 0)                       // EM_S390
        case 243:                                                            // EM_RISCV
            switch elfFlags & 0x6 {
            case 0x0: return elfLibc6 | 0x0f00
            case 0x4: return elfLibc6 | 0x1000
            default: return nil
            }
        case 258:                                                            // EM_LOONGARCH
            switch elfFlags & 0x7 {
            case 0x1: return elfLibc6 | 0x1100
            case 0x3: return elfLibc6 | 0x1200
            default: return nil
            }
        default: return nil
        }
    }
}

/// Fixed-width integers in one byte order.
struct Numbers {
    var bigEndian: Bool

    func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        guard at + 2 <= bytes.count else { return 0 }
        return bigEndian ? UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) : UInt16(bytes[at + 1]) << 8 | UInt16(bytes[at])
    }

    func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        guard at + 4 <= bytes.count else { return 0 }
        let value = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) }
        return bigEndian ? value.byteSwapped : value
    }

    func u64(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        guard at + 8 <= bytes.count else { return 0 }
        let value = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
        return bigEndian ? value.byteSwapped : value
    }

    func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        let ordered = bigEndian ? value.bigEndian : value.littleEndian
        return withUnsafeBytes(of: ordered) { Array($0) }
    }
}

/// glibc's `ld.so.cache` in the `glibc-ld.so.cache1.1` format that glibc ≥ 2.32 writes and reads:
/// a 48-byte header, 24-byte entries, then the strings; string offsets count from the start of
/// the file. No extension section (its offset is 0, which `ld.so` accepts).
enum LinkerCache {
    struct Entry: Sendable, Hashable {
        /// What `DT_NEEDED` names: the soname.
        var key: String
        /// The absolute path `ld.so` opens.
        var value: String
        var flags: UInt32
    }

    /// `_dl_cache_libcmp`: byte order, except that runs of digits compare as numbers.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0, j = 0
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        while i < a.count {
            if isDigit(a[i]) {
                guard j < b.count, isDigit(b[j]) else { return 1 }
                var left = 0, right = 0
                while i < a.count, isDigit(a[i]) { left = left &* 10 &+ Int(a[i] - 0x30); i += 1 }
                while j < b.count, isDigit(b[j]) { right = right &* 10 &+ Int(b[j] - 0x30); j += 1 }
                if left != right { return left < right ? -1 : 1 }
            } else if j < b.count, isDigit(b[j]) {
                return -1
            } else {
                guard j < b.count else { return 1 }
                if a[i] != b[j] { return Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
        }
        return j < b.count ? -1 : 0
    }

    /// The file: entries sorted as ldconfig sorts them (descending `_dl_cache_libcmp` of the
    /// key, then higher flags first, then the order given), which `ld.so`'s binary search needs.
    static func encode(_ entries: [Entry], bigEndian: Bool) -> [UInt8] {
        let numbers = Numbers(bigEndian: bigEndian)
        let ordered = entries.enumerated().sorted { lhs, rhs in
            let order = compare(Array(lhs.element.key.utf8), Array(rhs.element.key.utf8))
            if order != 0 { return order > 0 }
            if lhs.element.flags != rhs.element.flags { return lhs.element.flags > rhs.element.flags }
            return lhs.offset < rhs.offset
        }.map(\.element)

        let stringsStart = 48 + 24 * ordered.count
        var strings: [UInt8] = []
        var offsets: [String: Int] = [:]
        func offset(of text: String) -> Int {
            if let known = offsets[text] { return known }
            let position = stringsStart + strings.count
            strings += Array(text.utf8) + [0]
            offsets[text] = position
            return position
        }
        var table: [UInt8] = []
        for entry in ordered {
            let valueOffset = offset(of: entry.value)
            // The key is usually the value's last component: share its bytes, as ldconfig does.
            let keyOffset = entry.value.hasSuffix("/" + entry.key)
                ? valueOffset + entry.value.utf8.count - entry.key.utf8.count : offset(of: entry.key)
            table += numbers.bytes(Int32(bitPattern: entry.flags))
            table += numbers.bytes(UInt32(keyOffset)) + numbers.bytes(UInt32(valueOffset))
            table += numbers.bytes(UInt32(0)) + numbers.bytes(UInt64(0))  // osversion, hwcap
        }
        var header = Array("glibc-ld.so.cache".utf8) + Array("1.1".utf8)
        header += numbers.bytes(UInt32(ordered.count)) + numbers.bytes(UInt32(strings.count))
        header += [bigEndian ? 3 : 2, 0, 0, 0]  // cache_file_new_flags_endian_{big,little}
        header += numbers.bytes(UInt32(0))      // extension_offset
        header += [UInt8](repeating: 0, count: 12)
        return header + table + strings
    }
}

extension Composition {
    /// `/etc/ld.so.cache` when `/etc/ld.so.conf` exists (apko's ldconfig emulation; no symlinks
    /// are made). Directories: those of `ld.so.conf` (with `include` globs) first, then `/lib`
    /// and `/usr/lib` as glibc's trusted directories; the same directory reached twice counts
    /// once and the first occurrence of a soname wins, as in ldconfig. Each `lib*.so*`/`ld-*.so*`
    /// shared object becomes an entry from its `DT_SONAME` (or its name) to its path, plus one for
    /// the development link as ldconfig makes it; ELF bytes are read from the packages.
    func writeLinkerCache() throws(RootfsError) {
        guard lookup("etc/ld.so.conf")?.node.kind == .regular else { return }
        var directories: [String] = []
        try collectLinkerDirectories(from: "etc/ld.so.conf", into: &directories, depth: 0)
        directories += ["lib", "usr/lib"]

        var entries: [LinkerCache.Entry] = []
        var seenDirectories = Set<String>()
        for directory in directories {
            guard let resolved = try? tree.resolveDirectory(directory), seenDirectories.insert(resolved).inserted else { continue }
            // Per key: the entry, its file name, and whether the file is named after the key.
            var chosen: [String: (name: String, exact: Bool, entry: LinkerCache.Entry)] = [:]
            for name in tree.sortedChildren(of: resolved) where (name.hasPrefix("lib") || name.hasPrefix("ld-")) && name.contains(".so") {
                let path = Paths.join(resolved, name)
                guard let node = tree[path], node.kind == .regular || node.kind == .symlink,
                      let file = lookup(path)?.node, file.kind == .regular, file.content.size >= 52 else { continue }
                let object = try SharedObject.parse { (offset, count) throws(RootfsError) -> [UInt8] in
                    try reader.bytes(of: file.content, offset: offset, count: count)
                }
                guard let object else { continue }
                let soname = object.soname ?? name
                guard soname.hasPrefix("lib") || soname.hasPrefix("ld-"), !soname.contains("/") else { continue }
                // ldconfig lists a file under its soname, and the development link (`libfoo.so`
                // for `libfoo.so.1`) under its own name; another symlink is an alias it skips. A
                // regular file named otherwise (`libfoo.so.1.2.3`) stands for its soname when
                // no file in the directory is named after it (ldconfig would make that link).
                let key: String
                let exact: Bool
                if name == soname || name == Self.developmentName(of: soname) {
                    (key, exact) = (name, true)
                } else if node.kind == .regular {
                    (key, exact) = (soname, false)
                } else {
                    continue
                }
                if let current = chosen[key] {
                    if current.exact { continue }
                    if !exact && LinkerCache.compare(Array(name.utf8), Array(current.name.utf8)) <= 0 { continue }
                }
                chosen[key] = (name, exact, LinkerCache.Entry(key: key, value: "/" + Paths.join(directory, name), flags: object.flags))
            }
            entries += chosen.keys.sorted().map { chosen[$0]!.entry }
        }
        let bigEndian = request.architecture == "s390x"
        try writeFile("etc/ld.so.cache", .bytes(LinkerCache.encode(entries, bigEndian: bigEndian)), what: "/etc/ld.so.cache")
    }

    /// `libfoo.so` for `libfoo.so.1.2`: the name the linker looks for at build time.
    static func developmentName(of soname: String) -> String {
        if soname.hasSuffix(".so") { return soname }
        let bytes = Array(soname.utf8)
        let marker = Array(".so.".utf8)
        guard bytes.count >= marker.count,
              let start = (0...(bytes.count - marker.count)).last(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }) else {
            return soname
        }
        return String(decoding: bytes[..<start], as: UTF8.self) + ".so"
    }

    /// The directories an `ld.so.conf` names, following `include` globs (at most 8 deep).
    private func collectLinkerDirectories(from path: String, into directories: inout [String], depth: Int) throws(RootfsError) {
        guard depth < 8, let bytes = try readFile(path, limit: 1 << 20) else { return }
        for rawLine in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            var line = rawLine
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            line = line.trimmingCharacters(in: [" ", "\t", "\r"])
            if line.isEmpty { continue }
            if line.hasPrefix("include") && line.dropFirst(7).first.map({ $0 == " " || $0 == "\t" }) == true {
                let pattern = String(line.dropFirst(7).trimmingCharacters(in: [" ", "\t"]))
                let base = pattern.hasPrefix("/") ? "" : Paths.parent(path)
                for match in glob(Paths.join(base, pattern)) {
                    try collectLinkerDirectories(from: match, into: &directories, depth: depth + 1)
                }
            } else if line.hasPrefix("hwcap ") {
                continue
            } else {
                let directory = String(line.split(separator: "=", maxSplits: 1).first ?? line)
                if let normalized = try? Paths.normalize(directory), !directories.contains(normalized) {
                    directories.append(normalized)
                }
            }
        }
    }

    /// Paths matching `pattern` (`*`, `?`, `[...]` within one component), sorted.
    func glob(_ pattern: String) -> [String] {
        var matches = [""]
        for component in Paths.components(pattern) {
            var next: [String] = []
            let hasWildcard = component.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
            for base in matches {
                guard let directory = try? tree.resolveDirectory(base) else { continue }
                if hasWildcard {
                    for name in tree.sortedChildren(of: directory) where !name.hasPrefix(".") || component.hasPrefix(".") {
                        if Glob.matches(Array(component.utf8), Array(name.utf8)) { next.append(Paths.join(base, name)) }
                    }
                } else if (try? tree.resolve(Paths.join(directory, String(component)), followLast: false))?.exists == true {
                    next.append(Paths.join(base, String(component)))
                }
            }
            matches = next
        }
        return matches.filter { !$0.isEmpty }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}

/// `fnmatch` for one path component: `*`, `?`, and bracket expressions with ranges and `!`/`^`.
enum Glob {
    static func matches(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        var p = 0, n = 0
        var starP = -1, starN = 0
        while n < name.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    starP = p
                    starN = n
                    p += 1
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    n += 1
                    continue
                case UInt8(ascii: "["):
                    if let (matched, end) = bracket(pattern, p, name[n]) {
                        if matched {
                            p = end
                            n += 1
                            continue
                        }
                    } else if name[n] == UInt8(ascii: "[") {
                        p += 1
                        n += 1
                        continue
                    }
                default:
                    if pattern[p] == name[n] {
                        p += 1
                        n += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starN += 1
            n = starN
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Whether `byte` matches the bracket expression at `start`, and where it ends; nil when the
    /// `[` does not open a complete expression (it then matches itself).
    private static func bracket(_ pattern: [UInt8], _ start: Int, _ byte: UInt8) -> (Bool, Int)? {
        var index = start + 1
        var negate = false
        if index < pattern.count, pattern[index] == UInt8(ascii: "!") || pattern[index] == UInt8(ascii: "^") {
            negate = true
            index += 1
        }
        var matched = false
        var first = true
        while index < pattern.count {
            let current = pattern[index]
            if current == UInt8(ascii: "]") && !first {
                return (matched != negate, index + 1)
            }
            first = false
            if index + 2 < pattern.count, pattern[index + 1] == UInt8(ascii: "-"), pattern[index + 2] != UInt8(ascii: "]") {
                if byte >= current && byte <= pattern[index + 2] { matched = true }
                index += 3
            } else {
                if byte == current { matched = true }
                index += 1
            }
        }
        return nil
    }
}
