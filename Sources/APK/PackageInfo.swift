/// The metadata of one package, as carried by `.PKGINFO`, an APKINDEX record or an installed-db
/// record. Field names follow `.PKGINFO`; the APKINDEX letter is noted on each.
public struct PackageInfo: Sendable, Hashable {
    // The properties are in apk-tools' index order (`C P V A …`) and the public initializer is in
    // an extension, so the type keeps its synthesized memberwise initializer (which starts
    // `init(checksum:name:version:arch:`). Swift 6.3 builds a value made by an explicit
    // initializer in a temporary and copies it into place, retaining and releasing every field;
    // the index parser makes a record per package and uses the memberwise one.

    /// `C:` — the identity checksum, `Q1` + base64(SHA-1 of the control member).
    public var checksum: String?
    /// `P:` / `pkgname`.
    public var name: String
    /// `V:` / `pkgver`, including the `-rN` revision.
    public var version: String
    /// `A:` / `arch` (`x86_64`, `aarch64`, `noarch`, …).
    public var arch: String?
    /// `S:` — size of the `.apk` file in bytes (index only).
    public var fileSize: UInt64?
    /// `I:` / `size` — installed size in bytes; 0 marks a virtual package.
    public var installedSize: UInt64?
    /// `T:` / `pkgdesc`.
    public var description: String?
    /// `U:` / `url`.
    public var url: String?
    /// `L:` / `license`.
    public var license: String?
    /// `o:` / `origin` — the source package; subpackages share it.
    public var origin: String?
    /// `m:` / `maintainer`.
    public var maintainer: String?
    /// `t:` / `builddate` — unix seconds.
    public var buildTime: Int64?
    /// `c:` / `commit`.
    public var commit: String?
    /// `k:` / `provider_priority`.
    public var providerPriority: Int?
    /// `D:` / `depend`.
    public var depends: [Dependency]
    /// `p:` / `provides` — `name` (unversioned) or `name=version`.
    public var provides: [Dependency]
    /// `i:` / `install_if`.
    public var installIf: [Dependency]
    /// `r:` / `replaces` (installed db only in apk-tools 2.14).
    public var replaces: [Dependency]
    /// `q:` / `replaces_priority`.
    public var replacesPriority: Int?
    /// `.PKGINFO` `triggers`: globs of absolute directory paths.
    public var triggers: [String]
    /// `.PKGINFO` `datahash`: lowercase hex SHA-256 of the data member(s).
    public var dataHash: String?
    /// Set when an APKINDEX record carried an unknown uppercase field: apk-tools then considers
    /// the package uninstallable ("This apk-tools is OLD!").
    public var hasUnknownRequiredField: Bool
}

extension PackageInfo {
    /// A record with `name` and `version`; every other field is optional.
    public init(name: String, version: String, arch: String? = nil, checksum: String? = nil,
                fileSize: UInt64? = nil, installedSize: UInt64? = nil, description: String? = nil,
                url: String? = nil, license: String? = nil, origin: String? = nil,
                maintainer: String? = nil, buildTime: Int64? = nil, commit: String? = nil,
                providerPriority: Int? = nil, depends: [Dependency] = [], provides: [Dependency] = [],
                installIf: [Dependency] = [], replaces: [Dependency] = [], replacesPriority: Int? = nil,
                triggers: [String] = [], dataHash: String? = nil, hasUnknownRequiredField: Bool = false) {
        self.init(checksum: checksum, name: name, version: version, arch: arch, fileSize: fileSize,
                  installedSize: installedSize, description: description, url: url, license: license, origin: origin,
                  maintainer: maintainer, buildTime: buildTime, commit: commit, providerPriority: providerPriority,
                  depends: depends, provides: provides, installIf: installIf, replaces: replaces,
                  replacesPriority: replacesPriority, triggers: triggers, dataHash: dataHash,
                  hasUnknownRequiredField: hasUnknownRequiredField)
    }

    /// The version as an orderable value.
    public var apkVersion: APKVersion { APKVersion(version) }

    /// `name-version`, the way apk names packages in messages and file names.
    public var nameVersion: String { "\(name)-\(version)" }

    /// The file name the package has in its repository: `<P>-<V>.apk`.
    public var fileName: String { "\(name)-\(version).apk" }
}
