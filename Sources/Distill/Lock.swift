public import ApkoConfig
import APK
import HTTPTransport
public import ProgressReporting
import Repository

/// Images taken from a lock file instead of resolved.
enum LockedImages {
    /// The locked packages of each architecture, in lock order. A package belongs to the
    /// architecture it names, or — for `noarch` packages — to the architecture directory its URL
    /// is in (`<repo>/<arch>/<file>.apk`).
    static func images(from lock: Lockfile, name: String, architectures: [Architecture], sources: [RepositorySource])
        throws(DistillError) -> [ResolvedImage] {
        let wanted = Set(architectures.map(\.apkName))
        var byArchitecture: [String: [ImagePackage]] = [:]
        for (position, entry) in lock.contents.packages.enumerated() {
            let label = "\(name): contents.packages[\(position)] (\(entry.name))"
            var architecture = entry.architecture
            if !wanted.contains(architecture) {
                let directory = entry.url.split(separator: "/").dropLast().last.map(String.init) ?? ""
                if Architecture(architecture) == nil || wanted.contains(directory) { architecture = directory }
            }
            guard Architecture(architecture) != nil else {
                throw DistillError(.lockfile, "\(label) has architecture '\(entry.architecture)' and its URL names no architecture directory")
            }
            guard wanted.contains(architecture) else { continue }
            guard PackageIdentity.sha1Bytes(entry.checksum) != nil else {
                throw DistillError(.lockfile, "\(label) has no usable checksum ('\(entry.checksum)'), so the package cannot be verified")
            }
            guard !entry.url.isEmpty, !entry.version.isEmpty else {
                throw DistillError(.lockfile, "\(label) has no url or version")
            }
            // apko's lock records no repository tags. A package from a tagged repository can only
            // have been selected under that tag, so the repository it lies in gives the tag back
            // (and with it the image's `name@tag=version` world line); an untagged repository at
            // the same place wins, as the package was then reachable without a tag.
            let candidates = sources.filter { entry.url.hasPrefix($0.base + "/") }
            let repository = candidates.first { $0.tag == nil } ?? candidates.first
            let info = PackageInfo(name: entry.name, version: entry.version, arch: entry.architecture, checksum: entry.checksum)
            byArchitecture[architecture, default: []].append(ImagePackage(
                info: info, repository: repository, tag: repository?.tag, url: entry.url, checksum: entry.checksum,
                dataChecksum: entry.data.checksum.isEmpty ? nil : entry.data.checksum, origin: "\(entry.url) (locked in \(name))"))
        }
        return try architectures.map { architecture throws(DistillError) in
            guard let packages = byArchitecture[architecture.apkName] else {
                let locked = Set(lock.contents.packages.map(\.architecture)).sorted().joined(separator: ", ")
                throw DistillError(.lockfile, "\(name) locks no packages for \(architecture.apkName) (it has \(locked.isEmpty ? "none" : locked)); lock again for the architectures being built")
            }
            return ResolvedImage(architecture: architecture, packages: packages, resolution: nil)
        }
    }
}

extension Pipeline {
    /// The lock file for `resolved`, as apko writes it: the config's name and checksum, the
    /// keyring entries (by name, the URL without its scheme), one repository entry per
    /// architecture, and every package of every architecture in install order with the byte
    /// range and checksum of its signature, control and data sections.
    ///
    /// The sections are read from the packages themselves, so each one is fetched (through the
    /// cache) and verified, but not expanded.
    ///
    /// - Parameters:
    ///   - configName: the config path as given on the command line.
    ///   - progress: gets the `fetch` events of every architecture.
    public func lock(_ resolved: ResolvedConfig, configName: String, progress: ProgressReporter = .none)
        async throws(DistillError) -> Lockfile {
        var packages: [LockPackage] = []
        for image in resolved.images {
            let fetched = try await fetch(image, options: .verifyOnly, progress: progress)
            for (package, file) in zip(image.packages, fetched) {
                let signature = file.file.signatureSection
                packages.append(LockPackage(
                    name: package.name, url: package.url, version: package.version,
                    architecture: file.info.arch ?? image.architecture.apkName,
                    signature: LockRange(range: signature?.httpRange ?? "", checksum: signature?.checksum ?? ""),
                    control: LockRange(range: file.file.controlSection.httpRange, checksum: file.file.controlSection.checksum),
                    data: LockRange(range: file.file.dataSection.httpRange, checksum: file.file.dataSection.checksum),
                    checksum: file.file.identity))
            }
        }
        let contents = resolved.configuration.contents
        let keyring = Self.sortedUnique(contents.keyring).map { entry in
            let url = Self.withoutCredentials(entry)
            return LockKeyring(name: Self.withoutScheme(url), url: url)
        }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }

        func repositories(_ references: [RepositoryReference]) -> [LockRepository] {
            resolved.architectures.flatMap { architecture in
                references.map { reference in
                    let base = Self.withoutCredentials(reference.location)
                    return LockRepository(name: Self.withoutScheme("\(base)/\(architecture.apkName)"),
                                          url: "\(base)/\(architecture.apkName)/APKINDEX.tar.gz",
                                          architecture: architecture.apkName)
                }
            }
        }
        return Lockfile(
            config: resolved.config.lockConfig(name: configName),
            contents: LockContents(
                keyring: keyring, buildRepositories: repositories(contents.buildRepositories),
                runtimeRepositories: repositories(contents.runtimeRepositories),
                repositories: repositories(contents.repositories), packages: packages))
    }

    /// `https://host/x` → `host/x` (apko's lock names); paths are unchanged.
    static func withoutScheme(_ url: String) -> String {
        for scheme in ["https://", "http://"] where url.hasPrefix(scheme) { return String(url.dropFirst(scheme.count)) }
        return url
    }

    /// A URL without userinfo: a lock file is shared, credentials are not.
    static func withoutCredentials(_ url: String) -> String {
        CredentialedURL(url).url
    }
}

extension Pipeline {
    /// Where `lock` writes by default: the config path without its extension, plus `.lock.json`
    /// (`apko.yaml` → `apko.lock.json`), as apko names it.
    public static func defaultLockPath(forConfig path: String) -> String {
        let lastSlash = path.lastIndex(of: "/")
        let nameStart = lastSlash.map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[nameStart...].lastIndex(of: ".") {
            return String(path[..<dot]) + ".lock.json"
        }
        return path + ".lock.json"
    }
}
