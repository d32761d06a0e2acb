import Archive
import DistillCrypto

/// What one streaming pass over an `.apk` found: the package's metadata, its identity, the
/// verdict of each of the three independent checks, where its sections are in the file, its
/// install scripts, and (when asked) every data entry with its offset in the expanded data tar.
///
/// An `.apk` is `gzip(signature tar) || gzip(control tar) || gzip(data tar)` read as one tar
/// stream (reference/apk-format.md §1). `read` runs one `TarReader` over a `GzipReader` whose
/// member observer hashes the compressed bytes exactly as stored:
///
/// - **signature**: the first `.SIGN.RSA*.<key>` entry whose key is in the keyring (apk's rule:
///   later ones are ignored, DSA is ignored) is verified over the control member's bytes with the
///   entry's digest — or over control + data for legacy packages without `datahash`;
/// - **identity** (`C:`): `Q1` + base64(SHA-1) over the same bytes the signature covers;
/// - **datahash**: SHA-256 over every byte after the control member (all data members), compared
///   with `.PKGINFO`'s `datahash`.
///
/// A member is a signature member when all of its entries are `.SIGN.*`; the first member holding
/// anything else is the control member, and everything after it is data. Memory stays bounded:
/// content is streamed, only `.PKGINFO`, scripts and signatures (all under the control cap) are
/// held, plus the list of data entries when asked for.
public struct APKFile: Sendable {
    /// How to read and what to require.
    public struct Options: Sendable {
        /// The trusted keys for the package's own signature.
        public var keyring: Keyring
        /// Whether the package's own signature must verify (`apk verify`, `apk add ./FILE.apk`).
        /// apk ignores `.SIGN` when the package comes from a signed index; then set this to false
        /// and pass the index's `C:` as `expectedChecksum`.
        public var requiresSignature: Bool
        /// The `C:` the package must have (from a signed index or a lock file), `Q1…` or `X1…`.
        public var expectedChecksum: String?
        /// Throw as soon as a required check fails — at the end of the control section for the
        /// signature and the identity, at the end for datahash — instead of reporting it in the
        /// result. Use it whenever the data is consumed while it is read.
        public var stopsAtFirstFailure: Bool
        /// Cap on the decompressed signature + control sections (apk's are a few KiB).
        public var maximumControlSize: Int64
        /// Cap on the decompressed data section.
        public var maximumDataSize: Int64
        /// Whether `dataEntries` is filled in (a package with a million files costs memory).
        public var listsDataEntries: Bool
        /// Cap on the tar entries of the whole package (signature, control and data): a tar bomb
        /// of millions of empty entries is refused here instead of being listed.
        public var maximumEntryCount: Int
        /// Throw as soon as the control section is known not to hash to `expectedChecksum`, even
        /// when ``stopsAtFirstFailure`` is off: a package that is not the one asked for is never
        /// decompressed further. The error's kind is ``APKError/Kind/checksumMismatch`` and its
        /// message is `its C: is <identity>, the index says <expected>`.
        public var stopsAtIdentityMismatch: Bool
        /// Refuse a package that writes through one of its own symbolic links or hard-links to
        /// anything but an earlier file of its own (on by default; the rootfs refuses both again
        /// when it installs, and its tests turn this off to exercise that second line).
        public var refusesLinkEscapes: Bool

        /// The default ``maximumEntryCount``: far more files than any real package has.
        public static let defaultMaximumEntryCount = 1_000_000

        /// Options; the defaults verify like `apk verify` and report rather than throw.
        public init(
            keyring: Keyring = Keyring(),
            requiresSignature: Bool = true,
            expectedChecksum: String? = nil,
            stopsAtFirstFailure: Bool = false,
            maximumControlSize: Int64 = 10 << 20,
            maximumDataSize: Int64 = 16 << 30,
            listsDataEntries: Bool = true,
            maximumEntryCount: Int = defaultMaximumEntryCount,
            stopsAtIdentityMismatch: Bool = false,
            refusesLinkEscapes: Bool = true
        ) {
            self.keyring = keyring
            self.requiresSignature = requiresSignature
            self.expectedChecksum = expectedChecksum
            self.stopsAtFirstFailure = stopsAtFirstFailure
            self.maximumControlSize = maximumControlSize
            self.maximumDataSize = maximumDataSize
            self.listsDataEntries = listsDataEntries
            self.maximumEntryCount = maximumEntryCount
            self.stopsAtIdentityMismatch = stopsAtIdentityMismatch
            self.refusesLinkEscapes = refusesLinkEscapes
        }

