import Archive
import DistillCrypto

/// Packs a directory into a signed `.apk` exactly as abuild lays one out (reference/apk-format.md
/// §10.4): `gzip(signature tar, cut) || gzip(control tar, cut) || gzip(data tar)`.
///
/// The output depends only on the directory's contents and the options: entries are sorted
/// (byte order, each directory before what it holds), owned by root:root unless told otherwise,
/// and dated `modificationTime` (SOURCE_DATE_EPOCH); every file and symlink carries the PAX
/// record `APK-TOOLS.checksum.SHA1` (`abuild-tar --hash`); the gzip members have fixed headers.
/// `.PKGINFO` gets `size` computed as abuild does and `datahash` of the data member as written.
public enum APKBuilder {
    /// Who owns every entry of the data tar.
    public struct Owner: Sendable, Hashable {
        /// Numeric owner.
        public var uid: Int
        /// Numeric group.
        public var gid: Int
        /// Owner name written to the header (apk maps it through the target's /etc/passwd).
        public var userName: String
        /// Group name.
        public var groupName: String

        /// An owner.
        public init(uid: Int, gid: Int, userName: String, groupName: String) {
            self.uid = uid
            self.gid = gid
            self.userName = userName
            self.groupName = groupName
        }

        /// root:root (0:0), what abuild's owner map makes of every file.
        public static let root = Owner(uid: 0, gid: 0, userName: "root", groupName: "root")
    }

    /// What to pack.
    public struct Options: Sendable {
        /// The metadata: name, version and arch are required; `installedSize`, `dataHash`, and
        /// (unless set) `buildTime` are computed.
        public var info: PackageInfo
        /// Install scripts for the control section.
        public var scripts: [APKFile.Script]
        /// The time every entry gets, and `builddate` unless `info.buildTime` is set.
        public var modificationTime: Int64
        /// The owner of every data entry.
        public var owner: Owner
        /// The signing key; nil writes an unsigned package (control + data only).
        public var key: SigningKey?
        /// `.SIGN.RSA` (SHA-1, abuild's default) or `.SIGN.RSA256`.
        public var signatureAlgorithm: SignatureAlgorithm
        /// gzip level for all three members (abuild uses 9).
        public var compressionLevel: Int

        /// Options for a package signed by `key`.
        public init(info: PackageInfo, scripts: [APKFile.Script] = [], modificationTime: Int64, owner: Owner = .root,
                    key: SigningKey?, signatureAlgorithm: SignatureAlgorithm = .rsaSHA1, compressionLevel: Int = 9) {
            self.info = info
            self.scripts = scripts
            self.modificationTime = modificationTime
            self.owner = owner
            self.key = key
            self.signatureAlgorithm = signatureAlgorithm
            self.compressionLevel = compressionLevel
        }
    }

    /// What was written.
    public struct Result: Sendable {
        /// The `.PKGINFO` as written, plus `checksum` (`C:`) and `fileSize` (`S:`): ready for an index.
        public var info: PackageInfo
        /// Data entries written (the root directory itself is not an entry).
        public var entryCount: Int
    }

    /// Packs `directory` into `path` (written atomically). The directory's own name and mode are
    /// not recorded; top-level names starting with `.` are refused because apk skips them.
    public static func pack(directory: String, options: Options, to path: String) throws -> Result {
        var info = options.info
        try validate(info, scripts: options.scripts)
        guard FileSystem.isDirectory(directory) else {
            throw APKError(.io, "not a directory", source: directory)
        }
        let entries = try DirectoryWalker.walk(directory)

        // 1. The data member, streamed to a temporary file beside the output and hashed as written.
        let dataFile = try AtomicFile(path: path + ".data")
        var dataHasher = DigestHasher(.sha256)
        let dataSize: Int64
        var installedSize: UInt64 = 0
        do {
            let counter = CountingSink()
            let hashing = ClosureSink { dataHasher.update($0) }
            let gzip = try ParallelGzipWriter(sink: TeeSink(TeeSink(dataFile.sink, observer: hashing), observer: counter),
                                              level: options.compressionLevel)
            let tar = TarWriter(sink: gzip)
            for entry in entries {
                installedSize += try write(entry, owner: options.owner, modificationTime: options.modificationTime, to: tar)
            }
            try tar.finish(.endBlocks)
            try gzip.finish()
            dataSize = counter.count
        } catch let error as ArchiveError {
            throw APKError(error.kind == .io ? .io : .malformedPackage, "cannot write the data section: \(error.message)", source: path)
        }
        let dataDigest = dataHasher.finalize()

        // 2. .PKGINFO: abuild counts a package with any content as at least 1 byte, because
        //    apk treats size 0 as a virtual package and installs nothing from it.
        if installedSize == 0 && (!entries.isEmpty || !options.scripts.isEmpty) { installedSize = 1 }
        info.installedSize = installedSize
        info.buildTime = info.buildTime ?? options.modificationTime
        info.dataHash = dataDigest.hex
        info.checksum = nil
        info.fileSize = nil

        // 3. The control member, then the signature over its exact bytes.
        let control = try controlMember(info: info, scripts: options.scripts, options: options)
        var signatureMember: [UInt8] = []
        if let key = options.key {
            let signature = try key.signature(for: control, algorithm: options.signatureAlgorithm)
            signatureMember = try SignatureMember.bytes(signature: signature, key: key, algorithm: options.signatureAlgorithm,
                                                        modificationTime: options.modificationTime)
        }

        // 4. signature || control || data, renamed into place only when complete.
        let output = try AtomicFile(path: path)
        try output.write(signatureMember)
        try output.write(control)
        do {
            let data = try FileDescriptorSource(path: dataFile.temporaryPath)
            defer { try? data.close() }
            let copied = try data.copy(to: output.sink)
            guard copied == dataSize else {
                throw APKError(.io, "the temporary data section changed while it was copied", source: path)
            }
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: path)
        }
        try output.commit()

