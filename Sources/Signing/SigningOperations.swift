import APK
import DistillCrypto
import Foundation
import OCI
import SBOM

/// Where the image to sign or verify is: an OCI layout directory or a registry reference.
public enum ImageLocation: Sendable, Hashable, CustomStringConvertible {
    /// An OCI layout; `refName` picks an index.json entry, nil means the layout's one image.
    case layout(directory: String, refName: String?)
    /// An image in a registry (by tag or digest).
    case registry(ImageReference)

    /// An existing directory is a layout; anything else must be an image reference.
    public static func parse(_ argument: String, refName: String? = nil) throws(SigningError) -> ImageLocation {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw SigningError(.invalidArgument, "is a file; expected an OCI layout directory or an image reference", source: argument)
            }
            return .layout(directory: argument, refName: refName)
        }
        guard refName == nil else {
            throw SigningError(.invalidArgument, "--ref-name only applies to an OCI layout directory, and \(argument) is none")
        }
        do {
            return .registry(try ImageReference(parsing: argument))
        } catch {
            throw SigningError(.invalidArgument, "neither an existing directory nor an image reference (\(error.message))", source: argument)
        }
    }

    /// The directory, or the reference as given.
    public var description: String {
        switch self {
        case .layout(let directory, let refName): refName.map { "\(directory) (\($0))" } ?? directory
        case .registry(let reference): reference.description
        }
    }
}

/// The SBOM files `distill build` writes beside an image (apko's names): `sbom-<apk arch>.spdx.json`
/// per platform and `sbom-index.spdx.json` for the index.
public enum SBOMFiles {
    /// The file name of the SBOM for `manifest`.
    public static func fileName(for manifest: SignableImage.Manifest) throws(SigningError) -> String {
        if MediaType.isIndex(manifest.descriptor.mediaType) { return IndexSBOM.fileName }
        guard let platform = manifest.descriptor.platform else {
            throw SigningError(.invalidArgument, "the platform of manifest \(manifest.descriptor.digest) is unknown, so its SBOM file cannot be named")
        }
        let name = platform.architecture + (platform.variant.map { "/\($0)" } ?? "")
        guard let architecture = Architecture(name) else {
            throw SigningError(.invalidArgument, "no apk architecture corresponds to platform \(platform)")
        }
        return ImageSBOM.fileName(apkArchitecture: architecture.apkName)
    }

    /// Reads the SBOM of every manifest of `image` from `directory`, keyed by manifest digest.
    /// Every file must exist: attesting only part of an image would fail verification later.
    public static func documents(for image: SignableImage, in directory: String) throws(SigningError) -> [Digest: [UInt8]] {
        var documents: [Digest: [UInt8]] = [:]
        for manifest in image.manifests {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(try fileName(for: manifest)).path
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw SigningError(.invalidSBOM, "missing: no SBOM for \(manifest.descriptor.digest) (\(manifest.label))", source: path)
            }
            defer { try? handle.close() }
            let data: Data
            do {
                data = try handle.read(upToCount: SPDXDocumentCheck.maximumSize + 1) ?? Data()
            } catch {
                throw SigningError(.io, "cannot read: \(error.localizedDescription)", source: path)
            }
            guard data.count <= SPDXDocumentCheck.maximumSize else {
                throw SigningError(.tooLarge, "larger than \(SPDXDocumentCheck.maximumSize) bytes", source: path)
            }
            documents[manifest.descriptor.digest] = [UInt8](data)
        }
        return documents
    }
}

/// `distill sign` and `distill verify`: the image is located, loaded and checked here, so the
/// commands only parse flags and print.
public enum SigningOperations {
    /// Signs the image at `location` with `key`, and attests the SBOMs found in `sbomDirectory`
    /// when given. `identity` is the tagged reference written into payloads; by default it is
    /// the registry reference, or the layout entry's ref.name when that is a full reference.
    /// A layout's blobs are all verified before anything is signed; of a registry image only
    /// the manifests are read.
    public static func sign(_ location: ImageLocation, key: PrivateKey, identity: ImageReference? = nil,
                            sbomDirectory: String? = nil, access: RegistryAccess) async throws(SigningError) -> SigningReport {
        do {
            return try await signUnwrapped(location, key: key, identity: identity, sbomDirectory: sbomDirectory, access: access)
        } catch {
            throw SigningError.wrapping(error)
        }
    }

