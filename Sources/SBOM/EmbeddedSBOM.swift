import APK

/// The SPDX documents melange builds into packages (`/var/lib/db/sbom/<name>-<version>.spdx.json`)
/// and how their elements join the image SBOM.
public enum EmbeddedSBOM {
    /// The directory, relative to the rootfs, that holds them.
    public static let directory = "var/lib/db/sbom"

    /// Embedded SBOMs larger than this are refused rather than parsed.
    public static let maximumSize = 16 << 20

    /// The file names apko looks for, in order, for `package`: `<name>-<version>.spdx.json`,
    /// `<name>-<version without -rN>.spdx.json`, `<name>.spdx.json`.
    public static func candidateFileNames(for package: PackageInfo) -> [String] {
        var names = ["\(package.name)-\(package.version).spdx.json"]
        if let withoutRevision = versionWithoutRevision(package.version) {
            names.append("\(package.name)-\(withoutRevision).spdx.json")
        }
        names.append("\(package.name).spdx.json")
        return names
    }

    /// `1.36.1` for `1.36.1-r7`; nil when the version has no `-rN` suffix.
    private static func versionWithoutRevision(_ version: String) -> Substring? {
        guard let dash = version.lastIndex(of: "-") else { return nil }
        let revision = version[version.index(after: dash)...]
        guard revision.first == "r", revision.count > 1, revision.dropFirst().allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        return version[..<dash]
    }

    /// The first of `candidateFileNames(for:)` present in `files`, with its bytes.
    static func lookUp(_ package: PackageInfo, in files: [String: [UInt8]]) -> (name: String, bytes: [UInt8])? {
        for name in candidateFileNames(for: package) {
            if let bytes = files[name] { return (name, bytes) }
        }
        return nil
    }
}

/// The parts of one embedded SPDX document that the image SBOM takes over.
struct EmbeddedElements {
    /// Packages to copy, already cleaned (see `cleanPackage`), in the document's order.
    var packages: [[String: JSONValue]] = []
    /// Relationships among the copied packages and the installed package's own entry.
    var relationships: [SPDXRelationship] = []
    /// Described packages that are not the installed package itself: the image contains them.
    var describedOthers: [String] = []
    /// Members of the described package that stands for the installed package, if there is one.
    var unified: [String: JSONValue]?
    /// The document's `hasExtractedLicensingInfos`.
    var extractedLicenses: [ExtractedLicense] = []

