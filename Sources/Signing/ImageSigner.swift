import DistillCrypto
import OCI

/// Signs images the way `cosign sign --key` (legacy tag-based format) and `cosign attest --type
/// spdxjson` do, so that cosign and containers/image (podman, skopeo, CRI-O) accept them.
///
/// For every manifest of the image (the index and each platform manifest) it appends one layer
/// to `sha256-<hex>.sig` — the simple-signing payload naming the manifest digest and the tagged
/// reference, signed with the key — and, when an SBOM is given for that manifest, one layer to
/// `sha256-<hex>.att` — a DSSE envelope of an in-toto statement whose subject is the manifest
/// digest and whose predicate is the SPDX document.
///
/// Existing layers (other keys, other signers, cosign's own) are kept. A layer this key already
/// signed for the same payload is not added again, so signing twice changes nothing.
///
/// Nothing here reads the clock: payloads carry `"optional":null`, configs cosign's zero time.
/// ECDSA signatures are randomized, so the `.sig` manifest digest of a first signing differs
/// from run to run; the image's own digests never change.
public struct ImageSigner: Sendable {
    /// The private key.
    public let key: PrivateKey
    /// The reference written into payloads (`registry/ns/repo:tag`) and whose repository names
    /// attestation subjects.
    public let dockerReference: ImageReference

    /// A signer for images published as `dockerReference`, which must carry a tag:
    /// containers/image's default policy only accepts a signature whose identity is the tagged
    /// reference being pulled (or, pulling by digest, any tag of the repository).
    public init(key: PrivateKey, dockerReference: ImageReference) throws(SigningError) {
        guard let tag = dockerReference.tag else {
            throw SigningError(.invalidArgument, "the signed identity \(dockerReference) has no tag",
                               source: "reference")
        }
        self.key = key
        // The digest part, if any, is what the payload's other field says; the identity is the tag.
        do {
            self.dockerReference = try ImageReference(registry: dockerReference.registry, repository: dockerReference.repository,
                                                      tag: tag, digest: nil)
        } catch {
            throw SigningError.wrapping(error)
        }
    }

    /// The `docker-reference` every payload carries: `registry/repository:tag`.
    public var identity: String { dockerReference.description }

    /// The subject name of attestations: the repository without tag (`registry/repository`), as
    /// cosign names it.
    public var subjectName: String { dockerReference.name }

    /// The `.sig` layer for `digest`: the payload and its base64 signature annotation.
    public func signatureLayer(for digest: Digest) throws(SigningError) -> CosignLayer {
        let payload = SimpleSigningPayload(dockerReference: identity, manifestDigest: digest).bytes
        return CosignLayer(mediaType: CosignMediaType.simpleSigning, payload: payload,
                           annotations: [CosignMediaType.signatureAnnotation: Base64.encode(try sign(payload))])
    }

    /// The `.att` layer for `digest` attesting `sbom` (SPDX 2.3 JSON bytes).
    public func attestationLayer(for digest: Digest, sbom: [UInt8]) throws(SigningError) -> CosignLayer {
        let statement = try InTotoStatement.spdx(repository: subjectName, manifestDigest: digest, spdxDocument: sbom)
        return try attestationLayer(statement: statement)
    }

    private func attestationLayer(statement: [UInt8]) throws(SigningError) -> CosignLayer {
        let envelope = try DSSEEnvelope.sign(payloadType: DSSEEnvelope.inTotoPayloadType, payload: statement, with: key)
        return CosignLayer(mediaType: CosignMediaType.dsseEnvelope, payload: envelope.bytes,
                           annotations: [CosignMediaType.signatureAnnotation: "",
                                         CosignMediaType.predicateTypeAnnotation: InTotoStatement.spdxPredicateType])
    }

    private func sign(_ payload: [UInt8]) throws(SigningError) -> [UInt8] {
        do {
            return try key.signature(for: payload)
        } catch {
            throw SigningError(.signingFailed, "cannot sign: \(error.message)")
        }
    }

    /// Signs every manifest of `image` and attests the SBOMs in `sboms` (keyed by the digest of
    /// the manifest each describes) into `store`: the top-level manifest first, then the
    /// platforms, each signature before its attestation. Every SBOM is checked before anything
    /// is written. A layout store still needs its ``LayoutSignatureStore/commit()``.
    public func sign(_ image: SignableImage, sboms: [Digest: [UInt8]] = [:],
                     into store: some SignatureStore) async throws(SigningError) -> SigningReport {
        do {
            return try await signUnwrapped(image, sboms: sboms, into: store)
        } catch {
            throw SigningError.wrapping(error)
        }
    }

