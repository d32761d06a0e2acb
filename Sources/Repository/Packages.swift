import APK
import HTTPTransport

/// One package to fetch: where it is, the identity it must have, and (from a lock file) the
/// data section checksum it must have.
public struct PackageRequest: Sendable, Hashable {
    /// The package name.
    public var name: String
    /// The package version.
    public var version: String
    /// The apk architecture of the repository it comes from (`x86_64`, …).
    public var architecture: String
    /// The `.apk` path or URL, without credentials (`<repo>/<arch>/<name>-<version>.apk`).
    public var url: String
    /// The `C:` it must have (`Q1…`), from the signed index or the lock file.
    public var checksum: String
    /// `sha256-<base64>` the data section must hash to (a lock file's `data.checksum`), if any.
    public var dataChecksum: String?
    /// The repository it comes from, for messages (no credentials).
    public var repository: String
    /// Credentials for a remote URL (from the repository's userinfo).
    public var credentials: BasicCredentials?
    /// The `.apk`'s size as its index says (`S:`), for progress only: nothing is checked against
    /// it (the identity checks are what make a package trusted).
    public var expectedSize: Int64?

    /// A request for `name`-`version` at `url` with identity `checksum`.
    public init(name: String, version: String, architecture: String, url: String, checksum: String,
                dataChecksum: String? = nil, repository: String, credentials: BasicCredentials? = nil,
                expectedSize: Int64? = nil) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.url = url
        self.checksum = checksum
        self.dataChecksum = dataChecksum
        self.repository = repository
        self.credentials = credentials
        self.expectedSize = expectedSize
    }

    /// `name-version`.
    public var nameVersion: String { "\(name)-\(version)" }

    /// The item its ``ProgressReporting/ProgressEvent``s name: `<arch>/<name>-<version>`.
    public var progressItem: String { "\(architecture)/\(nameVersion)" }
}

/// What to do with each package besides verifying it.
public struct FetchOptions: Sendable, Hashable {
    /// Write the decompressed data section to the cache (`packages/<hex>.tar`) for the rootfs.
    public var expandsData: Bool
    /// Fill in ``APKFile/dataEntries`` (every file with its offset in the expanded tar).
    public var listsDataEntries: Bool

    /// Options; by default the package is expanded and its entries listed (what a build needs).
    public init(expandsData: Bool = true, listsDataEntries: Bool = true) {
        self.expandsData = expandsData
        self.listsDataEntries = listsDataEntries
    }

    /// Verify only: what `lock` needs (sections and checksums).
    public static let verifyOnly = FetchOptions(expandsData: false, listsDataEntries: false)
}

/// A package that verified: its `C:` equals the requested one (the signed index's or the lock's),
/// its data section hashes to its datahash (and to the lock's data checksum when one was given).
///
/// The rootfs reads file bytes from ``expandedDataPath``: each regular entry of
/// `file.dataEntries` is `entry.size` bytes at `entry.contentOffset` in that tar.
public struct FetchedPackage: Sendable {
    /// What was asked for.
    public var request: PackageRequest
    /// The verified package: `.PKGINFO` (with `C:` and `S:`), scripts, sections, data entries.
    public var file: APKFile
    /// The verified `.apk` on disk: in a local repository, or in the cache for a remote one.
    public var path: String
    /// The expanded data tar in the cache (nil when ``FetchOptions/expandsData`` was false).
    public var expandedDataPath: String?

    /// The package's `.PKGINFO`, with `checksum` (`C:`) and `fileSize` (`S:`) from the file.
    public var info: PackageInfo { file.info }
}
