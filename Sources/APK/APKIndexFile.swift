import Archive
import DistillCrypto

/// A signed `APKINDEX.tar.gz`: `gzip(signature tar, cut) || gzip(tar{DESCRIPTION?, APKINDEX})`
/// (reference/apk-format.md §3.1), read and verified in one streaming pass.
///
/// The signatures cover every byte after the signature member(s). While the rest streams past it
/// is hashed once per digest the usable signatures need; any signature whose key is in the
/// keyring and verifies makes the index trusted (apko's rule for multi-signed indexes).
public struct APKIndexFile: Sendable {
    /// The outcome of the signature check.
    public enum SignatureStatus: Sendable, Hashable {
        /// These signers' signatures verified (at least one).
        case verified([Signer])
        /// Every signature by a key in the keyring failed; each signer with the reason.
        case bad([Signer], reasons: [String])
        /// Signed, but by no key in the keyring; the key names it was signed with.
        case untrusted(keyNames: [String])
        /// No signature member.
        case unsigned

        /// Whether the index may be used.
        public var isTrusted: Bool {
            if case .verified = self { return true }
            return false
        }
    }

    /// The content of the `DESCRIPTION` entry (e.g. `v3.16.3-13-g4d933a1fa3`), if any.
    public var description: String?
    /// The parsed records, in file order.
    public var packages: [PackageInfo]
    /// Every `.SIGN.*` entry of the signature section, in file order.
    public var signatures: [SignatureEntry]
    /// The signature check.
    public var signature: SignatureStatus
    /// The size of the file in bytes.
    public var fileSize: Int64

    /// apko's cap on a decompressed index.
    public static let defaultMaximumSize: Int64 = 300 << 20

    /// The error an untrusted index gets, or nil for a trusted one.
    public func trustError(source: String) -> APKError? {
        switch signature {
        case .verified:
            return nil
        case .unsigned:
            return APKError(.unsigned, "UNTRUSTED index: it is not signed", source: source)
        case .untrusted(let keyNames):
            return APKError(.untrusted, "UNTRUSTED index: signed by \(keyNames.joined(separator: ", ")), none of which is in the keyring",
                            source: source)
        case .bad(let signers, let reasons):
            let detail = zip(signers, reasons).map { "\($0): \($1)" }.joined(separator: "; ")
            return APKError(.badSignature, "BAD signature: \(detail)", source: source)
        }
    }

