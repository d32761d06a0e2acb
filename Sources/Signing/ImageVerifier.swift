import DistillCrypto
import OCI

/// Verifies an image's cosign signatures and SBOM attestations with a public key, applying the
/// stricter of cosign's and containers/image's rules, and reports each manifest's result.
///
/// For every manifest (the index and each platform manifest):
/// - **sig**: `sha256-<hex>.sig` exists and is an OCI manifest; its layer blobs match their
///   digests and sizes; at least one simple-signing layer has a signature annotation that
///   verifies with the key over the payload bytes, a payload that passes containers/image's
///   strict rules, and a `docker-manifest-digest` equal to the manifest's digest (and, when an
///   expected identity is set, a `docker-reference` containers/image's default policy accepts).
/// - **att**: `sha256-<hex>.att` exists; at least one DSSE layer (annotated with
///   `dev.cosignproject.cosign/signature`, as cosign requires) has an in-toto payload whose
///   envelope signature verifies with the key over the PAE, whose predicate type is SPDX, whose
///   subject digest is the manifest's digest, and whose predicate is an SPDX 2.3 document.
///
/// Like both verifiers, one good layer is enough: other signers' layers do not fail an image.
public struct ImageVerifier: Sendable {
    /// The public key signatures must verify with.
    public let publicKey: PublicKey
    /// Whether a manifest without an SPDX attestation fails (default) or is not checked.
    public var requireAttestations: Bool
    /// The reference the image is pulled as; when set, each payload's `docker-reference` must
    /// match it as containers/image's default `matchRepoDigestOrExact` policy demands (same
    /// repository and tag; by digest, same repository).
    public var expectedIdentity: ImageReference?

    /// A verifier for `publicKey`.
    public init(publicKey: PublicKey, requireAttestations: Bool = true, expectedIdentity: ImageReference? = nil) {
        self.publicKey = publicKey
        self.requireAttestations = requireAttestations
        self.expectedIdentity = expectedIdentity
    }

    /// Checks every manifest of `image` against the artifacts in `source`. Never throws: a
    /// problem with one artifact becomes a failed item, and the others are still checked.
    public func verify(_ image: SignableImage, in source: some ImageSource) async -> VerificationReport {
        var report = VerificationReport()
        for manifest in image.manifests {
            report.items.append(await check(.signatures, of: manifest, in: source))
            let attestation = await check(.attestations, of: manifest, in: source)
            if requireAttestations || attestation.failure != VerificationReport.Item.missingArtifact {
                report.items.append(attestation)
            }
        }
        return report
    }

    private func check(_ kind: CosignArtifactKind, of manifest: SignableImage.Manifest,
                       in source: some ImageSource) async -> VerificationReport.Item {
        var item = VerificationReport.Item(kind: kind, manifest: manifest, failure: nil)
        let tag = kind.tag(for: manifest.descriptor.digest)
        do {
            guard let artifact = try await loadArtifact(tag: tag, from: source) else {
                item.failure = VerificationReport.Item.missingArtifact
                return item
            }
            let layers = try CosignArtifact.layers(of: artifact)
            let reasons: [String]
            switch kind {
            case .signatures: reasons = checkSignatures(layers, digest: manifest.descriptor.digest)
            case .attestations: reasons = checkAttestations(layers, digest: manifest.descriptor.digest)
            }
            if !reasons.isEmpty {
                // Several layers usually fail for the same reason; say each reason once.
                var distinct: [String] = []
                for reason in reasons where !distinct.contains(reason) { distinct.append(reason) }
                item.failure = distinct.joined(separator: "; ")
            }
        } catch {
            item.failure = SigningError.wrapping(error).description
        }
        return item
    }

    /// The artifact under `tag`, or nil when there is none. Containers/image refuses a
    /// signature manifest that is not an OCI manifest, so that fails here too.
    private func loadArtifact(tag: String, from source: some ImageSource) async throws -> Image? {
        let descriptor: Descriptor
        do {
            descriptor = try await source.resolve(tag)
        } catch let error as OCIError where error.kind == .notFound {
            return nil
        }
        guard descriptor.mediaType == MediaType.imageManifest else {
            throw SigningError(.invalidArtifact, "\(tag) is \(descriptor.mediaType), not an OCI image manifest")
        }
        return try await ImageLoader.loadImage(descriptor, from: source)
    }

    /// Empty when a layer passes; otherwise why each layer failed.
    private func checkSignatures(_ layers: [CosignLayer], digest: Digest) -> [String] {
        let candidates = layers.filter { $0.mediaType == CosignMediaType.simpleSigning }
        guard !candidates.isEmpty else { return ["no \(CosignMediaType.simpleSigning) layer"] }
        var reasons: [String] = []
        for layer in candidates {
            do {
                try checkSignature(layer, digest: digest)
                return []
            } catch {
                reasons.append(error.message)
            }
        }
        return reasons
    }

