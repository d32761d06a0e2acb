import APK
import DistillCrypto

/// The SPDX 2.3 document for one architecture's image (`sbom-<apk-arch>.spdx.json`).
///
/// Shape (apko's, reference/apko.md §4, with these differences): the namespace is unique per
/// image; the document `DESCRIBES` the image package explicitly; the image also `CONTAINS` the
/// operating-system package (when os-release has a `VERSION_ID`) so that nothing the validators
/// walk is left floating; every installed package is listed, not only those with a melange SBOM,
/// with `DEPENDS_ON` edges from the resolver; layers carry their SHA-256.
///
/// Supplier and originator of an installed package: the supplier is the distribution
/// (`Organization: <os-release NAME>`), which builds, signs and ships it; the originator is the
/// package's maintainer (`Person: Name (email)` from `m:`), falling back to the supplier. With
/// no os-release NAME the supplier falls back to the maintainer, then to `Organization: Distill`
/// (NTIA needs a supplier on every component; `NOASSERTION` does not count).
public enum ImageSBOM {
    /// Where namespaces of distill's documents start.
    public static let namespaceBase = "https://distill.dev/spdx/"

    /// The organization named when the image has no os-release `NAME`.
    public static let fallbackOrganization = "Distill"

    /// `sbom-<apk-arch>.spdx.json`, the name apko gives the file.
    public static func fileName(apkArchitecture: String) -> String {
        "sbom-\(apkArchitecture).spdx.json"
    }

    /// The document's `documentNamespace`: unique per image because it contains the manifest
    /// digest, reproducible because it contains nothing else that varies.
    public static func namespace(apkArchitecture: String, manifestDigest: String) throws(SBOMError) -> String {
        let digest = try OCIDigest(manifestDigest, field: "manifest digest")
        return namespaceBase + PackageURL.percentEncode(apkArchitecture) + "/" + digest.hex
    }

    /// Builds the document. Throws `SBOMError` for malformed digests, a dependency edge to a
    /// package that is not installed, two installed packages with one name, a timestamp SPDX
    /// cannot write, or an embedded SBOM that cannot be read.
    public static func document(for input: ImageSBOMInput) throws(SBOMError) -> SPDXDocument {
        var builder = try ImageSBOMBuilder(input: input)
        return try builder.build()
    }
}

/// `algorithm:hex` as OCI writes digests.
struct OCIDigest {
    let algorithm: String
    let hex: String

    init(_ text: String, field: String) throws(SBOMError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let lengths = ["sha256": 64, "sha512": 128]
        guard parts.count == 2, let length = lengths[String(parts[0])], parts[1].utf8.count == length,
              parts[1].utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                  || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }) else {
            throw SBOMError(.invalidInput, "\(field) '\(text)' is not sha256:<64 hex> or sha512:<128 hex>")
        }
        algorithm = String(parts[0])
        hex = String(parts[1])
    }

    var text: String { "\(algorithm):\(hex)" }

    /// The SPDX checksum for it.
    var checksum: (algorithm: String, value: String) { (algorithm.uppercased(), hex) }
}

/// The pieces every document of a build shares.
struct DocumentContext {
    let osRelease: OSRelease?
    let created: String
    let toolVersion: String

    init(osRelease: OSRelease?, created: Int64, toolVersion: String) throws(SBOMError) {
        self.osRelease = osRelease
        self.created = try SPDXTime.format(epochSeconds: created)
        self.toolVersion = toolVersion
    }

    /// The organization that supplies the image, when os-release names one.
    var distribution: String? { osRelease?.name.map(actorSafe) }

    /// `Organization: <NAME>`, or the fallback organization.
    var imageSupplier: String { "Organization: \(distribution ?? ImageSBOM.fallbackOrganization)" }

    var creators: [String] {
        ["Tool: distill-\(toolVersion)", imageSupplier]
    }

    /// The purl name of an image: the last path element of its repository, lower-cased.
    static func imageName(repository: String?) -> String {
        guard let repository, let last = repository.split(separator: "/").last, !last.isEmpty else { return "image" }
        return last.lowercased()
    }

    static func ociPURL(repository: String?, tag: String?, digest: OCIDigest, mediaType: String,
                        architecture: String?, variant: String?, os: String?) -> PackageURL {
        var qualifiers = ["mediaType": mediaType]
        qualifiers["arch"] = architecture
        qualifiers["variant"] = variant
        qualifiers["os"] = os
        qualifiers["repository_url"] = repository.map(SPDXLocation.withoutCredentials)
        qualifiers["tag"] = tag
        return PackageURL(type: "oci", name: imageName(repository: repository), version: digest.text,
                          qualifiers: qualifiers)
    }
}