    /// Reads and verifies the index at `path`. See ``read(from:name:keyring:requiresTrust:maximumSize:)``.
    public static func read(
        path: String, keyring: Keyring, requiresTrust: Bool = true, maximumSize: Int64 = defaultMaximumSize
    ) throws -> APKIndexFile {
        let source: FileDescriptorSource
        do {
            source = try FileDescriptorSource(path: path)
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: path)
        }
        defer { try? source.close() }
        return try read(from: source, name: path, keyring: keyring, requiresTrust: requiresTrust, maximumSize: maximumSize)
    }

    /// Reads an index from `source`, verifying its signatures against `keyring`.
    ///
    /// - Parameters:
    ///   - name: the file or URL, named in errors.
    ///   - requiresTrust: throw (`.untrusted`, `.unsigned` or `.badSignature`, naming the index and
    ///     the keys it was signed with) unless a signature verifies; false returns the content with
    ///     its `signature` status, for showing an index.
    ///   - maximumSize: cap on the decompressed archive (`.tooLarge` beyond it).
    /// - Throws: `APKError` — `.malformedIndex` for a broken archive, no `APKINDEX` entry or bad
    ///   records (a record without `P:` or `V:`), `.tooLarge`, `.io`, and the trust errors above.
    public static func read(
        from source: any ByteSource, name: String, keyring: Keyring, requiresTrust: Bool = true,
        maximumSize: Int64 = defaultMaximumSize
    ) throws -> APKIndexFile {
        let stream = IndexStream(keyring: keyring)
        let gzip: GzipReader
        do {
            gzip = try GzipReader(source: source, maximumDecompressedSize: maximumSize, observer: stream)
        } catch let error as ArchiveError {
            throw APKError(.malformedIndex, error.message, source: name)
        }
        do {
            let tar = TarReader(source: gzip)
            var description: String?
            var parsedIndex: Result<[PackageInfo], APKError>?
            while let entry = try tar.next() {
                if !stream.contentStarted, entry.name.hasPrefix(".SIGN.") {
                    let content = try tar.readContent(limit: 64 * 1024)
                    if let signature = SignatureEntry(entryName: entry.name, signature: content) {
                        stream.signatures.append(signature)
                    }
                    continue
                }
                stream.contentStarted = true
                guard entry.kind == .regular else { continue }
                switch entry.name {
                case "DESCRIPTION": description = String(decoding: try tar.readContent(limit: 64 * 1024), as: UTF8.self)
                case "APKINDEX": parsedIndex = try parseIndexEntry(tar, size: entry.size, maximumSize: maximumSize, name: name)
                default: continue
                }
            }
            try gzip.drainToEnd()
            let status = stream.finish()
            guard let parsedIndex else {
                throw APKError(.malformedIndex, "the archive has no APKINDEX entry", source: name)
            }
            let index = APKIndexFile(description: description, packages: try parsedIndex.get(),
                                     signatures: stream.signatures, signature: status, fileSize: gzip.compressedOffset)
            if requiresTrust, let error = index.trustError(source: name) { throw error }
            return index
        } catch let error as ArchiveError {
            switch error.kind {
            case .io: throw APKError(.io, error.message, source: name)
            case .tooLarge where gzip.decompressedOffset > maximumSize:
                throw APKError(.tooLarge, "the index decompresses to more than \(maximumSize) bytes", source: name)
            case .tooLarge: throw APKError(.tooLarge, error.message, source: name)
            default: throw APKError(.malformedIndex, error.message, source: name)
            }
        } catch let error as APKError {
            throw error.located(at: name)
        }
    }

    /// How much index text is inflated and parsed at a time: small enough to stay in the CPU's
    /// cache between the two, large enough that per-piece costs vanish.
    static let parsePieceSize = 128 * 1024
    /// From this size on, the text is parsed on a second thread while it is inflated; below it,
    /// handing pieces between threads would cost more than it saves.
    static let pipelinedParseSize = 512 * 1024

    /// Parses the `APKINDEX` entry while it is inflated, a piece at a time, so the text is never
    /// held whole. A fault in the text is returned rather than thrown, and reported only after the
    /// rest of the archive was read and checked: archive errors come first, as when the whole text
    /// is read before it is parsed.
    private static func parseIndexEntry(_ tar: TarReader, size: Int64, maximumSize: Int64, name: String) throws
        -> Result<[PackageInfo], APKError>
    {
        guard size <= maximumSize else {
            throw APKError(.tooLarge, "content of 'APKINDEX' is \(size) bytes, over the \(maximumSize)-byte limit", source: name)
        }
        if size >= pipelinedParseSize {
            let pipeline = PipelinedIndexParser(source: name, expectedSize: Int(size), pieceSize: parsePieceSize, depth: 4)
            defer { pipeline.waitUntilIdle() }
            while try pipeline.push({ try tar.readContent(into: $0) }) {}
            return pipeline.finish()
        }
        var parser = IndexTextParser(source: name, expectedSize: Int(size))
        var fault: APKError?
        let piece = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: parsePieceSize)
        defer { piece.deallocate() }
        while true {
            let count = try tar.readContent(into: UnsafeMutableRawBufferPointer(piece))
            if count == 0 { break }
            guard fault == nil else { continue }
            do {
                try parser.feed(UnsafeBufferPointer(rebasing: piece[..<count]))
            } catch let error as APKError {
                fault = error
            }
        }
        if let fault { return .failure(fault) }
        do {
            return .success(try parser.finish())
        } catch let error as APKError {
            return .failure(error)
        }
    }
}

/// Hashes the compressed bytes after the signature members with each digest a usable signature
/// needs, and verifies them at the end.
private final class IndexStream: GzipMemberObserver {
    let keyring: Keyring
    var signatures: [SignatureEntry] = []
    var contentStarted = false
    private var hashers: [DigestAlgorithm: DigestHasher] = [:]
    private var hashingStarted = false

    init(keyring: Keyring) {
        self.keyring = keyring
    }

    /// The signatures apk could check: a known RSA type and a key in the keyring.
    private var candidates: [(SignatureEntry, RSAPublicKey, SignatureAlgorithm)] {
        signatures.compactMap { entry in
            guard let algorithm = entry.algorithm, algorithm.digest != nil, let key = keyring.key(named: entry.keyName) else { return nil }
            return (entry, key, algorithm)
        }
    }

    func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws {
        for algorithm in hashers.keys { hashers[algorithm]!.update(bytes) }
    }

    func gzipReaderDidEnd(_ member: GzipMember) throws {
        guard !contentStarted else { return }
        // A member of signatures only: the signed bytes start after it.
        hashers = [:]
        for (_, _, algorithm) in candidates {
            if let digest = algorithm.digest { hashers[digest] = DigestHasher(digest) }
        }
        hashingStarted = true
    }