    private static func signUnwrapped(_ location: ImageLocation, key: PrivateKey, identity: ImageReference?,
                                      sbomDirectory: String?, access: RegistryAccess) async throws -> SigningReport {
        switch location {
        case .layout(let directory, let refName):
            let store = try LayoutSignatureStore(directory: directory)
            let (entry, image) = try await loadLayoutImage(store.source, refName: refName)
            try await store.adoptImageEntry(entry)
            let signer = try ImageSigner(key: key, dockerReference: try identity ?? layoutIdentity(entry, directory: directory))
            let sboms = try sbomDirectory.map { path throws(SigningError) in try SBOMFiles.documents(for: image, in: path) } ?? [:]
            let report = try await signer.sign(image, sboms: sboms, into: store)
            try await store.commit()
            return report
        case .registry(let reference):
            let store = RegistrySignatureStore(client: try access.client(for: reference), repository: reference.repository)
            let image = try await loadRegistryImage(reference, from: store.source)
            guard let named = identity ?? (reference.tag == nil ? nil : reference) else {
                throw SigningError(.invalidArgument, "\(reference) names no tag to sign as the identity; pass --identity registry/repo:tag")
            }
            let signer = try ImageSigner(key: key, dockerReference: named)
            let sboms = try sbomDirectory.map { path throws(SigningError) in try SBOMFiles.documents(for: image, in: path) } ?? [:]
            return try await signer.sign(image, sboms: sboms, into: store)
        }
    }

    /// Verifies the image at `location` with `publicKey`. For a registry image the payloads'
    /// identity must match the reference (containers/image's default policy); for a layout only
    /// when `identity` is given.
    public static func verify(_ location: ImageLocation, publicKey: PublicKey, identity: ImageReference? = nil,
                              requireAttestations: Bool = true, access: RegistryAccess) async throws(SigningError) -> VerificationReport {
        do {
            return try await verifyUnwrapped(location, publicKey: publicKey, identity: identity,
                                             requireAttestations: requireAttestations, access: access)
        } catch {
            throw SigningError.wrapping(error)
        }
    }

    private static func verifyUnwrapped(_ location: ImageLocation, publicKey: PublicKey, identity: ImageReference?,
                                        requireAttestations: Bool, access: RegistryAccess) async throws -> VerificationReport {
        switch location {
        case .layout(let directory, let refName):
            let layout: OCILayout
            do {
                layout = try OCILayout(directory: directory)
            } catch {
                throw SigningError.wrapping(error, source: directory)
            }
            let (_, image) = try await loadLayoutImage(layout, refName: refName)
            let verifier = ImageVerifier(publicKey: publicKey, requireAttestations: requireAttestations, expectedIdentity: identity)
            return await verifier.verify(image, in: layout)
        case .registry(let reference):
            let source = RegistrySource(client: try access.client(for: reference), repository: reference.repository,
                                        maximumBlobSize: DSSEEnvelope.maximumSize)
            let image = try await loadRegistryImage(reference, from: source)
            let verifier = ImageVerifier(publicKey: publicKey, requireAttestations: requireAttestations,
                                         expectedIdentity: identity ?? reference)
            return await verifier.verify(image, in: source)
        }
    }

    /// The layout's image entry and its manifests, with every blob of the image verified.
    static func loadLayoutImage(_ layout: OCILayout, refName: String?) async throws -> (Descriptor, SignableImage) {
        let entry: Descriptor
        do {
            entry = try refName.map { name throws(OCIError) in try layout.resolve(name) } ?? layout.defaultEntry()
        } catch {
            throw SigningError.wrapping(error)
        }
        return (entry, SignableImage(try await ImageLoader.load(entry, from: layout)))
    }

    /// The manifests `reference` resolves to (checked against its digest when it pins one).
    static func loadRegistryImage(_ reference: ImageReference, from source: RegistrySource) async throws -> SignableImage {
        let descriptor = try await source.resolve(reference.manifestReference)
        if let pinned = reference.digest, pinned != descriptor.digest {
            throw SigningError(.image, "resolves to \(descriptor.digest), not the pinned \(pinned)", source: reference.description)
        }
        return try await SignableImage.load(descriptor, from: source)
    }

    /// The identity of a layout's image: its ref.name, when that is a full tagged reference
    /// (`registry/repo:tag`), as `distill build` names what it built.
    static func layoutIdentity(_ entry: Descriptor, directory: String) throws(SigningError) -> ImageReference {
        let hint = "pass --identity registry/repo:tag (the reference the image is published as)"
        guard let name = entry.annotation(AnnotationKey.refName) else {
            throw SigningError(.invalidArgument, "the layout's image has no name to sign as its identity; \(hint)", source: directory)
        }
        let lastComponent = name.split(separator: "/").last ?? ""
        guard name.contains("/"), lastComponent.contains(":"), !name.contains("@"),
              let reference = try? ImageReference(parsing: name) else {
            throw SigningError(.invalidArgument, "the layout's image is named \"\(name)\", which is not a full reference; \(hint)",
                               source: directory)
        }
        return reference
    }
}