        /// Installing a package from a signed index: `.SIGN` is not required (apk ignores it), `C:`
        /// must equal `checksum` and datahash must hold; the first failure throws.
        public static func installing(checksum: String, maximumDataSize: Int64 = 16 << 30) -> Options {
            Options(requiresSignature: false, expectedChecksum: checksum, stopsAtFirstFailure: true,
                    maximumDataSize: maximumDataSize)
        }
    }

    /// The overall result, in apk-tools' order of precedence (reference §10.4).
    public enum Verdict: String, Sendable, Hashable, CustomStringConvertible {
        /// Every required check passed.
        case ok = "OK"
        /// Signed, but by no key in the keyring.
        case untrusted = "UNTRUSTED"
        /// No signature member at all.
        case unsigned = "unsigned"
        /// The signature by a trusted key does not verify.
        case badSignature = "BAD signature"
        /// `C:` differs from the expected checksum.
        case checksumMismatch = "BAD checksum"
        /// The data section does not hash to `datahash`.
        case badDataHash = "BAD datahash"

        /// What `distill apk verify` prints.
        public var description: String { rawValue }
    }

    /// The outcome of the signature check.
    public enum SignatureStatus: Sendable, Hashable {
        /// Verified with a key from the keyring.
        case verified(Signer)
        /// A key from the keyring was used and the signature does not match (`reason` says how).
        case bad(Signer, reason: String)
        /// Signed, but no signature names a key in the keyring; the names it does carry.
        case untrusted(keyNames: [String])
        /// No `.SIGN.*` entry.
        case unsigned
    }

    /// The outcome of the datahash check.
    public enum DataHashStatus: Sendable, Hashable {
        /// SHA-256 of the data section equals `.PKGINFO`'s `datahash`.
        case matches
        /// They differ (lowercase hex both).
        case mismatch(expected: String, actual: String)
        /// A legacy package without `datahash`; its signature and identity cover the data.
        case absent
    }

    /// Where one section is in the file, and its checksum: SHA-1 for the signature and control
    /// sections, SHA-256 for the data section (what apko's lock file records).
    public struct Section: Sendable, Hashable {
        /// Offset of the first byte in the file.
        public var offset: Int64
        /// Length in bytes.
        public var length: Int64
        /// The digest of exactly those bytes.
        public var digest: Digest

        /// An HTTP range, `bytes=FIRST-LAST` (inclusive), as apko's lock file writes it.
        public var httpRange: String { "bytes=\(offset)-\(offset + length - 1)" }

        /// `sha1-<base64>` / `sha256-<base64>`, as apko's lock file writes it.
        public var checksum: String { "\(digest.algorithm)-\(digest.base64)" }
    }

    /// An install script from the control section.
    public struct Script: Sendable, Hashable {
        /// Which script.
        public var kind: ScriptKind
        /// Its bytes.
        public var content: [UInt8]

        /// A script.
        public init(kind: ScriptKind, content: [UInt8]) {
            self.kind = kind
            self.content = content
        }
    }

    /// The install scripts apk knows (apk-tools `apk_script_types[]`), in the order abuild
    /// writes them.
    public enum ScriptKind: String, Sendable, Hashable, CaseIterable {
        /// `.pre-install`.
        case preInstall = "pre-install"
        /// `.post-install`.
        case postInstall = "post-install"
        /// `.pre-deinstall`.
        case preDeinstall = "pre-deinstall"
        /// `.post-deinstall`.
        case postDeinstall = "post-deinstall"
        /// `.pre-upgrade`.
        case preUpgrade = "pre-upgrade"
        /// `.post-upgrade`.
        case postUpgrade = "post-upgrade"
        /// `.trigger`.
        case trigger = "trigger"

        /// The control-section file name, with its leading dot.
        public var fileName: String { "." + rawValue }
    }

    /// A per-file checksum from the PAX record `APK-TOOLS.checksum.SHA1` (or `.MD5`), which apk
    /// copies into the installed db's `Z:` line.
    public struct FileChecksum: Sendable, Hashable {
        /// The algorithm named by the record.
        public enum Algorithm: String, Sendable, Hashable {
            /// `APK-TOOLS.checksum.SHA1`, 20 bytes.
            case sha1 = "SHA1"
            /// `APK-TOOLS.checksum.MD5`, 16 bytes (very old packages).
            case md5 = "MD5"
        }
        /// The algorithm.
        public var algorithm: Algorithm
        /// The raw digest.
        public var bytes: [UInt8]

        /// The installed-db form: `Q1<base64>` for SHA-1, hex for MD5 (as apk writes them).
        public var installedDatabaseForm: String {
            algorithm == .sha1 ? "Q1" + Base64.encode(bytes) : Hex.encode(bytes)
        }
    }

