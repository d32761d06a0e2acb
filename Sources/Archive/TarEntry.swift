/// One tar entry's metadata: what `TarReader` returns and what `TarWriter` writes. Equality
/// compares every field, the reader-set offsets included.
///
/// Names are relative paths exactly as stored (a directory may end in `/` if the archive wrote it
/// that way); the reader resolves GNU long names, the ustar `prefix` and PAX `path`/`linkpath`
/// into `name` and `linkName`, so callers never see those mechanisms.
public struct TarEntry: Sendable, Equatable {
    /// The entry's type (the ustar typeflag).
    public enum Kind: Sendable, Hashable {
        /// A regular file (typeflag `0`, NUL or `7`); content follows.
        case regular
        /// A hard link to the earlier entry named `linkName` (typeflag `1`).
        case hardLink
        /// A symbolic link pointing at `linkName` (typeflag `2`).
        case symbolicLink
        /// A character device `deviceMajor`,`deviceMinor` (typeflag `3`).
        case characterDevice
        /// A block device (typeflag `4`).
        case blockDevice
        /// A directory (typeflag `5`).
        case directory
        /// A named pipe (typeflag `6`).
        case fifo
        /// Any other typeflag (e.g. GNU `D` dump directories, `V` volume labels): returned so the
        /// caller can decide; its content, if any, is readable like a file's.
        case other(UInt8)

        /// The typeflag byte written for this kind.
        public var typeFlag: UInt8 {
            switch self {
            case .regular: UInt8(ascii: "0")
            case .hardLink: UInt8(ascii: "1")
            case .symbolicLink: UInt8(ascii: "2")
            case .characterDevice: UInt8(ascii: "3")
            case .blockDevice: UInt8(ascii: "4")
            case .directory: UInt8(ascii: "5")
            case .fifo: UInt8(ascii: "6")
            case .other(let flag): flag
            }
        }
    }

    /// The path inside the archive.
    public var name: String
    /// What the entry is.
    public var kind: Kind
    /// Permission, setuid, setgid and sticky bits: the reader masks the stored mode to `0o7777`, the
    /// writer writes only those bits.
    public var mode: UInt32
    /// Owner id.
    public var uid: Int
    /// Group id.
    public var gid: Int
    /// Owner name (`uname`); empty when none is stored.
    public var userName: String
    /// Group name (`gname`); empty when none is stored.
    public var groupName: String
    /// Content size in bytes (0 for links, directories, devices and fifos when writing).
    public var size: Int64
    /// Modification time, whole seconds since the Unix epoch (PAX fractions are dropped, rounding
    /// down).
    public var modificationTime: Int64
    /// Hard link target (an earlier entry's name) or symbolic link target; empty otherwise.
    public var linkName: String
    /// Device major number (devices only).
    public var deviceMajor: UInt32
    /// Device minor number (devices only).
    public var deviceMinor: UInt32
    /// Extended attributes, carried as PAX `SCHILY.xattr.<name>` records with binary values.
    public var extendedAttributes: [String: [UInt8]]
    /// PAX records that are not mapped onto the fields above, e.g. apk's
    /// `APK-TOOLS.checksum.SHA1` or GNU tar's `atime`/`ctime`. When reading, global (`g`) records
    /// are included unless the entry's own header overrides them; when writing, they are emitted
    /// in key order after the records the writer derives itself.
    public var paxRecords: [String: String]
    /// Set by `TarReader`: the offset in the tar stream of the first header block that belongs to
    /// this entry (a PAX or GNU long-name header when there is one). Ignored by `TarWriter`.
    public var headerOffset: Int64
    /// Set by `TarReader`: the offset in the tar stream where the content starts (content is
    /// contiguous there, `size` bytes). Ignored by `TarWriter`.
    public var contentOffset: Int64

    /// An entry; defaults describe an empty root-owned regular file at the epoch.
    public init(
        name: String,
        kind: Kind = .regular,
        mode: UInt32 = 0o644,
        uid: Int = 0,
        gid: Int = 0,
        userName: String = "",
        groupName: String = "",
        size: Int64 = 0,
        modificationTime: Int64 = 0,
        linkName: String = "",
        deviceMajor: UInt32 = 0,
        deviceMinor: UInt32 = 0,
        extendedAttributes: [String: [UInt8]] = [:],
        paxRecords: [String: String] = [:]
    ) {
        self.name = name
        self.kind = kind
        self.mode = mode & 0o7777
        self.uid = uid
        self.gid = gid
        self.userName = userName
        self.groupName = groupName
        self.size = size
        self.modificationTime = modificationTime
        self.linkName = linkName
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.extendedAttributes = extendedAttributes
        self.paxRecords = paxRecords
        self.headerOffset = 0
        self.contentOffset = 0
    }
}