    private func signUnwrapped(_ image: SignableImage, sboms: [Digest: [UInt8]], into store: some SignatureStore) async throws -> SigningReport {
        let manifests = image.manifests
        let known = Set(manifests.map(\.descriptor.digest))
        if let stray = sboms.keys.sorted(by: { $0.description < $1.description }).first(where: { !known.contains($0) }) {
            throw SigningError(.invalidSBOM, "an SBOM was given for \(stray), which is not a manifest of the image \(image.top.digest)")
        }
        var statements: [Digest: [UInt8]] = [:]
        for manifest in manifests {
            guard let sbom = sboms[manifest.descriptor.digest] else { continue }
            do {
                statements[manifest.descriptor.digest] = try InTotoStatement.spdx(
                    repository: subjectName, manifestDigest: manifest.descriptor.digest, spdxDocument: sbom)
            } catch {
                throw error.located(at: "SBOM for \(manifest.descriptor.digest) (\(manifest.label))")
            }
        }

        var report = SigningReport()
        for manifest in manifests {
            let digest = manifest.descriptor.digest
            let payload = SimpleSigningPayload(dockerReference: identity, manifestDigest: digest).bytes
            report.entries.append(try await append(.signatures, for: manifest, into: store, isDuplicate: { layer in
                guard layer.mediaType == CosignMediaType.simpleSigning, layer.payload == payload,
                      let signature = (try? layer.annotatedSignature()) ?? nil else { return false }
                return (try? key.publicKey.isValidSignature(signature, for: payload)) == true
            }, makeLayer: { () throws(SigningError) in try signatureLayer(for: digest) }))

            guard let statement = statements[digest] else { continue }
            report.entries.append(try await append(.attestations, for: manifest, into: store, isDuplicate: { layer in
                guard layer.mediaType == CosignMediaType.dsseEnvelope,
                      let envelope = try? DSSEEnvelope.parse(layer.payload) else { return false }
                return envelope.payloadType == DSSEEnvelope.inTotoPayloadType && envelope.payload == statement
                    && envelope.isSigned(by: key.publicKey)
            }, makeLayer: { () throws(SigningError) in try attestationLayer(statement: statement) }))
        }
        return report
    }

    /// Reads the artifact, appends the new layer unless an equivalent one is there, writes it.
    private func append(_ kind: CosignArtifactKind, for manifest: SignableImage.Manifest, into store: some SignatureStore,
                        isDuplicate: (CosignLayer) -> Bool,
                        makeLayer: () throws(SigningError) -> CosignLayer) async throws -> SigningReport.Entry {
        let tag = kind.tag(for: manifest.descriptor.digest)
        var layers: [CosignLayer] = []
        if let existing = try await store.artifact(tag: tag) {
            layers = try CosignArtifact.layers(of: existing)
        }
        if layers.contains(where: isDuplicate) {
            return SigningReport.Entry(kind: kind, manifest: manifest, tag: tag, outcome: .alreadyPresent)
        }
        layers.append(try makeLayer())
        try await store.store(try CosignArtifact.image(layers: layers), tag: tag, kind: kind, ofTopLevelImage: manifest.isTopLevel)
        return SigningReport.Entry(kind: kind, manifest: manifest, tag: tag, outcome: .added(layerCount: layers.count))
    }
}

/// What ``ImageSigner/sign(_:sboms:into:)`` did, one entry per artifact touched.
public struct SigningReport: Sendable {
    /// One artifact.
    public struct Entry: Sendable, Hashable {
        /// What happened to the artifact.
        public enum Outcome: Sendable, Hashable {
            /// A layer was appended; the artifact now has `layerCount` layers.
            case added(layerCount: Int)
            /// This key had already signed the same payload; nothing was written.
            case alreadyPresent
        }

        /// Signature or attestation.
        public var kind: CosignArtifactKind
        /// The manifest signed or attested.
        public var manifest: SignableImage.Manifest
        /// The artifact's tag.
        public var tag: String
        /// What happened.
        public var outcome: Outcome

        /// `signed sig sha256:… (index) → sha256-….sig (1 layer)` or `… already signed with this key`.
        public var line: String {
            let subject = "\(kind) \(manifest.descriptor.digest) (\(manifest.label))"
            switch outcome {
            case .added(let count):
                return "signed \(subject) -> \(tag) (\(count) layer\(count == 1 ? "" : "s"))"
            case .alreadyPresent:
                return "kept \(subject): \(tag) already holds it, signed with this key"
            }
        }
    }

    /// The artifacts, in the order they were written.
    public var entries: [Entry] = []

    /// An empty report.
    public init() {}
}