    /// One installable entry of the data section.
    public struct DataEntry: Sendable, Hashable {
        /// The path as stored, without a trailing `/`; never absolute, never with `.`/`..`.
        public var path: String
        /// File, directory, symlink, hard link, device or fifo.
        public var kind: TarEntry.Kind
        /// Permission bits including setuid, setgid and sticky (`& 0o7777`).
        public var mode: UInt32
        /// Owner id.
        public var uid: Int
        /// Group id.
        public var gid: Int
        /// Owner name (apk resolves it against the target's /etc/passwd); may be empty.
        public var userName: String
        /// Group name; may be empty.
        public var groupName: String
        /// Modification time, Unix seconds.
        public var modificationTime: Int64
        /// Content size (regular files).
        public var size: Int64
        /// Symlink target, or for a hard link the earlier entry's path.
        public var linkTarget: String
        /// Device major number (devices only).
        public var deviceMajor: UInt32
        /// Device minor number (devices only).
        public var deviceMinor: UInt32
        /// Extended attributes (`SCHILY.xattr.*`).
        public var extendedAttributes: [String: [UInt8]]
        /// The per-file checksum apk records, when the package carries one.
        public var checksum: FileChecksum?
        /// Offset of the entry's first header block (PAX header included) in the expanded data tar.
        public var headerOffset: Int64
        /// Offset of the entry's content in the expanded data tar: a regular file's bytes are
        /// `size` bytes from here.
        public var contentOffset: Int64
    }

    /// The package's `.PKGINFO`, with `checksum` (`C:`) and `fileSize` (`S:`) filled in from the file.
    public var info: PackageInfo
    /// The identity checksum, `Q1…` (also in `info.checksum`).
    public var identity: String
    /// Every `.SIGN.*` entry of the signature section, in file order.
    public var signatures: [SignatureEntry]
    /// The signature check.
    public var signature: SignatureStatus
    /// The datahash check.
    public var dataHash: DataHashStatus
    /// Whether `identity` equals `Options.expectedChecksum`; nil when none was given.
    public var identityMatches: Bool?
    /// Whether the signature was required (`Options.requiresSignature`).
    public var requiresSignature: Bool
    /// Where the signature section is; nil for an unsigned package.
    public var signatureSection: Section?
    /// Where the control section is.
    public var controlSection: Section
    /// Where the data section is.
    public var dataSection: Section
    /// The install scripts, in control-section order.
    public var scripts: [Script]
    /// The installable data entries in archive order (empty unless `Options.listsDataEntries`).
    public var dataEntries: [DataEntry]
    /// Data entries skipped as apk skips them: names starting with `.`, and `.keep_*` files.
    public var skippedDataEntries: [String]
    /// Bytes of the expanded data tar written to the sink given to `read` (0 without one).
    public var expandedDataSize: Int64
    /// Things apk would warn about (e.g. a deprecated `.INSTALL`, several data members).
    public var warnings: [String]

    /// The overall verdict: the first failing required check, in apk's order (untrusted,
    /// unsigned, bad signature, then the identity, then datahash).
    public var verdict: Verdict {
        if requiresSignature {
            switch signature {
            case .untrusted: return .untrusted
            case .unsigned: return .unsigned
            case .bad: return .badSignature
            case .verified: break
            }
        }
        if identityMatches == false { return .checksumMismatch }
        if case .mismatch = dataHash { return .badDataHash }
        return .ok
    }

    /// Throws the error for the verdict unless it is `.ok`.
    public func requireVerified(source: String? = nil) throws {
        if let error = APKFile.error(for: verdict, signature: signature, dataHash: dataHash, identity: identity,
                                     source: source ?? info.fileName) {
            throw error
        }
    }

    static func error(for verdict: Verdict, signature: SignatureStatus, dataHash: DataHashStatus, identity: String,
                      expected: String? = nil, source: String) -> APKError? {
        switch verdict {
        case .ok:
            return nil
        case .untrusted:
            var names: [String] = []
            if case .untrusted(let keyNames) = signature { names = keyNames }
            return APKError(.untrusted, "UNTRUSTED signature: signed by \(names.joined(separator: ", ")), which is not in the keyring",
                            source: source)
        case .unsigned:
            return APKError(.unsigned, "the package is not signed", source: source)
        case .badSignature:
            var detail = ""
            if case .bad(let signer, let reason) = signature { detail = ": \(signer): \(reason)" }
            return APKError(.badSignature, "BAD signature\(detail)", source: source)
        case .checksumMismatch:
            let wanted = expected.map { " instead of \($0)" } ?? ""
            return APKError(.checksumMismatch, "BAD checksum: the control section hashes to \(identity)\(wanted)", source: source)
        case .badDataHash:
            var detail = ""
            if case .mismatch(let expected, let actual) = dataHash { detail = ": datahash is \(expected), the data hashes to \(actual)" }
            return APKError(.badDataHash, "BAD datahash\(detail)", source: source)
        }
    }