        info.checksum = PackageIdentity.string(DigestAlgorithm.sha1.hash(control))
        info.fileSize = UInt64(signatureMember.count + control.count) + UInt64(dataSize)
        return Result(info: info, entryCount: entries.count)
    }

    /// Reads an install script from a file (at most 10 MiB, apk's control-section cap).
    public static func script(_ kind: APKFile.ScriptKind, file path: String) throws -> APKFile.Script {
        APKFile.Script(kind: kind, content: try FileSystem.read(path, limit: 10 << 20))
    }

    private static func validate(_ info: PackageInfo, scripts: [APKFile.Script]) throws {
        guard !info.name.isEmpty, !info.version.isEmpty else {
            throw APKError(.malformedPackageInfo, "a package needs a name and a version")
        }
        guard APKVersion(info.version).isValid else {
            throw APKError(.invalidVersion, "'\(info.version)' is not a valid apk version")
        }
        guard let arch = info.arch, !arch.isEmpty else {
            throw APKError(.malformedPackageInfo, "a package needs an architecture")
        }
        // .PKGINFO is line-based: a newline in a value would forge another key.
        let values = [info.name, info.version, arch, info.description, info.url, info.license, info.origin, info.maintainer,
                      info.commit].compactMap { $0 } + info.triggers
        for value in values where value.contains(where: { $0 == "\n" || $0 == "\r" }) {
            throw APKError(.malformedPackageInfo, "metadata value \(quoted(value)) contains a line break")
        }
        if !info.triggers.isEmpty && !scripts.contains(where: { $0.kind == .trigger }) {
            throw APKError(.malformedPackageInfo, "triggers are set but there is no .trigger script to run")
        }
        var seen = Set<APKFile.ScriptKind>()
        for script in scripts where !seen.insert(script.kind).inserted {
            throw APKError(.malformedPackageInfo, "two \(script.kind.fileName) scripts")
        }
    }

    /// `.PKGINFO` (0644) then the scripts (0755) in apk's script order, as a cut tar, gzipped.
    private static func controlMember(info: PackageInfo, scripts: [APKFile.Script], options: Options) throws -> [UInt8] {
        let memory = MemorySink()
        do {
            let gzip = try GzipWriter(sink: memory, level: options.compressionLevel)
            let tar = TarWriter(sink: gzip)
            func file(_ name: String, mode: UInt32, _ content: [UInt8]) throws {
                let entry = TarEntry(name: name, mode: mode, userName: "root", groupName: "root",
                                     size: Int64(content.count), modificationTime: options.modificationTime)
                try tar.append(entry, content: content)
            }
            try file(".PKGINFO", mode: 0o644, Array(PKGINFO.write(info).utf8))
            for kind in APKFile.ScriptKind.allCases {
                for script in scripts where script.kind == kind {
                    try file(kind.fileName, mode: 0o755, script.content)
                }
            }
            try tar.finish(.cut)
            try gzip.finish()
        } catch let error as ArchiveError {
            throw APKError(.malformedPackage, "cannot write the control section: \(error.message)")
        }
        return memory.bytes
    }

    /// Writes one data entry; returns the bytes it adds to the installed size.
    private static func write(_ walked: WalkedEntry, owner: Owner, modificationTime: Int64, to tar: TarWriter) throws -> UInt64 {
        var entry = TarEntry(name: walked.path, kind: walked.kind, mode: walked.mode, uid: owner.uid, gid: owner.gid,
                             userName: owner.userName, groupName: owner.groupName, modificationTime: modificationTime,
                             linkName: walked.linkTarget, deviceMajor: walked.deviceMajor, deviceMinor: walked.deviceMinor,
                             extendedAttributes: walked.extendedAttributes)
        switch walked.kind {
        case .regular:
            entry.size = walked.size
            let digest = try hashFile(walked)
            entry.paxRecords["APK-TOOLS.checksum.SHA1"] = digest.hex
            do {
                let content = try FileDescriptorSource(path: walked.absolutePath)
                defer { try? content.close() }
                try tar.append(entry, content: content)
            } catch let error as ArchiveError where error.kind == .sizeMismatch {
                throw APKError(.io, "the file changed while it was packed: \(error.message)", source: walked.absolutePath)
            }
            return UInt64(walked.size)
        case .symbolicLink:
            // abuild-tar hashes a symlink's target string.
            entry.paxRecords["APK-TOOLS.checksum.SHA1"] = DigestAlgorithm.sha1.hash(Array(walked.linkTarget.utf8)).hex
            try tar.append(entry)
            return 0
        default:
            try tar.append(entry)
            return 0
        }
    }

    private static func hashFile(_ walked: WalkedEntry) throws -> Digest {
        var hasher = DigestHasher(.sha1)
        do {
            let source = try FileDescriptorSource(path: walked.absolutePath)
            defer { try? source.close() }
            let total = try source.copy(to: ClosureSink { hasher.update($0) })
            guard total == walked.size else {
                throw APKError(.io, "the file changed while it was packed (\(total) bytes, expected \(walked.size))",
                               source: walked.absolutePath)
            }
        } catch let error as ArchiveError {
            throw APKError(.io, error.message, source: walked.absolutePath)
        }
        return hasher.finalize()
    }
}
