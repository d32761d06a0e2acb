import APK

/// Composes a rootfs one package at a time, so packages can be installed while later ones are
/// still being fetched: ``Rootfs/compose(_:)`` is this with every package known up front.
///
/// ```swift
/// let composer = try RootfsComposer(request)            // request.packages: [] when streaming
/// while let package = try await packages.next() {
///     try composer.install(package)                    // in install order
/// }
/// let rootfs = try composer.finish(buildEpoch: epoch)
/// ```
///
/// The steps and their order are those of ``Rootfs/compose(_:)``: the request is checked and the
/// base layout, apk's state files and the keyring are written when the composer is made; each
/// ``install(_:)`` checks one package and installs it with apk's file rules; ``finish(buildEpoch:certificates:)``
/// does everything after the packages.
///
/// Only one thing about the base layout depends on packages not yet seen: whether one ships `lib`
/// as a symlink (usr-merge), in which case apko's `lib` directory and `lib/apk` link are not
/// made. The composer assumes none does until one arrives, and then composes the packages
/// installed so far again on the right base, so the result is the same as with every package
/// known up front. (An error an earlier package met on the assumed base is thrown at once,
/// though a later `lib` symlink might have avoided it: only a package that ships `lib` as
/// something other than a directory or symlink can meet one.)
///
/// Errors come as they arise, package by package: a package's checks (its `C:`, a name already
/// installed, line breaks in its metadata) come just before it is installed, where
/// ``Rootfs/compose(_:)`` checks every package of its request first.
public final class RootfsComposer {
    private var composition: Composition
    /// The packages installed so far, in order (kept to compose them again on another base).
    private var installed: [RootfsPackage] = []
    /// name → `name-version` of the installed packages, for the one-package-per-name check.
    private var installedNames: [String: String] = [:]
    /// Whether a package seen so far ships `lib` as a symlink.
    private var libIsShipped: Bool
    /// Why the composer takes no more packages: finished, or an install failed half way.
    private var closedReason: String?

    /// Checks `request` and writes the base layout, apk's state files and the keyring.
    ///
    /// `request.packages` are the packages known before composing starts: every one of them is
    /// checked now, as ``Rootfs/compose(_:)`` does, but none is installed; pass each to
    /// ``install(_:)``. A caller whose packages arrive while composing passes none.
    ///
    /// - Throws: ``RootfsError`` `.invalidInput` for an architecture, package, key or service
    ///   the rootfs cannot be built with; what writing the base layout and keys meets.
    public init(_ request: RootfsRequest) throws(RootfsError) {
        composition = Composition(request: request)
        var names: [String: String] = [:]
        try composition.validate(names: &names)
        libIsShipped = request.packages.contains(where: Composition.shipsLibrarySymlink)
        try Self.start(composition, libIsShipped: libIsShipped)
    }

    /// How many packages are installed so far.
    public var installedCount: Int { installed.count }

    /// Installs `package` after the ones installed so far (install order: dependencies first).
    ///
    /// - Throws: ``RootfsError``: `.invalidInput` for a package without `C:`, with a name that is
    ///   already installed, or with a line break in its metadata; the installer's file-rule
    ///   errors (`.fileConflict`, `.typeConflict`, `.unsafePath`, `.missingDirectory`, …);
    ///   `.tooLarge` past ``Rootfs/maximumEntryCount`` entries; `.invalidInput` after
    ///   ``finish(buildEpoch:certificates:)`` or after an install failed (the tree is half done).
    public func install(_ package: RootfsPackage) throws(RootfsError) {
        if let closedReason {
            throw RootfsError(.invalidInput, "\(package.info.nameVersion) cannot be installed: \(closedReason)",
                              packages: [package.info.nameVersion])
        }
        do {
            try Composition.validate(package, names: &installedNames)
            if !libIsShipped && Composition.shipsLibrarySymlink(package) {
                libIsShipped = true
                try recompose()
            }
            installed.append(package)
            try composition.install(package)
        } catch {
            closedReason = "installing \(package.info.nameVersion) failed"
            throw error
        }
    }

    /// Everything after the packages: accounts, `/etc/apko.json`, `paths`, certificates, the
    /// runtime keyring, services, busybox links, `ld.so.cache`, apk's world, repositories and
    /// installed database; then the finished rootfs.
    ///
    /// `buildEpoch` and `certificates` replace the request's when given: they may depend on the
    /// packages (the newest build time, the packages that provide certificates), which a caller
    /// installing them as they arrive only knows now. The composer cannot be used afterwards, nor
    /// finished after an install failed.
    public func finish(buildEpoch: Int64? = nil, certificates: Certificates? = nil) throws(RootfsError) -> Rootfs {
        if let closedReason {
            throw RootfsError(.invalidInput, "the rootfs cannot be finished: \(closedReason)")
        }
        closedReason = "the rootfs is already finished"
        if let buildEpoch { composition.request.buildEpoch = buildEpoch }
        if let certificates { composition.request.certificates = certificates }
        composition.openContents()
        try composition.completeLibraryLayout()
        try composition.applyAccounts()
        if let apkoJSON = composition.request.apkoJSON {
            try composition.writeFile("etc/apko.json", .bytes(apkoJSON), mode: 0o444, what: "/etc/apko.json")
        }
        try composition.applyPathMutations()
        try composition.installCertificates()
        try composition.writeTrustStoreChecksums()
        try composition.installKeys(composition.request.runtimeKeyring, refusingExisting: true, what: "runtime_keyring")
        try composition.writeServices()
        try composition.installBusyboxLinks()
        try composition.writeLinkerCache()
        try composition.writeApkConfiguration()
        try composition.writeInstalledDatabase()
        return try Rootfs(composition: composition)
    }

    /// The steps before the packages: base layout and apk's state files, then the keyring.
    private static func start(_ composition: Composition, libIsShipped: Bool) throws(RootfsError) {
        try composition.initializeDatabase(libIsShipped: libIsShipped)
        try composition.installKeys(composition.request.keyring, refusingExisting: false, what: "keyring")
    }

    /// Starts again on the base a shipped `lib` symlink calls for and installs the packages so
    /// far on it: the tree, inodes and records come out as if that had been known from the start.
    private func recompose() throws(RootfsError) {
        let fresh = Composition(request: composition.request)
        try Self.start(fresh, libIsShipped: libIsShipped)
        for package in installed {
            try fresh.install(package)
        }
        composition = fresh
    }
}