    func finish() -> APKIndexFile.SignatureStatus {
        if signatures.isEmpty { return .unsigned }
        let usable = candidates
        if usable.isEmpty { return .untrusted(keyNames: signatures.map(\.keyName)) }
        var verified: [Signer] = []
        var failed: [Signer] = []
        var reasons: [String] = []
        for (entry, key, algorithm) in usable {
            let signer = Signer(keyName: entry.keyName, algorithm: algorithm)
            guard hashingStarted, let digest = algorithm.digest, let hasher = hashers[digest] else {
                failed.append(signer)
                reasons.append("the signature shares a gzip member with the index, so it cannot cover it")
                continue
            }
            do {
                if try key.isValidSignature(entry.signature, for: hasher.finalize()) {
                    verified.append(signer)
                } else {
                    failed.append(signer)
                    reasons.append("the signature does not match the index")
                }
            } catch {
                failed.append(signer)
                reasons.append(error.message)
            }
        }
        return verified.isEmpty ? .bad(failed, reasons: reasons) : .verified(verified)
    }
}

/// Writes `APKINDEX.tar.gz` as `apk index` and abuild-sign make it.
public enum APKIndexWriter {
    /// Records in apk's index order: by name (case-insensitive, then case-sensitive), then version,
    /// then checksum so equal versions from different builds still sort the same every time.
    public static func sorted(_ packages: [PackageInfo]) -> [PackageInfo] {
        packages.sorted { a, b in
            let foldedA = a.name.lowercased(), foldedB = b.name.lowercased()
            if foldedA != foldedB { return foldedA.utf8.lexicographicallyPrecedes(foldedB.utf8) }
            if a.name != b.name { return a.name.utf8.lexicographicallyPrecedes(b.name.utf8) }
            let versionA = a.apkVersion, versionB = b.apkVersion
            if versionA != versionB { return versionA < versionB }
            return (a.checksum ?? "").utf8.lexicographicallyPrecedes((b.checksum ?? "").utf8)
        }
    }

    /// The unsigned archive: one gzip member holding a GNU-format tar of `DESCRIPTION` (when
    /// given; its text without a newline) and `APKINDEX` (records sorted as `sorted`), both mode
    /// 0644 root/root with `modificationTime`, then the end-of-archive blocks.
    public static func unsignedArchive(packages: [PackageInfo], description: String?, modificationTime: Int64) throws -> [UInt8] {
        let memory = MemorySink()
        do {
            let gzip = try GzipWriter(sink: memory, level: 9)
            let tar = TarWriter(sink: gzip, format: .gnu)
            func file(_ name: String, _ content: [UInt8]) throws {
                let entry = TarEntry(name: name, mode: 0o644, userName: "root", groupName: "root",
                                     size: Int64(content.count), modificationTime: modificationTime)
                try tar.append(entry, content: content)
            }
            if let description { try file("DESCRIPTION", Array(description.utf8)) }
            try file("APKINDEX", Array(IndexText.write(sorted(packages)).utf8))
            try tar.finish(.endBlocks)
            try gzip.finish()
        } catch let error as ArchiveError {
            throw APKError(.malformedIndex, "cannot write the index archive: \(error.message)")
        }
        return memory.bytes
    }

    /// A signed index: the signature member over `unsignedArchive`'s bytes, then those bytes.
    public static func signedArchive(
        packages: [PackageInfo], description: String?, modificationTime: Int64, key: SigningKey,
        algorithm: SignatureAlgorithm = .rsaSHA1
    ) throws -> [UInt8] {
        let body = try unsignedArchive(packages: packages, description: description, modificationTime: modificationTime)
        let signature = try key.signature(for: body, algorithm: algorithm)
        return try SignatureMember.bytes(signature: signature, key: key, algorithm: algorithm, modificationTime: modificationTime)
            + body
    }

    /// The index records of the packages at `paths`, read in one pass each: every package must be
    /// well formed with a datahash that holds; with a keyring, its signature must also verify
    /// against it (as `apk index` requires without
    /// `--allow-untrusted`). The records carry `C:` and `S:` from the files.
    public static func records(forPackagesAt paths: [String], keyring: Keyring?) throws -> [PackageInfo] {
        var records: [PackageInfo] = []
        for path in paths {
            let file = try APKFile.read(path: path, options: APKFile.Options(keyring: keyring ?? Keyring(),
                                                                              requiresSignature: keyring != nil,
                                                                              listsDataEntries: false))
            try file.requireVerified(source: path)
            var record = file.info
            record.dataHash = nil
            records.append(record)
        }
        return records
    }

    /// Writes a signed index to `path` atomically.
    public static func write(
        packages: [PackageInfo], description: String?, modificationTime: Int64, key: SigningKey,
        algorithm: SignatureAlgorithm = .rsaSHA1, to path: String
    ) throws {
        let bytes = try signedArchive(packages: packages, description: description, modificationTime: modificationTime,
                                      key: key, algorithm: algorithm)
        try AtomicFile.write(bytes, to: path)
    }
}
