import DistillCrypto
import OCI
import SBOM

/// An in-toto statement attesting an SPDX SBOM for one manifest, as `cosign attest --type
/// spdxjson` writes it: `_type` v0.1, one subject named after the repository whose `sha256` is
/// the attested manifest's digest, `predicateType` `https://spdx.dev/Document`, and the SPDX
/// document itself as the predicate.
public struct InTotoStatement: Sendable {
    /// The statement type cosign 2 writes.
    public static let statementTypeV01 = "https://in-toto.io/Statement/v0.1"
    /// The in-toto v1 statement type, which cosign verifies as well.
    public static let statementTypeV1 = "https://in-toto.io/Statement/v1"
    /// The predicate type `cosign verify-attestation --type spdxjson` looks for (the unversioned
    /// URI; the versioned `…/Document/v2.3` would not match).
    public static let spdxPredicateType = "https://spdx.dev/Document"

    /// One subject: a name and its digests by algorithm.
    public struct Subject: Sendable, Hashable {
        /// The subject's name (the image repository).
        public var name: String
        /// Digests by algorithm name (`sha256` → hex).
        public var digests: [String: String]

        /// A subject as given.
        public init(name: String, digests: [String: String]) {
            self.name = name
            self.digests = digests
        }
    }

    /// `_type`.
    public var statementType: String
    /// The subjects.
    public var subjects: [Subject]
    /// `predicateType`.
    public var predicateType: String
    /// The predicate (the SPDX document).
    public var predicate: JSONValue