    /// Reads, verifies and (optionally) expands the `.apk` at `path`. See ``read(from:name:options:expandingDataTo:)``.
    public static func read(path: String, options: Options = Options(), expandingDataTo sink: (any ByteSink)? = nil) throws -> APKFile {
        let source: FileDescriptorSource
        do {
            source = try FileDescriptorSource(path: path)
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: path)
        }
        defer { try? source.close() }
        return try read(from: source, name: path, options: options, expandingDataTo: sink)
    }

    /// Reads an `.apk` from `source` in one pass.
    ///
    /// - Parameters:
    ///   - name: the file or URL, named in errors.
    ///   - sink: when given, receives the decompressed data tar while it is read (from the first
    ///     byte of the data section to its end-of-archive blocks); `DataEntry.contentOffset` points
    ///     into these bytes. The caller must not use them unless `read` returns a result whose
    ///     `verdict` is `.ok` (with `stopsAtFirstFailure`, `read` throws otherwise).
    /// - Throws: `APKError` — `.malformedPackage` for a broken archive (bad gzip or tar, unsafe
    ///   names, no `.PKGINFO`), `.tooLarge` for a section over its cap, `.malformedPackageInfo`,
    ///   `.io`; with `stopsAtFirstFailure`, also the error of the first failing check.
    public static func read(
        from source: any ByteSource, name: String, options: Options = Options(), expandingDataTo sink: (any ByteSink)? = nil
    ) throws -> APKFile {
        let (stream, gzip) = try startReading(source, name: name, options: options)
        let splitter = DataSplitter(gzip: gzip, stream: stream, sink: sink)
        let tar = TarReader(source: splitter, limits: TarReader.Limits(maximumEntryCount: options.maximumEntryCount))
        do {
            while let entry = try tar.next() {
                try stream.process(entry, tar: tar)
            }
            try gzip.drainToEnd()
            return try stream.finish(fileSize: gzip.compressedOffset, expandedSize: splitter.expandedSize)
        } catch let error as ArchiveError {
            throw stream.translate(error, gzip: gzip)
        } catch let error as APKError {
            throw error.located(at: name)
        }
    }
}

extension APKFile {
    /// An earlier expansion of a package's data section, as whoever wrote it recorded it when the
    /// package verified: the file, its size and SHA-256, and the `datahash` it was expanded from.
    public struct Expansion: Sendable, Hashable {
        /// The expanded data tar.
        public var path: String
        /// Its length in bytes.
        public var size: Int64
        /// SHA-256 of its bytes.
        public var digest: Digest
        /// The `.PKGINFO` `datahash` (hex) of the package it was expanded from.
        public var dataHash: String

        /// Describes the expansion at `path`.
        public init(path: String, size: Int64, digest: Digest, dataHash: String) {
            self.path = path
            self.size = size
            self.digest = digest
            self.dataHash = dataHash
        }
    }

    /// Starts reading a package: the stream that checks it against `options` (and the expected
    /// checksum, which must be a Q1/X1 SHA-1) and the gzip reader over its first member.
    private static func startReading(_ source: any ByteSource, name: String, options: Options) throws -> (PackageStream, GzipReader) {
        var expectedSHA1: [UInt8]?
        if let expected = options.expectedChecksum {
            guard let bytes = PackageIdentity.sha1Bytes(expected) else {
                throw APKError(.checksumMismatch, "expected checksum '\(expected)' is not a Q1/X1 SHA-1 checksum", source: name)
            }
            expectedSHA1 = bytes
        }
        let stream = PackageStream(options: options, expectedSHA1: expectedSHA1, name: name)
        let gzip: GzipReader
        do {
            gzip = try GzipReader(source: source, maximumDecompressedSize: options.maximumControlSize, observer: stream)
        } catch let error as ArchiveError {
            throw APKError(.malformedPackage, error.message, source: name)
        }
        stream.gzip = gzip
        return (stream, gzip)
    }