    /// Reads `bytes` (the SBOM `fileName` shipped by `package`, whose entry in the image SBOM is
    /// `packageID`) the way apko merges melange SBOMs: the packages the document describes, and
    /// every package reachable from them through relationships (files excluded), with the
    /// relationships among them. A described package with the installed package's name *is*
    /// that package: it is folded into `packageID`, so the copied relationships attach to the
    /// entry built from the verified index. Elements whose identifier is not a valid
    /// `SPDXRef-…` are left out, with every relationship that touches them.
    init(bytes: [UInt8], fileName: String, package: PackageInfo, packageID: String) throws(SBOMError) {
        let source = "\(EmbeddedSBOM.directory)/\(fileName)"
        guard bytes.count <= EmbeddedSBOM.maximumSize else {
            throw SBOMError(.tooLarge, "embedded SBOM is larger than \(EmbeddedSBOM.maximumSize) bytes", source: source)
        }
        guard let document = try JSONValue.parse(bytes, source: source).objectValue else {
            throw SBOMError(.malformedEmbeddedSBOM, "not a JSON object", source: source)
        }
        guard let version = document["spdxVersion"]?.stringValue, version.hasPrefix("SPDX-2.") else {
            throw SBOMError(.malformedEmbeddedSBOM, "not an SPDX 2 document (no spdxVersion SPDX-2.x)", source: source)
        }
        let documentID = document["SPDXID"]?.stringValue ?? "SPDXRef-DOCUMENT"

        var packagesByID: [String: [String: JSONValue]] = [:]
        var packageOrder: [String] = []
        for element in document["packages"]?.arrayValue ?? [] {
            guard let members = element.objectValue, let id = members["SPDXID"]?.stringValue,
                  SPDXIdentifier.isValid(id), members["name"]?.stringValue != nil,
                  packagesByID[id] == nil else { continue }
            packagesByID[id] = members
            packageOrder.append(id)
        }

        var relationships: [SPDXRelationship] = []
        for element in document["relationships"]?.arrayValue ?? [] {
            guard let element = element.objectValue,
                  let from = element["spdxElementId"]?.stringValue,
                  let type = element["relationshipType"]?.stringValue,
                  let to = element["relatedSpdxElement"]?.stringValue else { continue }
            relationships.append(SPDXRelationship(from, type, to))
        }

        var described: [String] = []
        for id in document["documentDescribes"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !described.contains(id) {
            described.append(id)
        }
        for relationship in relationships
        where relationship.element == documentID && relationship.type == "DESCRIBES" && !described.contains(relationship.related) {
            described.append(relationship.related)
        }
        described = described.filter { packagesByID[$0] != nil }

        // Breadth-first from the described packages along relationships, as apko does; files
        // (SPDXRef-File-…) and anything that is not a package in this document stay behind.
        var reachable = Set(described)
        var queue = described
        while !queue.isEmpty {
            let current = queue.removeFirst()
            for relationship in relationships where relationship.element == current {
                let next = relationship.related
                guard !next.hasPrefix("SPDXRef-File-"), packagesByID[next] != nil, reachable.insert(next).inserted else {
                    continue
                }
                queue.append(next)
            }
        }

        let unifiedID = described.first { packagesByID[$0]?["name"]?.stringValue == package.name }
        var rename: [String: String] = [:]
        if let unifiedID {
            rename[unifiedID] = packageID
            unified = packagesByID[unifiedID]
        }
        for id in packageOrder where reachable.contains(id) && id != unifiedID {
            rename[id] = id
            packages.append(packagesByID[id]!)
        }
        describedOthers = described.filter { $0 != unifiedID }
        for relationship in relationships where relationship.element != documentID {
            guard let from = rename[relationship.element] else { continue }
            let to: String
            if relationship.related == "NONE" || relationship.related == "NOASSERTION" {
                to = relationship.related
            } else if let renamed = rename[relationship.related] {
                to = renamed
            } else {
                continue
            }
            guard from != to else { continue }
            self.relationships.append(SPDXRelationship(from, relationship.type, to))
        }

        for element in document["hasExtractedLicensingInfos"]?.arrayValue ?? [] {
            guard let members = element.objectValue, let id = members["licenseId"]?.stringValue,
                  id.hasPrefix("LicenseRef-"), id.utf8.dropFirst("LicenseRef-".count).allSatisfy(SPDXIdentifier.isIDStringByte),
                  id.count > "LicenseRef-".count else { continue }
            let text = members["extractedText"]?.stringValue ?? id
            extractedLicenses.append(ExtractedLicense(licenseID: id, extractedText: text.isEmpty ? id : text,
                                                      name: members["name"]?.stringValue))
        }
    }
}

/// The SPDX 2.3 package fields a copied package may keep; the rest (annotations, file lists,
/// verification codes, anything unknown) is dropped because it could refer to elements that
/// are not copied or fail validation.
private let copiedPackageFields: Set<String> = [
    "SPDXID", "name", "versionInfo", "packageFileName", "supplier", "originator", "downloadLocation",
    "checksums", "homepage", "sourceInfo", "licenseConcluded", "licenseDeclared", "licenseComments",
    "copyrightText", "summary", "description", "comment", "externalRefs", "attributionTexts",
    "primaryPackagePurpose", "releaseDate", "builtDate", "validUntilDate",
]

private let packagePurposes: Set<String> = [
    "APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "OPERATING-SYSTEM", "OPERATING_SYSTEM", "DEVICE",
    "FIRMWARE", "SOURCE", "ARCHIVE", "FILE", "INSTALL", "OTHER",
]

/// Hex digits per checksum algorithm, for the fixed-length ones SPDX 2.3 lists.
private let checksumLengths: [String: Int] = [
    "SHA1": 40, "SHA224": 56, "SHA256": 64, "SHA384": 96, "SHA512": 128, "SHA3-256": 64, "SHA3-384": 96,
    "SHA3-512": 128, "BLAKE2b-256": 64, "BLAKE2b-384": 96, "BLAKE2b-512": 128, "MD2": 32, "MD4": 32, "MD5": 32,
    "ADLER32": 8,
]

/// A copied package made safe for this document, as apko does (`filesAnalyzed` false, no
/// verification code; missing `originator` ← the image supplier, missing `supplier` ←
/// `originator`) and beyond: only known fields, licenses through `licenses`, locations that
/// validators accept, well-formed checksums, purposes and references.
func cleanPackage(_ original: [String: JSONValue], licenses: LicenseCatalog, imageSupplier: String) -> JSONValue {
    var members = original.filter { copiedPackageFields.contains($0.key) }
    members["filesAnalyzed"] = .bool(false)

    for key in ["licenseConcluded", "licenseDeclared"] {
        if let raw = members[key]?.stringValue {
            members[key] = .string(licenses.value(for: raw))
        } else {
            members[key] = nil
        }
    }
    if let location = members["downloadLocation"]?.stringValue, location == "NONE" || location == "NOASSERTION" {
        // kept
    } else {
        let portable = members["downloadLocation"]?.stringValue.flatMap(SPDXLocation.portableURL)
        members["downloadLocation"] = .string(portable ?? "NOASSERTION")
    }
    if let homepage = members["homepage"]?.stringValue, homepage != "NONE", homepage != "NOASSERTION" {
        members["homepage"] = SPDXLocation.portableURL(homepage).map(JSONValue.string)
    }

    let originator = members["originator"]?.stringValue.flatMap(validActor)
    members["originator"] = .string(originator ?? imageSupplier)
    let supplier = members["supplier"]?.stringValue.flatMap(validActor)
    members["supplier"] = .string(supplier ?? originator ?? imageSupplier)

    if let purpose = members["primaryPackagePurpose"]?.stringValue {
        // spdx-tools writes the enum names (OPERATING_SYSTEM); the spec's tag-value form uses "-".
        members["primaryPackagePurpose"] = packagePurposes.contains(purpose)
            ? .string(String(purpose.map { $0 == "-" ? "_" : $0 })) : nil
    }
    for key in ["releaseDate", "builtDate", "validUntilDate"] {
        if let date = members[key]?.stringValue, !isSPDXDate(date) { members[key] = nil }
    }
    if let checksums = members["checksums"]?.arrayValue {
        let kept = checksums.filter { checksum in
            guard let algorithm = checksum["algorithm"]?.stringValue, let value = checksum["checksumValue"]?.stringValue,
                  let length = checksumLengths[algorithm] else { return false }
            return value.utf8.count == length && value.utf8.allSatisfy(isLowercaseHex)
        }
        members["checksums"] = kept.isEmpty ? nil : .array(kept)
    }
    if let references = members["externalRefs"]?.arrayValue {
        let kept: [JSONValue] = references.compactMap { reference in
            guard var category = reference["referenceCategory"]?.stringValue,
                  let type = reference["referenceType"]?.stringValue, !type.isEmpty,
                  let locator = reference["referenceLocator"]?.stringValue, !locator.isEmpty,
                  !locator.contains(" ") else { return nil }
            // The 2.3 JSON schema spells the category with a hyphen; 2.2 documents used "_".
            category = String(category.map { $0 == "_" ? "-" : $0 })
            guard ["SECURITY", "PACKAGE-MANAGER", "PERSISTENT-ID", "OTHER"].contains(category) else { return nil }
            if type == "purl", !isPlausiblePURL(locator) { return nil }
            var cleaned: [String: JSONValue] = [
                "referenceCategory": .string(category), "referenceType": .string(type),
                "referenceLocator": .string(locator),
            ]
            if let comment = reference["comment"]?.stringValue { cleaned["comment"] = .string(comment) }
            return .object(cleaned)
        }
        members["externalRefs"] = kept.isEmpty ? nil : .array(kept)
    }
    return .object(members)
}

/// `Person: …` or `Organization: …` with a non-empty name, or nil.
func validActor(_ text: String) -> String? {
    for prefix in ["Person:", "Organization:"] where text.hasPrefix(prefix) {
        let name = text.dropFirst(prefix.count).trimmingPrefix(" ")
        if let open = name.firstIndex(of: "("), name[..<open].allSatisfy({ $0 == " " }) { return nil }
        return name.contains(where: { $0 != " " }) ? text : nil
    }
    return nil
}

/// `YYYY-MM-DDThh:mm:ssZ`.
private func isSPDXDate(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 20 else { return false }
    for (index, byte) in bytes.enumerated() {
        switch index {
        case 4, 7: guard byte == UInt8(ascii: "-") else { return false }
        case 10: guard byte == UInt8(ascii: "T") else { return false }
        case 13, 16: guard byte == UInt8(ascii: ":") else { return false }
        case 19: guard byte == UInt8(ascii: "Z") else { return false }
        default: guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return false }
        }
    }
    return true
}

private func isLowercaseHex(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
}

/// The shape spdx-tools checks purls against: `pkg:<type>/…/<name>`.
private func isPlausiblePURL(_ locator: String) -> Bool {
    guard locator.hasPrefix("pkg:") else { return false }
    let rest = locator.dropFirst(4)
    guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex else { return false }
    return rest.index(after: slash) < rest.endIndex
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
