import ArgumentParser
import Distill
import Foundation
import HTTPTransport
import Repository

/// The flags every command that reads repositories takes (include with `@OptionGroup`):
/// the cache, `--offline`, and apko's size limits.
struct PipelineOptions: ParsableArguments {
    @Option(name: .customLong("cache-dir"),
            help: ArgumentHelp("Cache directory for indexes and packages (default: $XDG_CACHE_HOME/distill, else ~/.cache/distill).",
                               valueName: "dir"))
    var cacheDirectory: String?

    @Flag(name: .customLong("offline"), help: "Never use the network: remote indexes, keys and packages must already be in the cache.")
    var offline = false

    @Option(name: .customLong("max-apkindex-decompressed-size"),
            help: ArgumentHelp("Largest decompressed APKINDEX (bytes, or with K/M/G; default 300M).", valueName: "size"))
    var maximumIndexSize: String?

    @Option(name: .customLong("max-apk-control-size"),
            help: ArgumentHelp("Largest decompressed signature + control section of a package (default 10M).", valueName: "size"))
    var maximumControlSize: String?

    @Option(name: .customLong("max-apk-data-size"),
            help: ArgumentHelp("Largest decompressed data section of a package (default 16G).", valueName: "size"))
    var maximumDataSize: String?

    @Option(name: .customLong("max-http-response-size"),
            help: ArgumentHelp("Largest HTTP response body: index, key or package (default 8G).", valueName: "size"))
    var maximumHTTPResponseSize: String?

    /// The repository options these flags and the environment (`XDG_CACHE_HOME`, `HOME`,
    /// `HTTP_AUTH`) ask for.
    func repositoryOptions(environment: [String: String]) throws -> RepositoryOptions {
        var limits = RepositoryLimits()
        func size(_ text: String?, _ flag: String, _ keyPath: WritableKeyPath<RepositoryLimits, Int64>) throws {
            guard let text else { return }
            guard let value = RepositoryLimits.parseSize(text) else {
                throw ValidationError("--\(flag) '\(text)' is not a size; give bytes or a number with K, M or G")
            }
            limits[keyPath: keyPath] = value
        }
        try size(maximumIndexSize, "max-apkindex-decompressed-size", \.maximumIndexSize)
        try size(maximumControlSize, "max-apk-control-size", \.maximumControlSize)
        try size(maximumDataSize, "max-apk-data-size", \.maximumDataSize)
        try size(maximumHTTPResponseSize, "max-http-response-size", \.maximumHTTPResponseSize)
        var authentication: [HTTPAuthentication] = []
        if let value = environment["HTTP_AUTH"], !value.isEmpty {
            authentication.append(try HTTPAuthentication(parsing: value))
        }
        let root = cacheDirectory ?? RepositoryCache.defaultRoot(environment: environment)
        return RepositoryOptions(cache: RepositoryCache(root: root), offline: offline, limits: limits, authentication: authentication)
    }
}

