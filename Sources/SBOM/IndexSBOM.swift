/// The SPDX 2.3 document for a multi-architecture image index (`sbom-index.spdx.json`).
///
/// apko's shape: an index package and one package per architecture's image, related by
/// `index VARIANT_OF image`. With two fixes: a namespace unique per index, and `DESCRIBES` for
/// the index. The index also `CONTAINS` each image, so tools that walk composition (NTIA's
/// checker follows CONTAINS/DEPENDS_ON, not VARIANT_OF) reach the per-architecture images.
public enum IndexSBOM {
    /// `sbom-index.spdx.json`.
    public static let fileName = "sbom-index.spdx.json"

    /// The document's `documentNamespace`, derived from the index digest.
    public static func namespace(indexDigest: String) throws(SBOMError) -> String {
        ImageSBOM.namespaceBase + "index/" + (try OCIDigest(indexDigest, field: "index digest")).hex
    }

    /// Builds the document. Throws `SBOMError` for malformed digests, no images, or a
    /// timestamp SPDX cannot write.
    public static func document(for input: IndexSBOMInput) throws(SBOMError) -> SPDXDocument {
        let context = try DocumentContext(osRelease: input.osRelease, created: input.created,
                                          toolVersion: input.toolVersion)
        let index = try OCIDigest(input.indexDigest, field: "index digest")
        guard !input.images.isEmpty else {
            throw SBOMError(.invalidInput, "the index \(index.text) lists no images")
        }
        var ids = SPDXIdentifierAllocator()
        var packages: [JSONValue] = []
        var relationships: [SPDXRelationship] = []

        let indexID = ids.allocate(SPDXIdentifier.make("Package", index.text))
        var indexPackage = SPDXPackage(id: indexID, name: index.text)
        indexPackage.versionInfo = index.text
        indexPackage.supplier = context.imageSupplier
        indexPackage.description = "Multi-arch image index"
        indexPackage.sourceInfo = "Generated at image build time by distill"
        indexPackage.primaryPackagePurpose = "CONTAINER"
        indexPackage.checksums = [index.checksum]
        indexPackage.purl = DocumentContext.ociPURL(
            repository: input.repository, tag: input.tag, digest: index, mediaType: input.indexMediaType,
            architecture: nil, variant: nil, os: nil)
        packages.append(indexPackage.json)
        relationships.append(SPDXRelationship("SPDXRef-DOCUMENT", "DESCRIBES", indexID))

        var seen: Set<String> = []
        for image in input.images {
            let digest = try OCIDigest(image.manifestDigest, field: "manifest digest")
            guard seen.insert(digest.text).inserted else { continue }
            let imageID = ids.allocate(SPDXIdentifier.make("Package", digest.text))
            var imagePackage = SPDXPackage(id: imageID, name: digest.text)
            imagePackage.versionInfo = digest.text
            imagePackage.supplier = context.imageSupplier
            imagePackage.description = "Container image for \(image.os)/\(image.architecture)"
                + (image.variant.map { "/\($0)" } ?? "")
            imagePackage.primaryPackagePurpose = "CONTAINER"
            imagePackage.checksums = [digest.checksum]
            imagePackage.purl = DocumentContext.ociPURL(
                repository: input.repository, tag: nil, digest: digest, mediaType: image.manifestMediaType,
                architecture: image.architecture, variant: image.variant, os: image.os)
            packages.append(imagePackage.json)
            relationships.append(SPDXRelationship(indexID, "VARIANT_OF", imageID))
            relationships.append(SPDXRelationship(indexID, "CONTAINS", imageID))
        }

        let document = SPDXDocument(
            name: "sbom-\(index.text)",
            namespace: try namespace(indexDigest: index.text),
            created: context.created,
            creators: context.creators,
            describes: [indexID],
            packages: packages,
            relationships: relationships,
            extractedLicenses: [])
        try checkReferences(document)
        return document
    }
}