/// Text placed inside `Person: name (email)` must not bring its own parentheses, which would
/// be read as the email part.
func actorSafe(_ text: String) -> String {
    String(text.filter { $0 != "(" && $0 != ")" && $0 != "\n" && $0 != "\r" }).trimmingSPDXWhitespace()
}

/// `Person: Name (email)` from an APK maintainer (`Name <email>`), or nil when it names no one.
func maintainerActor(_ maintainer: String?) -> String? {
    guard let maintainer else { return nil }
    var name = maintainer
    var email: String?
    if let open = maintainer.firstIndex(of: "<"), let close = maintainer.lastIndex(of: ">"), open < close {
        name = String(maintainer[..<open])
        email = actorSafe(String(maintainer[maintainer.index(after: open)..<close]))
    }
    name = actorSafe(name)
    if name.isEmpty, let email, !email.isEmpty { name = email }
    guard !name.isEmpty else { return nil }
    if let email, !email.isEmpty { return "Person: \(name) (\(email))" }
    return "Person: \(name)"
}

private struct ImageSBOMBuilder {
    let input: ImageSBOMInput
    let context: DocumentContext
    let manifest: OCIDigest
    var ids = SPDXIdentifierAllocator()
    var licenses = LicenseCatalog()
    var relationships: [SPDXRelationship] = []

    init(input: ImageSBOMInput) throws(SBOMError) {
        self.input = input
        context = try DocumentContext(osRelease: input.osRelease, created: input.created,
                                      toolVersion: input.toolVersion)
        manifest = try OCIDigest(input.image.manifestDigest, field: "manifest digest")
    }

