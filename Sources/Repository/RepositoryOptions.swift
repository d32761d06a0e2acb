import APK
import Foundation
import HTTPTransport

/// Size caps, with apko's flags and defaults (reference/apko.md §2).
public struct RepositoryLimits: Sendable, Hashable {
    /// `--max-apkindex-decompressed-size`: an index's decompressed archive (300 MiB).
    public var maximumIndexSize: Int64
    /// `--max-apk-control-size`: a package's decompressed signature + control sections (10 MiB).
    public var maximumControlSize: Int64
    /// `--max-apk-data-size`: a package's decompressed data section (16 GiB).
    public var maximumDataSize: Int64
    /// `--max-http-response-size`: any HTTP response body, index, key or package (8 GiB).
    public var maximumHTTPResponseSize: Int64
    /// `--max-apk-entries` (Distill's own): tar entries in one package, control and data
    /// together (1,000,000). Every entry of a package is listed in memory while it is installed,
    /// so this bounds the memory a tar bomb of empty entries can take.
    public var maximumEntryCount: Int

    /// Caps; the defaults are apko's, and 1,000,000 entries per package.
    public init(maximumIndexSize: Int64 = 300 << 20, maximumControlSize: Int64 = 10 << 20,
                maximumDataSize: Int64 = 16 << 30, maximumHTTPResponseSize: Int64 = 8 << 30,
                maximumEntryCount: Int = APKFile.Options.defaultMaximumEntryCount) {
        self.maximumIndexSize = maximumIndexSize
        self.maximumControlSize = maximumControlSize
        self.maximumDataSize = maximumDataSize
        self.maximumHTTPResponseSize = maximumHTTPResponseSize
        self.maximumEntryCount = maximumEntryCount
    }

    /// The largest key file accepted (an RSA public key in PEM is under 2 KiB even at 16384 bits).
    public static let maximumKeySize: Int64 = 64 << 10
}

/// How a ``RepositoryClient`` reaches repositories.
public struct RepositoryOptions: Sendable {
    /// The cache (indexes and packages of remote repositories, expanded data of every package).
    public var cache: RepositoryCache
    /// `--offline`: never use the network; everything remote must already be in the cache.
    public var offline: Bool
    /// Size caps.
    public var limits: RepositoryLimits
    /// How many packages are fetched and verified at once.
    public var maximumConcurrentFetches: Int
    /// `HTTP_AUTH` credentials, sent to their host when a URL carries none of its own.
    public var authentication: [HTTPAuthentication]
    /// How connection failures, cut-off bodies and 5xx/429 answers are retried.
    public var retry: RetryPolicy

    /// Options; by default online, apko's caps, six packages at a time, four tries per request.
    public init(cache: RepositoryCache, offline: Bool = false, limits: RepositoryLimits = RepositoryLimits(),
                maximumConcurrentFetches: Int = 6, authentication: [HTTPAuthentication] = [],
                retry: RetryPolicy = .standard) {
        self.cache = cache
        self.offline = offline
        self.limits = limits
        self.maximumConcurrentFetches = max(1, maximumConcurrentFetches)
        self.authentication = authentication
        self.retry = retry
    }
}

extension RepositoryLimits {
    /// Parses a size flag: bytes, or a number with `K`, `M`, `G`, `T` (binary multiples; `KiB`,
    /// `MB`… spellings are accepted and mean the same). Nil for anything else, zero or negative.
    public static func parseSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let number = Int64(digits), number > 0 else { return nil }
        let shift: Int64
        switch trimmed.dropFirst(digits.count).lowercased() {
        case "", "b": shift = 0
        case "k", "kb", "kib": shift = 10
        case "m", "mb", "mib": shift = 20
        case "g", "gb", "gib": shift = 30
        case "t", "tb", "tib": shift = 40
        default: return nil
        }
        guard number <= Int64.max >> shift else { return nil }
        return number << shift
    }
}