    /// Verifies the `.apk` at `path` as ``read(path:options:expandingDataTo:)`` does, without
    /// decompressing its data section: signatures, identity and `.PKGINFO` come from the control
    /// section as usual; `datahash` is checked over the data section's compressed bytes as stored
    /// (which is what it covers, so no inflation is needed); the data entries are listed from
    /// `expansion`, which must hash to its recorded digest and size and come from this `datahash`.
    ///
    /// This is what makes a warm build cheap: hashing runs at GB/s, inflating at a few hundred
    /// MB/s. The expansion itself is trusted as far as its recorded digest goes (it was produced
    /// by inflating a data section that verified, and is checked byte for byte against that
    /// record); the package is verified in full either way.
    ///
    /// - Returns: nil when this package cannot be read this way — a legacy package without
    ///   `datahash` (its signature covers the data), or an expansion that is not the recorded
    ///   one, or of another `datahash` — so the caller reads it in full instead.
    /// - Throws: what ``read(path:options:expandingDataTo:)`` throws for the control section.
    public static func read(path: String, options: Options, expansion: Expansion) throws -> APKFile? {
        let source: FileDescriptorSource
        do {
            source = try FileDescriptorSource(path: path)
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: path)
        }
        defer { try? source.close() }
        let (stream, gzip) = try startReading(source, name: path, options: options)
        let tar = TarReader(source: DataSplitter(gzip: gzip, stream: stream, sink: nil))
        do {
            // Up to the first data entry: reading its header ends the control member.
            while !stream.hasReadControl, let entry = try tar.next() {
                try stream.process(entry, tar: tar)
            }
        } catch let error as ArchiveError {
            throw stream.translate(error, gzip: gzip)
        } catch let error as APKError {
            throw error.located(at: path)
        }
        guard stream.hasReadControl, let dataHash = stream.packageDataHash, dataHash.lowercased() == expansion.dataHash.lowercased(),
              expansion.size <= options.maximumDataSize else { return nil }

        let fileSize: Int64
        let dataDigest: Digest
        do {
            let data = try FileDescriptorSource(path: path, offset: stream.controlEndOffset)
            defer { try? data.close() }
            let hasher = SHA256Sink()
            let length = try data.copy(to: hasher)
            fileSize = stream.controlEndOffset + length
            dataDigest = hasher.finalize()
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: path)
        }

        do {
            let file = try FileDescriptorSource(path: expansion.path)
            defer { try? file.close() }
            let hasher = SHA256Sink()
            let hashed = TeeSource(file, observer: hasher)
            try stream.adoptExpansion(TarReader(source: hashed), dataDigest: dataDigest)
            // The end blocks and whatever padding followed them in the data tar.
            _ = try hashed.copy(to: ClosureSink { _ in })
            guard hasher.count == expansion.size, hasher.finalize() == expansion.digest else { return nil }
        } catch let error as APKError {
            throw error.located(at: path)
        } catch {
            // An expansion that does not read back as the tar it was is not this package's.
            return nil
        }
        do {
            return try stream.finish(fileSize: fileSize, expandedSize: expansion.size)
        } catch let error as APKError {
            throw error.located(at: path)
        }
    }
}

/// SHA-256 and length of the bytes written to it.
private final class SHA256Sink: ByteSink {
    private var hasher = DigestHasher(.sha256)
    private(set) var count: Int64 = 0

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bytes)
        count += Int64(bytes.count)
    }

    func finalize() -> Digest { hasher.finalize() }
}

/// Hands the decompressed stream to the tar reader and copies the data section's bytes to the
/// caller's sink. A `GzipReader` read never spans two members, and the control member's end is
/// reported before any byte of the next member is returned, so every byte at or after
/// `stream.dataStart` belongs to the data section.
private final class DataSplitter: ByteSource {
    let gzip: GzipReader
    let stream: PackageStream
    let sink: (any ByteSink)?
    private var position: Int64 = 0
    private(set) var expandedSize: Int64 = 0

    init(gzip: GzipReader, stream: PackageStream, sink: (any ByteSink)?) {
        self.gzip = gzip
        self.stream = stream
        self.sink = sink
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try gzip.read(into: buffer)
        if count > 0, let sink, let dataStart = stream.dataStart {
            let skip = Int(max(0, min(Int64(count), dataStart - position)))
            if skip < count {
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[skip..<count]))
                expandedSize += Int64(count - skip)
            }
        }
        position += Int64(count)
        return count
    }
}

/// The state of one pass: what the tar entries said so far (signatures, `.PKGINFO`, scripts,
/// data entries) and what the compressed bytes hash to, section by section.
private final class PackageStream: GzipMemberObserver {
    let options: APKFile.Options
    let expectedSHA1: [UInt8]?
    let name: String
    weak var gzip: GzipReader?

    // What the entries said.
    private var signatures: [SignatureEntry] = []
    private var chosen: (entry: SignatureEntry, key: RSAPublicKey, algorithm: SignatureAlgorithm)?
    private var controlStarted = false
    private var info: PackageInfo?
    private var scripts: [APKFile.Script] = []
    private var dataEntries: [APKFile.DataEntry] = []
    private var skippedDataEntries: [String] = []
    /// The package's symbolic links and regular files so far, for ``checkLinks(_:path:)``.
    private var symbolicLinkPaths: Set<String> = []
    private var regularFilePaths: Set<String> = []
    private var warnings: [String] = []