    mutating func build() throws(SBOMError) -> SPDXDocument {
        let image = input.image
        let os = input.osRelease
        var packages: [JSONValue] = []

        let imageID = ids.allocate(SPDXIdentifier.make("Package", "Image", manifest.text))
        var imagePackage = SPDXPackage(id: imageID, name: manifest.text)
        imagePackage.versionInfo = manifest.text
        imagePackage.supplier = context.imageSupplier
        imagePackage.description = "Container image built by distill"
        imagePackage.primaryPackagePurpose = "CONTAINER"
        imagePackage.checksums = [manifest.checksum]
        imagePackage.purl = DocumentContext.ociPURL(
            repository: image.repository, tag: image.tag, digest: manifest, mediaType: image.manifestMediaType,
            architecture: image.architecture, variant: image.variant, os: image.os)
        packages.append(imagePackage.json)
        relationships.append(SPDXRelationship("SPDXRef-DOCUMENT", "DESCRIBES", imageID))

        var seenLayers: Set<String> = []
        for layer in image.layers {
            let digest = try OCIDigest(layer.digest, field: "layer digest")
            guard seenLayers.insert(digest.text).inserted else { continue }
            let layerID = ids.allocate(SPDXIdentifier.make("Package", "ImageLayer", digest.text))
            var layerPackage = SPDXPackage(id: layerID, name: digest.text)
            layerPackage.versionInfo = os?.versionID ?? digest.text
            layerPackage.supplier = context.imageSupplier
            layerPackage.description = "Image layer"
            layerPackage.primaryPackagePurpose = "CONTAINER"
            layerPackage.checksums = [digest.checksum]
            layerPackage.purl = DocumentContext.ociPURL(
                repository: image.repository, tag: nil, digest: digest, mediaType: layer.mediaType,
                architecture: image.architecture, variant: image.variant, os: image.os)
            packages.append(layerPackage.json)
            relationships.append(SPDXRelationship(imageID, "CONTAINS", layerID))
        }

        if let osID = os?.id {
            let id = ids.allocate(SPDXIdentifier.make("OperatingSystem", osID))
            var osPackage = SPDXPackage(id: id, name: osID)
            osPackage.versionInfo = os?.versionID
            osPackage.supplier = context.imageSupplier
            osPackage.description = "Operating System"
            osPackage.primaryPackagePurpose = "OPERATING_SYSTEM"
            packages.append(osPackage.json)
            // A component without a version fails NTIA once reachable; apko leaves it unlinked.
            if os?.versionID != nil { relationships.append(SPDXRelationship(imageID, "CONTAINS", id)) }
        }

        if let vcsURL = input.vcsURL, !vcsURL.isEmpty {
            let source = sourcePackage(vcsURL)
            packages.append(source.json)
            relationships.append(SPDXRelationship(imageID, "GENERATED_FROM", source.id))
        }

        // Installed packages: identifiers first, so copied elements cannot take them.
        var packageIDs: [String: String] = [:]
        for installed in input.packages {
            guard packageIDs[installed.info.name] == nil else {
                throw SBOMError(.invalidInput, "package '\(installed.info.name)' is installed twice")
            }
            packageIDs[installed.info.name] = ids.allocate(
                SPDXIdentifier.make("Package", "apk", installed.info.name, installed.info.version))
        }
        for installed in input.packages {
            for dependency in installed.dependencies where packageIDs[dependency] == nil {
                throw SBOMError(.invalidInput,
                                "package '\(installed.info.name)' depends on '\(dependency)', which is not installed")
            }
        }

        // Embedded melange SBOMs, in install order: the first document to use an identifier
        // keeps it, later ones point at that element.
        var unified: [String: [String: JSONValue]] = [:]
        var copied: [[String: JSONValue]] = []
        for installed in input.packages {
            guard let file = EmbeddedSBOM.lookUp(installed.info, in: input.embeddedSBOMs) else { continue }
            let packageID = packageIDs[installed.info.name]!
            let elements = try EmbeddedElements(bytes: file.bytes, fileName: file.name, package: installed.info,
                                                packageID: packageID)
            elements.extractedLicenses.forEach { licenses.declare($0) }
            unified[packageID] = elements.unified
            for package in elements.packages where ids.reserve(package["SPDXID"]!.stringValue!) {
                copied.append(package)
            }
            relationships += elements.relationships
            for described in elements.describedOthers {
                relationships.append(SPDXRelationship(imageID, "CONTAINS", described))
            }
        }

        for installed in input.packages { licenses.note(installed.info.license) }
        for package in copied {
            licenses.note(package["licenseDeclared"]?.stringValue)
            licenses.note(package["licenseConcluded"]?.stringValue)
        }
        licenses.assignNames()

        for installed in input.packages {
            let id = packageIDs[installed.info.name]!
            packages.append(apkPackage(installed, id: id, melange: unified[id]).json)
            relationships.append(SPDXRelationship(imageID, "CONTAINS", id))
            for dependency in installed.dependencies where dependency != installed.info.name {
                relationships.append(SPDXRelationship(id, "DEPENDS_ON", packageIDs[dependency]!))
            }
        }
        for package in copied {
            packages.append(cleanPackage(package, licenses: licenses, imageSupplier: context.imageSupplier))
        }

        let document = SPDXDocument(
            name: "sbom-\(manifest.text)",
            namespace: try ImageSBOM.namespace(apkArchitecture: input.apkArchitecture, manifestDigest: manifest.text),
            created: context.created,
            creators: context.creators,
            describes: [imageID],
            packages: packages,
            relationships: relationships,
            extractedLicenses: Array(licenses.extracted.values))
        try checkReferences(document)
        return document
    }

    func apkPackage(_ installed: ImagePackage, id: String, melange: [String: JSONValue]?) -> SPDXPackage {
        let info = installed.info
        let maintainer = maintainerActor(info.maintainer)
        var package = SPDXPackage(id: id, name: info.name)
        package.versionInfo = info.version
        if let distribution = context.distribution {
            package.supplier = "Organization: \(distribution)"
            package.originator = maintainer ?? package.supplier
        } else {
            package.supplier = maintainer ?? context.imageSupplier
            package.originator = package.supplier
        }
        package.downloadLocation = installed.downloadURL.flatMap(SPDXLocation.portableURL) ?? "NOASSERTION"
        package.homepage = info.url.flatMap(SPDXLocation.portableURL)
        package.licenseConcluded = "NOASSERTION"
        package.licenseDeclared = licenses.value(for: info.license)
        package.copyrightText = "NOASSERTION"
        if let copyright = melange?["copyrightText"]?.stringValue, !copyright.isEmpty {
            package.copyrightText = copyright
        }
        package.description = info.description.flatMap { $0.isEmpty ? nil : $0 }
        package.sourceInfo = sourceInfo(installed)
        if let checksum = info.checksum, checksum.hasPrefix("Q1"),
           let sha1 = try? Base64.decode(checksum.dropFirst(2)), sha1.count == 20 {
            package.checksums.append(("SHA1", Hex.encode(sha1)))
        }
        if let dataHash = info.dataHash?.lowercased(), dataHash.utf8.count == 64,
           (try? Hex.decode(dataHash)) != nil {
            package.checksums.append(("SHA256", dataHash))
        }
        let distro = context.osRelease?.id?.lowercased()
        var qualifiers = ["arch": info.arch ?? input.apkArchitecture]
        qualifiers["distro"] = distro
        package.purl = PackageURL(type: "apk", namespace: [distro ?? "unknown"], name: info.name,
                                  version: info.version, qualifiers: qualifiers)
        if info.provides.contains(where: { $0.name.hasPrefix("cmd:") }) {
            package.primaryPackagePurpose = "APPLICATION"
        } else if info.provides.contains(where: { $0.name.hasPrefix("so:") }) {
            package.primaryPackagePurpose = "LIBRARY"
        }
        return package
    }