    private func checkSignature(_ layer: CosignLayer, digest: Digest) throws(SigningError) {
        guard let signature = try layer.annotatedSignature() else {
            throw SigningError(.invalidArtifact, "layer has no \(CosignMediaType.signatureAnnotation) annotation")
        }
        let verified: Bool
        do {
            verified = try publicKey.isValidSignature(signature, for: layer.payload)
        } catch {
            // A signature made with another kind of key is not even well-formed for this one.
            throw SigningError(.invalidArtifact, "signature does not verify with the key (\(error.message))")
        }
        guard verified else { throw SigningError(.invalidArtifact, "signature does not verify with the key") }
        let payload = try SimpleSigningPayload.parse(layer.payload)
        guard payload.manifestDigest == digest else {
            throw SigningError(.invalidPayload, "payload is for \(payload.manifestDigest)")
        }
        try checkIdentity(payload.dockerReference)
    }

    /// containers/image's `matchRepoDigestOrExact` against ``expectedIdentity``.
    private func checkIdentity(_ signed: String) throws(SigningError) {
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: signed)
        } catch {
            throw SigningError(.invalidPayload, "docker-reference \"\(signed)\" is not a valid reference")
        }
        guard let expected = expectedIdentity else { return }
        // A name without tag or digest parses as `:latest`; containers/image rejects it instead.
        let lastComponent = signed.split(separator: "/").last ?? ""
        let isNameOnly = !signed.contains("@") && !lastComponent.contains(":")
        guard !isNameOnly else {
            throw SigningError(.invalidPayload, "docker-reference \"\(signed)\" has no tag, which containers/image's default policy refuses")
        }
        guard reference.name == expected.name else {
            throw SigningError(.invalidPayload, "docker-reference \"\(signed)\" does not name \(expected.name)")
        }
        if let tag = expected.tag, expected.digest == nil, reference.tag != tag || reference.digest != nil {
            throw SigningError(.invalidPayload, "docker-reference \"\(signed)\" is not \(expected)")
        }
    }

    /// Empty when an SPDX attestation passes; otherwise why each candidate failed.
    private func checkAttestations(_ layers: [CosignLayer], digest: Digest) -> [String] {
        let candidates = layers.filter { $0.mediaType == CosignMediaType.dsseEnvelope }
        guard !candidates.isEmpty else { return ["no \(CosignMediaType.dsseEnvelope) layer"] }
        var reasons: [String] = []
        var sawSPDX = false
        for layer in candidates {
            do {
                guard try checkAttestation(layer, digest: digest) else { continue }
                return []
            } catch {
                sawSPDX = true
                reasons.append(error.message)
            }
        }
        return sawSPDX ? reasons : ["no SPDX attestation (predicate type \(InTotoStatement.spdxPredicateType))"]
    }

    /// True when the layer is a valid SPDX attestation for `digest`, false when it is a valid
    /// attestation of another predicate type; throws why it is not valid.
    private func checkAttestation(_ layer: CosignLayer, digest: Digest) throws(SigningError) -> Bool {
        guard layer.annotations[CosignMediaType.signatureAnnotation] != nil else {
            throw SigningError(.invalidArtifact, "layer has no \(CosignMediaType.signatureAnnotation) annotation, which cosign requires")
        }
        let envelope = try DSSEEnvelope.parse(layer.payload)
        guard envelope.payloadType == DSSEEnvelope.inTotoPayloadType else {
            throw SigningError(.invalidEnvelope, "payloadType is \"\(envelope.payloadType)\", not \(DSSEEnvelope.inTotoPayloadType)")
        }
        guard envelope.isSigned(by: publicKey) else {
            throw SigningError(.invalidEnvelope, "envelope signature does not verify with the key")
        }
        let statement = try InTotoStatement.parse(envelope.payload)
        guard statement.predicateType == InTotoStatement.spdxPredicateType else { return false }
        guard statement.hasSubject(digest) else {
            let named = statement.subjects.flatMap { $0.digests.map { "\($0.key):\($0.value)" } }.sorted().joined(separator: ", ")
            throw SigningError(.invalidStatement, "subject digest differs (\(named))")
        }
        do {
            try SPDXDocumentCheck.check(statement.predicate)
        } catch {
            throw SigningError(.invalidSBOM, "predicate is not an SPDX 2.3 document: \(error.message)")
        }
        return true
    }
}

/// The outcome of ``ImageVerifier/verify(_:in:)``: one item per checked artifact.
public struct VerificationReport: Sendable {
    /// One checked signature or attestation.
    public struct Item: Sendable, Hashable {
        /// The failure text of a manifest that has no artifact at all.
        static let missingArtifact = "not found"

        /// Signature or attestation.
        public var kind: CosignArtifactKind
        /// The manifest it belongs to.
        public var manifest: SignableImage.Manifest
        /// Why it failed, or nil when it passed.
        public var failure: String?

        /// Whether it passed.
        public var passed: Bool { failure == nil }

        /// `OK sig sha256:… (index)` or `FAIL att sha256:… (linux/arm64): subject digest differs`.
        public var line: String {
            let subject = "\(kind) \(manifest.descriptor.digest) (\(manifest.label))"
            guard let failure else { return "OK \(subject)" }
            if failure == Self.missingArtifact {
                return "FAIL \(subject): no \(kind == .signatures ? "signature" : "attestation") (\(kind.tag(for: manifest.descriptor.digest)) not found)"
            }
            return "FAIL \(subject): \(failure)"
        }
    }

    /// The items, in the order they were checked.
    public var items: [Item] = []

    /// An empty report.
    public init() {}

    /// Whether every item passed (and there was at least one).
    public var passed: Bool { !items.isEmpty && items.allSatisfy(\.passed) }
}