    // What the bytes hash to.
    private var controlEnded = false
    private var isLegacy = false
    /// SHA-1 of everything from the first byte, until the control member ends; snapshotted at
    /// each signature member's end.
    private var prefixHasher = DigestHasher(.sha1)
    private var signatureSectionDigest: Digest?
    private var signatureSectionEnd: Int64 = 0
    /// SHA-1 since the last signature member: the identity (and an RSA/SHA-1 signature's digest).
    private var identityHasher = DigestHasher(.sha1)
    /// The chosen signature's digest when it is not SHA-1.
    private var signedHasher: DigestHasher?
    private var dataHasher = DigestHasher(.sha256)
    /// The data section's digest when it was hashed apart from the stream (see `adoptExpansion`).
    private var externalDataDigest: Digest?
    private var controlDigest: Digest?
    private var controlEnd: Int64 = 0
    private var dataMemberCount = 0
    private var signatureStatus: APKFile.SignatureStatus?
    private var identityDigest: Digest?
    private var identityMatches: Bool?
    /// Where the data section starts in the decompressed stream, once the control member ended.
    private(set) var dataStart: Int64?

    /// The largest `.SIGN.*` entry accepted: an RSA-16384 signature is 2 KiB.
    static let maximumSignatureSize = 64 * 1024

    init(options: APKFile.Options, expectedSHA1: [UInt8]?, name: String) {
        self.options = options
        self.expectedSHA1 = expectedSHA1
        self.name = name
    }

    // MARK: Entries

    func process(_ entry: TarEntry, tar: TarReader) throws {
        if controlEnded {
            try processData(entry)
            return
        }
        let isDotFile = entry.name.hasPrefix(".") && !entry.name.contains("/")
        if !controlStarted && entry.name.hasPrefix(".SIGN.") && isDotFile {
            let content = try tar.readContent(limit: Self.maximumSignatureSize)
            guard let signature = SignatureEntry(entryName: entry.name, signature: content) else { return }
            signatures.append(signature)
            // apk uses the first signature whose key it has and ignores the rest.
            if chosen == nil, let algorithm = signature.algorithm, algorithm.digest != nil,
               let key = options.keyring.key(named: signature.keyName) {
                chosen = (signature, key, algorithm)
            }
            return
        }
        guard isDotFile else {
            if info == nil {
                throw APKError(.malformedPackage, "no .PKGINFO before the first data entry \(quoted(entry.name)) (APK v1 packages are not supported)")
            }
            throw APKError(.malformedPackage, "data entry \(quoted(entry.name)) is inside the control section's gzip member")
        }
        controlStarted = true
        guard entry.kind == .regular else { return }
        if entry.name == ".PKGINFO" {
            guard info == nil else { throw APKError(.malformedPackage, "the control section has two .PKGINFO entries") }
            let text = try tar.readContent(limit: Int(options.maximumControlSize))
            info = try PKGINFO.parse(text, source: name, warnings: &warnings)
        } else if let kind = APKFile.ScriptKind(rawValue: String(entry.name.dropFirst())) {
            scripts.append(APKFile.Script(kind: kind, content: try tar.readContent(limit: Int(options.maximumControlSize))))
        } else if entry.name == ".INSTALL" {
            warnings.append("deprecated .INSTALL script ignored")
        }
    }

    private func processData(_ entry: TarEntry) throws {
        var path = entry.name
        while path.utf8.count > 1 && path.hasSuffix("/") { path.removeLast() }
        try checkLinks(entry, path: path)
        // apk skips dot-names in the data section and `.keep_*` placeholder files.
        let baseName = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? Substring(path)
        if path.hasPrefix(".") || (entry.kind != .directory && baseName.hasPrefix(".keep_") && baseName.count > 6) {
            skippedDataEntries.append(path)
            return
        }
        guard options.listsDataEntries else { return }
        let dataStart = self.dataStart ?? 0
        var checksum: APKFile.FileChecksum?
        if let hex = entry.paxRecords["APK-TOOLS.checksum.SHA1"], hex.utf8.count == 40, let bytes = try? Hex.decode(hex) {
            checksum = APKFile.FileChecksum(algorithm: .sha1, bytes: bytes)
        } else if let hex = entry.paxRecords["APK-TOOLS.checksum.MD5"], hex.utf8.count == 32, let bytes = try? Hex.decode(hex) {
            checksum = APKFile.FileChecksum(algorithm: .md5, bytes: bytes)
        }
        dataEntries.append(APKFile.DataEntry(
            path: path, kind: entry.kind, mode: entry.mode, uid: entry.uid, gid: entry.gid,
            userName: entry.userName, groupName: entry.groupName, modificationTime: entry.modificationTime,
            size: entry.size, linkTarget: entry.linkName, deviceMajor: entry.deviceMajor, deviceMinor: entry.deviceMinor,
            extendedAttributes: entry.extendedAttributes, checksum: checksum,
            headerOffset: entry.headerOffset - dataStart, contentOffset: entry.contentOffset - dataStart))
    }