    /// Free text that keeps what the structured fields cannot: the source package and commit,
    /// and the repository even when it is local (and so not a portable download location).
    func sourceInfo(_ installed: ImagePackage) -> String? {
        var parts: [String] = []
        if let origin = installed.info.origin, !origin.isEmpty {
            var text = "built from origin \(origin)"
            if let commit = installed.info.commit, !commit.isEmpty { text += " at commit \(commit)" }
            parts.append(text)
        }
        if let repository = installed.repository, !repository.isEmpty {
            parts.append("installed from repository \(SPDXLocation.withoutCredentials(repository))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// apko's source package for `vcs-url` (`<url>@<commit>`).
    mutating func sourcePackage(_ vcsURL: String) -> SPDXPackage {
        var url = SPDXLocation.withoutCredentials(vcsURL)
        var commit: String?
        if let at = url.lastIndex(of: "@"), !url[url.index(after: at)...].contains("/"),
           !url[url.index(after: at)...].isEmpty {
            commit = String(url[url.index(after: at)...])
            url = String(url[..<at])
        }
        var name = url
        if let schemeEnd = url.firstRange(of: "://") { name = String(url[schemeEnd.upperBound...]) }
        let id = ids.allocate(SPDXIdentifier.make("Package", "Source", name))
        var package = SPDXPackage(id: id, name: name)
        package.versionInfo = commit
        package.supplier = context.imageSupplier
        package.description = "Image configuration source"
        package.primaryPackagePurpose = "SOURCE"
        let location = commit.map { "git+\(url)@\($0)" } ?? "git+\(url)"
        package.downloadLocation = SPDXLocation.portableURL(location) ?? "NOASSERTION"
        if let commit, commit.utf8.count == 40, commit.utf8.allSatisfy({
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }) {
            package.checksums = [("SHA1", commit)]
        }
        var path = name.split(separator: "/").map(String.init)
        if path.last?.hasSuffix(".git") == true { path[path.count - 1] = String(path[path.count - 1].dropLast(4)) }
        if path.count == 3, path[0].lowercased() == "github.com" {
            package.purl = PackageURL(type: "github", namespace: [path[1].lowercased()], name: path[2].lowercased(),
                                      version: commit)
        } else if let last = path.last, !last.isEmpty {
            package.purl = PackageURL(type: "generic", name: last, version: commit, qualifiers: ["vcs_url": location])
        }
        return package
    }
}

/// Throws when a relationship names an element the document does not have: generation builds
/// the graph so that this cannot happen, and a document with a dangling reference must never
/// be written.
func checkReferences(_ document: SPDXDocument) throws(SBOMError) {
    var known: Set<String> = ["SPDXRef-DOCUMENT"]
    for package in document.packages {
        guard let id = package["SPDXID"]?.stringValue, SPDXIdentifier.isValid(id) else {
            throw SBOMError(.invalidInput, "package without a valid SPDXID in \(document.name)")
        }
        guard known.insert(id).inserted else {
            throw SBOMError(.invalidInput, "two packages have SPDXID \(id) in \(document.name)")
        }
    }
    for relationship in document.relationships {
        let relatedOK = known.contains(relationship.related)
            || relationship.related == "NONE" || relationship.related == "NOASSERTION"
        guard known.contains(relationship.element), relatedOK else {
            throw SBOMError(.invalidInput, "relationship \(relationship.element) \(relationship.type) "
                            + "\(relationship.related) names a missing element in \(document.name)")
        }
    }
    for id in document.describes where !known.contains(id) {
        throw SBOMError(.invalidInput, "documentDescribes names missing element \(id) in \(document.name)")
    }
}