    /// The statement bytes for an SPDX document attested for `manifestDigest` in `repository`
    /// (`registry/ns/repo`, as cosign names subjects). The SPDX document is checked to be an
    /// SPDX 2.3 JSON document and embedded compactly, its values untouched. A document that
    /// says it describes another image digest (a stale SBOM from an earlier build) is refused.
    public static func spdx(repository: String, manifestDigest: Digest, spdxDocument: [UInt8]) throws(SigningError) -> [UInt8] {
        guard spdxDocument.count <= SPDXDocumentCheck.maximumSize else {
            throw SigningError(.tooLarge, "SBOM is \(spdxDocument.count) bytes, more than the \(SPDXDocumentCheck.maximumSize)-byte limit")
        }
        let parsed = try JSONText.parse(spdxDocument, as: "SBOM", kind: .invalidSBOM)
        try SPDXDocumentCheck.check(parsed)
        let described = SPDXDocumentCheck.describedDigests(parsed)
        guard described.isEmpty || described.contains(manifestDigest) else {
            let named = described.map(\.description).sorted().joined(separator: ", ")
            throw SigningError(.invalidSBOM, "the SBOM describes \(named), not \(manifestDigest)")
        }
        var output = Array(#"{"_type":"#.utf8) + JSONText.string(statementTypeV01)
        output += Array(#","predicateType":"#.utf8) + JSONText.string(spdxPredicateType)
        output += Array(#","subject":[{"name":"#.utf8) + JSONText.string(repository)
        output += Array(#","digest":{"#.utf8) + JSONText.string(manifestDigest.algorithm.rawValue)
        output += [UInt8(ascii: ":")] + JSONText.string(manifestDigest.hex) + Array("}}]".utf8)
        output += Array(#","predicate":"#.utf8) + JSONText.compact(spdxDocument) + [UInt8(ascii: "}")]
        return output
    }

    /// Parses a statement: `_type` must be an in-toto statement (v0.1 or v1), `subject` a
    /// non-empty array of `{name, digest:{alg: hex}}`, `predicateType` a string, `predicate`
    /// present.
    public static func parse(_ bytes: [UInt8]) throws(SigningError) -> InTotoStatement {
        let document = try JSONObject(JSONText.parse(bytes, as: "in-toto statement", kind: .invalidStatement),
                                      path: "", kind: .invalidStatement)
        let type = try document.string("_type")
        guard type == statementTypeV01 || type == statementTypeV1 else {
            throw SigningError(.invalidStatement, "_type is \"\(type)\", not an in-toto statement")
        }
        var subjects: [Subject] = []
        for (index, element) in try document.array("subject").enumerated() {
            let subject = try JSONObject(element, path: "subject.\(index)", kind: .invalidStatement)
            let name = subject.members["name"] == nil ? "" : try subject.string("name")
            let digestObject = try subject.object("digest")
            var digests: [String: String] = [:]
            for (algorithm, value) in digestObject.members {
                guard let hex = value.stringValue else {
                    throw SigningError(.invalidStatement, "\(digestObject.pathOf(algorithm)) is not a string")
                }
                digests[algorithm] = hex
            }
            subjects.append(Subject(name: name, digests: digests))
        }
        guard !subjects.isEmpty else {
            throw SigningError(.invalidStatement, "the statement has no subject")
        }
        return InTotoStatement(statementType: type, subjects: subjects, predicateType: try document.string("predicateType"),
                               predicate: try document.value("predicate"))
    }

    /// Whether a subject carries `digest` (compared as lowercase hex under its algorithm name).
    public func hasSubject(_ digest: Digest) -> Bool {
        subjects.contains { $0.digests[digest.algorithm.rawValue]?.lowercased() == digest.hex }
    }
}

/// The structural checks that make a JSON value an SPDX 2.3 document for Distill's purposes:
/// the document-level fields the SPDX 2.3 schema requires, and well-formed packages and
/// relationships. It is not a full schema validator (pyspdxtools is the one the tests use).
public enum SPDXDocumentCheck {
    /// The largest SBOM attested or read back.
    public static let maximumSize = 64 << 20

    /// Throws `invalidSBOM` naming the first field that is missing or wrong.
    public static func check(_ document: JSONValue) throws(SigningError) {
        let root = try JSONObject(document, path: "", kind: .invalidSBOM)
        let version = try root.string("spdxVersion")
        guard version == "SPDX-2.3" else {
            throw SigningError(.invalidSBOM, "spdxVersion is \"\(version)\", expected \"SPDX-2.3\"")
        }
        let identifier = try root.string("SPDXID")
        guard identifier == "SPDXRef-DOCUMENT" else {
            throw SigningError(.invalidSBOM, "SPDXID is \"\(identifier)\", expected \"SPDXRef-DOCUMENT\"")
        }
        let dataLicense = try root.string("dataLicense")
        guard dataLicense == "CC0-1.0" else {
            throw SigningError(.invalidSBOM, "dataLicense is \"\(dataLicense)\", expected \"CC0-1.0\"")
        }
        _ = try root.string("name")
        let namespace = try root.string("documentNamespace")
        guard namespace.contains(":"), !namespace.contains("#") else {
            throw SigningError(.invalidSBOM, "documentNamespace \"\(namespace)\" is not an absolute URI without '#'")
        }
        let creationInfo = try root.object("creationInfo")
        let created = try creationInfo.string("created")
        guard isSPDXTimestamp(created) else {
            throw SigningError(.invalidSBOM, "creationInfo.created \"\(created)\" is not YYYY-MM-DDThh:mm:ssZ")
        }
        let creators = try creationInfo.array("creators")
        guard !creators.isEmpty, creators.allSatisfy({ $0.stringValue != nil }) else {
            throw SigningError(.invalidSBOM, "creationInfo.creators is not a non-empty array of strings")
        }
        if root.members["packages"] != nil {
            for (index, element) in try root.array("packages").enumerated() {
                let package = try JSONObject(element, path: "packages.\(index)", kind: .invalidSBOM)
                for field in ["SPDXID", "name", "downloadLocation"] { _ = try package.string(field) }
            }
        }
        if root.members["relationships"] != nil {
            for (index, element) in try root.array("relationships").enumerated() {
                let relationship = try JSONObject(element, path: "relationships.\(index)", kind: .invalidSBOM)
                for field in ["spdxElementId", "relationshipType", "relatedSpdxElement"] { _ = try relationship.string(field) }
            }
        }
    }

    /// The image digests (`sha256:<hex>`) the document says it describes: the `name` or
    /// `versionInfo` of each package it `DESCRIBES`, when that is a digest (apko and Distill
    /// name the image package after its manifest digest). Empty when the document names none.
    public static func describedDigests(_ document: JSONValue) -> Set<Digest> {
        var described = Set(document["documentDescribes"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        for relationship in document["relationships"]?.arrayValue ?? []
        where relationship["spdxElementId"]?.stringValue == "SPDXRef-DOCUMENT"
            && relationship["relationshipType"]?.stringValue == "DESCRIBES" {
            if let related = relationship["relatedSpdxElement"]?.stringValue { described.insert(related) }
        }
        var digests = Set<Digest>()
        for package in document["packages"]?.arrayValue ?? [] {
            guard let identifier = package["SPDXID"]?.stringValue, described.contains(identifier) else { continue }
            for field in ["name", "versionInfo"] {
                if let text = package[field]?.stringValue, let digest = try? OCIDigest.parse(text) {
                    digests.insert(digest)
                }
            }
        }
        return digests
    }

    private static func isSPDXTimestamp(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 20 else { return false }
        let pattern = Array("dddd-dd-ddTdd:dd:ddZ".utf8)
        return zip(bytes, pattern).allSatisfy { byte, expected in
            expected == UInt8(ascii: "d") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == expected
        }
    }
}