    /// A package that writes through one of its own symbolic links, or hard-links to anything
    /// but an earlier file of its own, is refused while it is read, before its data reaches the
    /// cache: installing it could only fail, and the entries point outside what the package is.
    private func checkLinks(_ entry: TarEntry, path: String) throws {
        guard options.refusesLinkEscapes else { return }
        if !symbolicLinkPaths.isEmpty {
            var prefixEnd = path.startIndex
            while let slash = path[prefixEnd...].firstIndex(of: "/") {
                let prefix = String(path[..<slash])
                if symbolicLinkPaths.contains(prefix) {
                    throw APKError(.malformedPackage,
                                   "data entry \(quoted(path)) lies under \(quoted(prefix)), a symbolic link of the same package: it would be written through the link")
                }
                prefixEnd = path.index(after: slash)
            }
        }
        switch entry.kind {
        case .symbolicLink:
            symbolicLinkPaths.insert(path)
        case .regular:
            regularFilePaths.insert(path)
        case .hardLink:
            var target = entry.linkName
            while target.utf8.count > 1 && target.hasSuffix("/") { target.removeLast() }
            guard regularFilePaths.contains(target) else {
                throw APKError(.malformedPackage,
                               "hard link \(quoted(path)) points at \(quoted(target)), which is not an earlier file of the same package")
            }
        default:
            break
        }
    }

    // MARK: Reading from an expansion

    /// Whether the control member has ended (the data section starts next).
    var hasReadControl: Bool { controlEnded }
    /// The `.PKGINFO` datahash, once read.
    var packageDataHash: String? { info?.dataHash }
    /// Where the data section starts in the file.
    var controlEndOffset: Int64 { controlEnd }

    /// Lists the data entries from an expanded data tar instead of the stream (dropping the one
    /// data header the control pass may have read) and takes `dataDigest`, hashed over the
    /// compressed data bytes, as the data section's digest.
    func adoptExpansion(_ tar: TarReader, dataDigest: Digest) throws {
        dataEntries = []
        skippedDataEntries = []
        dataStart = 0
        externalDataDigest = dataDigest
        symbolicLinkPaths = []
        regularFilePaths = []
        while let entry = try tar.next() {
            try processData(entry)
        }
    }

    // MARK: Compressed bytes

    func gzipReader(consumed bytes: UnsafeRawBufferPointer, member: Int) throws {
        if !controlEnded {
            prefixHasher.update(bytes)
            identityHasher.update(bytes)
            signedHasher?.update(bytes)
        } else {
            dataHasher.update(bytes)
            if isLegacy {
                identityHasher.update(bytes)
                signedHasher?.update(bytes)
            }
        }
    }

    func gzipReaderDidEnd(_ member: GzipMember) throws {
        let end = member.compressedOffset + member.compressedSize
        if controlEnded {
            dataMemberCount += 1
            return
        }
        if !controlStarted {
            // Only signature entries so far: this was a signature member. What follows is hashed
            // afresh, with the chosen signature's digest.
            signatureSectionDigest = prefixHasher.finalize()
            signatureSectionEnd = end
            identityHasher = DigestHasher(.sha1)
            if let digest = chosen?.algorithm.digest, digest != .sha1 {
                signedHasher = DigestHasher(digest)
            } else {
                signedHasher = nil
            }
            return
        }
        guard let info else {
            throw APKError(.malformedPackage, "the control section has no .PKGINFO")
        }
        controlEnded = true
        controlEnd = end
        dataStart = member.decompressedOffset + member.decompressedSize
        gzip?.maximumDecompressedSize = member.decompressedOffset + member.decompressedSize + options.maximumDataSize
        let controlDigest = identityHasher.finalize()
        self.controlDigest = controlDigest
        isLegacy = info.dataHash == nil
        if !isLegacy {
            try settleIdentityAndSignature(identity: controlDigest, signed: signedHasher?.finalize() ?? controlDigest)
        }
    }

