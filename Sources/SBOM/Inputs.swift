import APK

/// What the image's `/etc/os-release` says about its distribution (the fields the SBOM uses).
public struct OSRelease: Sendable, Hashable {
    /// `ID` (`alpine`, `wolfi`), the purl namespace and `distro` qualifier of apk packages.
    public var id: String?
    /// `NAME` (`Alpine Linux`, `Wolfi`), the supplier organization of the image and packages.
    public var name: String?
    /// `VERSION_ID` (`3.16.9`, `20230201`), the version of the operating system and its layers.
    public var versionID: String?

    /// An os-release with the given fields; empty strings count as absent.
    public init(id: String? = nil, name: String? = nil, versionID: String? = nil) {
        self.id = id.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name.flatMap { $0.isEmpty ? nil : $0 }
        self.versionID = versionID.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Reads os-release(5) text: `KEY=value` lines, values optionally in double or single
    /// quotes, backslash escapes inside double quotes, `#` comments. Unknown keys and malformed
    /// lines are ignored, as systemd does.
    public static func parse(_ text: String) -> OSRelease {
        var values: [String: String] = [:]
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            let line = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                continue
            }
            values[key] = unquote(line[line.index(after: equals)...].trimmingTrailingWhitespace())
        }
        return OSRelease(id: values["ID"], name: values["NAME"], versionID: values["VERSION_ID"])
    }

    private static func unquote(_ value: Substring) -> String {
        guard let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote else {
            return String(value)
        }
        let inner = value.dropFirst().dropLast()
        guard quote == "\"" else { return String(inner) }
        var result = ""
        var escaping = false
        for character in inner {
            if escaping {
                result.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension Substring {
    fileprivate func trimmingTrailingWhitespace() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " || self[index(before: end)] == "\t" {
            end = index(before: end)
        }
        return self[startIndex..<end]
    }
}

/// One layer of an image as its manifest lists it.
public struct LayerDescriptor: Sendable, Hashable {
    /// `sha256:<hex>` of the compressed layer blob.
    public var digest: String
    /// The manifest's media type for it (`application/vnd.oci.image.layer.v1.tar+gzip`).
    public var mediaType: String

    /// A layer with the given digest and media type.
    public init(digest: String, mediaType: String) {
        self.digest = digest
        self.mediaType = mediaType
    }
}

/// The image an SBOM describes, as the OCI writer produced it. Values are plain strings so
/// this module does not depend on the OCI module.
public struct ImageDescriptor: Sendable, Hashable {
    /// The repository the image is tagged into (`registry.example.com/team/app`), if any; its
    /// last path element names the image in purls (`image` when there is none).
    public var repository: String?
    /// The tag (`1.0`), if any.
    public var tag: String?
    /// `sha256:<hex>` of the image manifest.
    public var manifestDigest: String
    /// The manifest's media type.
    public var manifestMediaType: String
    /// OCI architecture (`amd64`, `arm64`, `arm`).
    public var architecture: String
    /// OCI variant (`v7`), if any.
    public var variant: String?
    /// OCI operating system.
    public var os: String
    /// The layers, base first.
    public var layers: [LayerDescriptor]

    /// An image description; the media type defaults to the OCI manifest and the OS to linux.
    public init(repository: String? = nil, tag: String? = nil, manifestDigest: String,
                manifestMediaType: String = ImageDescriptor.ociManifestMediaType,
                architecture: String, variant: String? = nil, os: String = "linux", layers: [LayerDescriptor]) {
        self.repository = repository
        self.tag = tag
        self.manifestDigest = manifestDigest
        self.manifestMediaType = manifestMediaType
        self.architecture = architecture
        self.variant = variant
        self.os = os
        self.layers = layers
    }

    /// `application/vnd.oci.image.manifest.v1+json`.
    public static let ociManifestMediaType = "application/vnd.oci.image.manifest.v1+json"
    /// `application/vnd.oci.image.index.v1+json`.
    public static let ociIndexMediaType = "application/vnd.oci.image.index.v1+json"
}

/// One package installed in the image, with where it came from.
public struct ImagePackage: Sendable, Hashable {
    /// Its metadata from the verified APKINDEX record (name, version, `C:`, license,
    /// maintainer, …) with `dataHash` from its verified `.PKGINFO`.
    public var info: PackageInfo
    /// The repository it was installed from (`https://dl-cdn.alpinelinux.org/alpine/v3.16/main`).
    public var repository: String?
    /// The URL of its `.apk` file.
    public var downloadURL: String?
    /// The names of the installed packages that satisfied its dependencies (the resolver's
    /// edges); each must be installed too.
    public var dependencies: [String]

    /// A package with its origin and resolved dependencies.
    public init(info: PackageInfo, repository: String? = nil, downloadURL: String? = nil, dependencies: [String] = []) {
        self.info = info
        self.repository = repository
        self.downloadURL = downloadURL
        self.dependencies = dependencies
    }
}

/// Everything the SBOM of one architecture's image is made from.
public struct ImageSBOMInput: Sendable {
    /// The image.
    public var image: ImageDescriptor
    /// apk's name for the architecture (`x86_64`, `aarch64`): the file name and the `arch`
    /// qualifier of packages without their own `A:`.
    public var apkArchitecture: String
    /// The build time in seconds since the epoch (SOURCE_DATE_EPOCH or the newest package's
    /// build time, as the caller decides), never the wall clock.
    public var created: Int64
    /// The image's `/etc/os-release`, or nil when it has none.
    public var osRelease: OSRelease?
    /// The installed packages in install order.
    public var packages: [ImagePackage]
    /// apko's `vcs-url`: `<repository URL>@<commit>` (the commit is optional).
    public var vcsURL: String?
    /// Melange SBOMs found in the rootfs under `var/lib/db/sbom/`, keyed by file name
    /// (`busybox-1.36.1-r7.spdx.json`); see `EmbeddedSBOM.candidateFileNames(for:)`.
    public var embeddedSBOMs: [String: [UInt8]]
    /// The distill version for `creators` (`Tool: distill-<version>`).
    public var toolVersion: String

    /// An input with the given parts.
    public init(image: ImageDescriptor, apkArchitecture: String, created: Int64, osRelease: OSRelease?,
                packages: [ImagePackage], vcsURL: String? = nil, embeddedSBOMs: [String: [UInt8]] = [:],
                toolVersion: String) {
        self.image = image
        self.apkArchitecture = apkArchitecture
        self.created = created
        self.osRelease = osRelease
        self.packages = packages
        self.vcsURL = vcsURL
        self.embeddedSBOMs = embeddedSBOMs
        self.toolVersion = toolVersion
    }
}

/// One architecture's image inside a multi-architecture index.
public struct IndexEntry: Sendable, Hashable {
    /// `sha256:<hex>` of the image manifest.
    public var manifestDigest: String
    /// The manifest's media type.
    public var manifestMediaType: String
    /// OCI architecture (`amd64`).
    public var architecture: String
    /// OCI variant (`v7`), if any.
    public var variant: String?
    /// OCI operating system.
    public var os: String

    /// An index entry; the media type defaults to the OCI manifest and the OS to linux.
    public init(manifestDigest: String, manifestMediaType: String = ImageDescriptor.ociManifestMediaType,
                architecture: String, variant: String? = nil, os: String = "linux") {
        self.manifestDigest = manifestDigest
        self.manifestMediaType = manifestMediaType
        self.architecture = architecture
        self.variant = variant
        self.os = os
    }
}

/// Everything the index SBOM (`sbom-index.spdx.json`) is made from.
public struct IndexSBOMInput: Sendable {
    /// The repository the index is tagged into, if any.
    public var repository: String?
    /// The tag, if any.
    public var tag: String?
    /// `sha256:<hex>` of the image index.
    public var indexDigest: String
    /// The index's media type.
    public var indexMediaType: String
    /// The per-architecture images, in index order.
    public var images: [IndexEntry]
    /// The build time in seconds since the epoch.
    public var created: Int64
    /// The os-release of the images (they share it), or nil.
    public var osRelease: OSRelease?
    /// The distill version for `creators`.
    public var toolVersion: String

    /// An input with the given parts; the media type defaults to the OCI index.
    public init(repository: String? = nil, tag: String? = nil, indexDigest: String,
                indexMediaType: String = ImageDescriptor.ociIndexMediaType, images: [IndexEntry], created: Int64,
                osRelease: OSRelease?, toolVersion: String) {
        self.repository = repository
        self.tag = tag
        self.indexDigest = indexDigest
        self.indexMediaType = indexMediaType
        self.images = images
        self.created = created
        self.osRelease = osRelease
        self.toolVersion = toolVersion
    }
}
