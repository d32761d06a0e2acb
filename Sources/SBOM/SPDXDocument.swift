import Archive
import Foundation

/// One SPDX relationship: `element relationshipType related`.
public struct SPDXRelationship: Sendable, Hashable, Comparable {
    /// `spdxElementId`.
    public var element: String
    /// `relationshipType` (`DESCRIBES`, `CONTAINS`, `DEPENDS_ON`, …).
    public var type: String
    /// `relatedSpdxElement`.
    public var related: String

    /// `element type related`.
    public init(_ element: String, _ type: String, _ related: String) {
        self.element = element
        self.type = type
        self.related = related
    }

    /// Ordered by element, then type, then related element, comparing UTF-8 bytes.
    public static func < (lhs: SPDXRelationship, rhs: SPDXRelationship) -> Bool {
        for (left, right) in [(lhs.element, rhs.element), (lhs.type, rhs.type), (lhs.related, rhs.related)]
        where left != right {
            return left.utf8.lexicographicallyPrecedes(right.utf8)
        }
        return false
    }

    var json: JSONValue {
        .object([
            "spdxElementId": .string(element),
            "relationshipType": .string(type),
            "relatedSpdxElement": .string(related),
        ])
    }
}

/// A license that is not on the SPDX list, declared once per document
/// (`hasExtractedLicensingInfos`) and referred to as `LicenseRef-…`.
public struct ExtractedLicense: Sendable, Hashable {
    /// `LicenseRef-<idstring>`.
    public var licenseID: String
    /// The text the license is known by; for an APK `L:` that is not an SPDX expression, the
    /// `L:` value itself.
    public var extractedText: String
    /// A human-readable name, when there is one.
    public var name: String?

    /// An extracted license.
    public init(licenseID: String, extractedText: String, name: String? = nil) {
        self.licenseID = licenseID
        self.extractedText = extractedText
        self.name = name
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "licenseId": .string(licenseID),
            "extractedText": .string(extractedText),
        ]
        if let name { members["name"] = .string(name) }
        return .object(members)
    }
}

/// A complete SPDX 2.3 document, ready to serialize.
public struct SPDXDocument: Sendable {
    /// `name`.
    public var name: String
    /// `documentNamespace`: an absolute URI without `#`, unique per image and reproducible.
    public var namespace: String
    /// `creationInfo.created`, `YYYY-MM-DDThh:mm:ssZ`.
    public var created: String
    /// `creationInfo.creators` (`Tool: distill-<version>`, `Organization: …`).
    public var creators: [String]
    /// `documentDescribes`, also written as `DESCRIBES` relationships.
    public var describes: [String]
    /// The packages, each a JSON object with at least `SPDXID`, `name` and `downloadLocation`.
    public var packages: [JSONValue]
    /// The relationships, `DESCRIBES` ones included.
    public var relationships: [SPDXRelationship]
    /// `hasExtractedLicensingInfos`.
    public var extractedLicenses: [ExtractedLicense]

    /// The members of the package whose `SPDXID` is `id`.
    public func package(_ id: String) -> [String: JSONValue]? {
        packages.lazy.compactMap(\.objectValue).first { $0["SPDXID"]?.stringValue == id }
    }

    /// The document as JSON: packages sorted by `SPDXID`, relationships sorted and without
    /// duplicates, extracted licenses sorted by identifier.
    public var json: JSONValue {
        func id(_ package: JSONValue) -> String { package["SPDXID"]?.stringValue ?? "" }
        var members: [String: JSONValue] = [
            "SPDXID": .string("SPDXRef-DOCUMENT"),
            "spdxVersion": .string("SPDX-2.3"),
            "dataLicense": .string("CC0-1.0"),
            "name": .string(name),
            "documentNamespace": .string(namespace),
            "creationInfo": .object([
                "created": .string(created),
                "creators": .array(creators.map(JSONValue.string)),
                "licenseListVersion": .string(LicenseExpression.licenseListVersion),
            ]),
            "documentDescribes": .array(describes.map(JSONValue.string)),
            "packages": .array(packages.sorted { id($0).utf8.lexicographicallyPrecedes(id($1).utf8) }),
            "relationships": .array(Set(relationships).sorted().map(\.json)),
        ]
        if !extractedLicenses.isEmpty {
            members["hasExtractedLicensingInfos"] = .array(
                extractedLicenses
                    .sorted { $0.licenseID.utf8.lexicographicallyPrecedes($1.licenseID.utf8) }
                    .map(\.json)
            )
        }
        return .object(members)
    }

    /// The document's bytes: the same document always gives the same bytes.
    public func serialized() -> [UInt8] {
        json.serialized()
    }

    /// Writes the document to `directory/fileName` through a temporary name in the same
    /// directory and a rename, so a reader never sees half a file.
    public func write(toDirectory directory: URL, fileName: String) throws(SBOMError) {
        let bytes = serialized()
        let destination = directory.appendingPathComponent(fileName)
        // Named with this process's id, so a later build removes it if this one is killed.
        let temporary = URL(fileURLWithPath: TemporaryName.sibling(of: destination.path))
        do {
            try Data(bytes).write(to: temporary)
            // Flushed before the rename, so after a crash the name holds the whole document or
            // the previous one.
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, destination.path) == 0 else {
                throw SBOMError(.io, "cannot rename to \(fileName): \(String(cString: strerror(errno)))",
                                source: directory.path)
            }
        } catch let error as SBOMError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw SBOMError(.io, "cannot write \(fileName): \(error.localizedDescription)", source: directory.path)
        }
    }
}

/// The fields of a package this module writes itself, in SPDX's JSON names.
struct SPDXPackage {
    var id: String
    var name: String
    var versionInfo: String?
    var supplier: String?
    var originator: String?
    var downloadLocation = "NOASSERTION"
    var homepage: String?
    var sourceInfo: String?
    var licenseConcluded: String?
    var licenseDeclared: String?
    var copyrightText: String?
    var description: String?
    var primaryPackagePurpose: String?
    var checksums: [(algorithm: String, value: String)] = []
    var purl: PackageURL?

    init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    var json: JSONValue {
        var members: [String: JSONValue] = [
            "SPDXID": .string(id),
            "name": .string(name),
            "downloadLocation": .string(downloadLocation),
            "filesAnalyzed": .bool(false),
        ]
        let optional: [(String, String?)] = [
            ("versionInfo", versionInfo), ("supplier", supplier), ("originator", originator),
            ("homepage", homepage), ("sourceInfo", sourceInfo), ("licenseConcluded", licenseConcluded),
            ("licenseDeclared", licenseDeclared), ("copyrightText", copyrightText),
            ("description", description), ("primaryPackagePurpose", primaryPackagePurpose),
        ]
        for (key, value) in optional {
            if let value { members[key] = .string(value) }
        }
        if !checksums.isEmpty {
            members["checksums"] = .array(checksums.map {
                .object(["algorithm": .string($0.algorithm), "checksumValue": .string($0.value)])
            })
        }
        if let purl {
            members["externalRefs"] = .array([.object([
                "referenceCategory": .string("PACKAGE-MANAGER"),
                "referenceType": .string("purl"),
                "referenceLocator": .string(purl.description),
            ])])
        }
        return .object(members)
    }
}