    /// The signature and identity verdicts, once the bytes they cover were all hashed.
    private func settleIdentityAndSignature(identity: Digest, signed: Digest) throws {
        identityDigest = identity
        if let expectedSHA1 { identityMatches = identity.bytes == expectedSHA1 }
        if options.stopsAtIdentityMismatch, identityMatches == false, let expected = options.expectedChecksum {
            throw APKError(.checksumMismatch, "its C: is \(PackageIdentity.string(identity)), the index says \(expected)")
        }
        if let chosen {
            let signer = Signer(keyName: chosen.entry.keyName, algorithm: chosen.algorithm)
            do {
                if try chosen.key.isValidSignature(chosen.entry.signature, for: signed) {
                    signatureStatus = .verified(signer)
                } else {
                    signatureStatus = .bad(signer, reason: "the signature does not match the signed bytes")
                }
            } catch {
                signatureStatus = .bad(signer, reason: error.message)
            }
        } else if signatures.isEmpty {
            signatureStatus = .unsigned
        } else {
            signatureStatus = .untrusted(keyNames: signatures.map(\.keyName))
        }
        if options.stopsAtFirstFailure {
            let verdict: APKFile.Verdict
            switch (options.requiresSignature ? signatureStatus : nil, identityMatches) {
            case (.untrusted?, _): verdict = .untrusted
            case (.unsigned?, _): verdict = .unsigned
            case (.bad?, _): verdict = .badSignature
            case (_, false?): verdict = .checksumMismatch
            default: verdict = .ok
            }
            if let error = APKFile.error(for: verdict, signature: signatureStatus ?? .unsigned, dataHash: .absent,
                                         identity: PackageIdentity.string(identity), expected: options.expectedChecksum,
                                         source: name) {
                throw error
            }
        }
    }

    // MARK: End

    func finish(fileSize: Int64, expandedSize: Int64) throws -> APKFile {
        guard controlEnded, var info, let controlDigest else {
            throw APKError(.malformedPackage, controlStarted ? "the control section has no .PKGINFO"
                                                             : "the file holds only signatures, no control section")
        }
        let dataDigest = externalDataDigest ?? dataHasher.finalize()
        if isLegacy {
            try settleIdentityAndSignature(identity: identityHasher.finalize(), signed: signedHasher?.finalize() ?? identityHasher.finalize())
            warnings.append("no datahash in .PKGINFO (a legacy package: the signature covers control and data)")
        }
        if dataMemberCount > 1 {
            warnings.append("the data section is split over \(dataMemberCount) gzip members")
        }
        let dataHash: APKFile.DataHashStatus
        if let expected = info.dataHash {
            dataHash = expected.lowercased() == dataDigest.hex ? .matches : .mismatch(expected: expected, actual: dataDigest.hex)
        } else {
            dataHash = .absent
        }
        guard let identityDigest, let signatureStatus else {
            throw APKError(.malformedPackage, "the package ended before its control section was verified")
        }
        let identity = PackageIdentity.string(identityDigest)
        info.checksum = identity
        info.fileSize = UInt64(fileSize)
        let result = APKFile(
            info: info, identity: identity, signatures: signatures, signature: signatureStatus, dataHash: dataHash,
            identityMatches: identityMatches, requiresSignature: options.requiresSignature,
            signatureSection: signatureSectionDigest.map { APKFile.Section(offset: 0, length: signatureSectionEnd, digest: $0) },
            controlSection: APKFile.Section(offset: signatureSectionEnd, length: controlEnd - signatureSectionEnd, digest: controlDigest),
            dataSection: APKFile.Section(offset: controlEnd, length: fileSize - controlEnd, digest: dataDigest),
            scripts: scripts, dataEntries: dataEntries, skippedDataEntries: skippedDataEntries,
            expandedDataSize: expandedSize, warnings: warnings)
        if options.stopsAtFirstFailure, result.verdict != .ok,
           let error = APKFile.error(for: result.verdict, signature: signatureStatus, dataHash: dataHash, identity: identity,
                                     expected: options.expectedChecksum, source: name) {
            throw error
        }
        return result
    }

    /// An Archive error as the APK error it means here.
    func translate(_ error: ArchiveError, gzip: GzipReader) -> APKError {
        switch error.kind {
        case .io:
            return APKError(.io, error.message, source: name)
        case .tooLarge where gzip.maximumDecompressedSize.map({ gzip.decompressedOffset >= $0 }) ?? false:
            if controlEnded {
                return APKError(.tooLarge, "the data section decompresses to more than \(options.maximumDataSize) bytes", source: name)
            }
            return APKError(.tooLarge, "the signature and control sections decompress to more than \(options.maximumControlSize) bytes",
                            source: name)
        case .tooLarge:
            return APKError(.tooLarge, error.message, source: name)
        default:
            return APKError(.malformedPackage, error.message, source: name)
        }
    }
}

/// A name in quotes, shortened, with control characters escaped, for one-line messages.
func quoted(_ name: String) -> String {
    var text = "'"
    for (index, scalar) in name.unicodeScalars.enumerated() {
        if index == 120 {
            text += "..."
            break
        }
        if scalar.value < 0x20 || scalar.value == 0x7f {
            text += "\\x" + String(scalar.value, radix: 16)
        } else {
            text.unicodeScalars.append(scalar)
        }
    }
    return text + "'"
}
