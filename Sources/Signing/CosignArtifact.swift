import DistillCrypto
import Foundation
import OCI

/// The two tag-based attachments cosign keeps beside an image: signatures (`.sig`) and
/// attestations (`.att`).
public enum CosignArtifactKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `sha256-<hex>.sig`: simple-signing payloads, the signature in a layer annotation.
    case signatures
    /// `sha256-<hex>.att`: DSSE envelopes of in-toto statements.
    case attestations

    /// `sig` or `att`, as verification reports name them.
    public var description: String {
        switch self {
        case .signatures: "sig"
        case .attestations: "att"
        }
    }

    /// The tag (or layout ref.name) the artifact for `digest` lives under: the digest with `:`
    /// turned into `-`, plus `.sig` or `.att`.
    public func tag(for digest: Digest) -> String {
        "\(digest.algorithm)-\(digest.hex).\(description)"
    }

    /// The media type of this artifact's layers.
    public var layerMediaType: String {
        switch self {
        case .signatures: CosignMediaType.simpleSigning
        case .attestations: CosignMediaType.dsseEnvelope
        }
    }

    /// cosign's local-layout `kind` for the artifact of the layout's image.
    public var layoutKind: String {
        switch self {
        case .signatures: CosignLayoutKind.signatures
        case .attestations: CosignLayoutKind.attestations
        }
    }
}

/// Media types and annotation keys of cosign's attachments.
public enum CosignMediaType {
    /// The `.sig` layer: a simple-signing payload.
    public static let simpleSigning = MediaType.cosignSimpleSigning
    /// The `.att` layer: a DSSE envelope.
    public static let dsseEnvelope = "application/vnd.dsse.envelope.v1+json"
    /// The layer annotation holding the base64 signature (`""` on attestation layers, where
    /// cosign still requires it to be present).
    public static let signatureAnnotation = "dev.cosignproject.cosign/signature"
    /// The attestation layer annotation naming the predicate type.
    public static let predicateTypeAnnotation = "predicateType"
}

/// One layer of a `.sig` or `.att` manifest: the payload (or envelope) bytes and the layer
/// descriptor's annotations.
public struct CosignLayer: Sendable, Hashable {
    /// The layer's media type.
    public let mediaType: String
    /// The payload bytes (the blob).
    public let payload: [UInt8]
    /// The layer descriptor's annotations.
    public let annotations: [String: String]

    /// A layer as given.
    public init(mediaType: String, payload: [UInt8], annotations: [String: String]) {
        self.mediaType = mediaType
        self.payload = payload
        self.annotations = annotations
    }

    /// The descriptor that goes into the manifest.
    public var descriptor: Descriptor {
        Descriptor(mediaType: mediaType, bytes: payload, annotations: annotations)
    }

    /// The base64 signature annotation, decoded; nil when the annotation is absent or empty.
    public func annotatedSignature() throws(SigningError) -> [UInt8]? {
        guard let text = annotations[CosignMediaType.signatureAnnotation], !text.isEmpty else { return nil }
        do {
            return try Base64.decode(text)
        } catch {
            throw SigningError(.invalidArtifact, "\(CosignMediaType.signatureAnnotation) is not standard base64: \(error.message)")
        }
    }
}

/// Building and reading the `.sig`/`.att` manifests: an OCI image manifest (OCI media types,
/// which containers/image insists on), a config blob shaped as go-containerregistry writes it for
/// cosign (zero times, one history entry and one diff_id per layer), and the layers.
public enum CosignArtifact {
    /// cosign's cap on the layers of one signature image.
    public static let maximumLayers = 1000

    /// The config blob for layers whose payload digests are `diffIDs`, in the key order cosign
    /// writes: `{"architecture":"","created":"0001-01-01T00:00:00Z","history":[…],"os":"",
    /// "rootfs":{"type":"layers","diff_ids":[…]},"config":{}}`. The zero time is what cosign
    /// writes without `--record-creation-timestamp`, so the config never depends on the clock.
    public static func configBytes(diffIDs: [Digest]) -> [UInt8] {
        let zeroTime = "0001-01-01T00:00:00Z"
        let history = diffIDs.map { _ in #"{"created":"\#(zeroTime)"}"# }.joined(separator: ",")
        let ids = diffIDs.map { "\"\($0)\"" }.joined(separator: ",")
        return Array(#"{"architecture":"","created":"\#(zeroTime)","history":[\#(history)],"os":"","rootfs":{"type":"layers","diff_ids":[\#(ids)]},"config":{}}"#.utf8)
    }

    /// The artifact image (manifest, config and payload blobs) holding `layers` in order.
    public static func image(layers: [CosignLayer]) throws(SigningError) -> Image {
        guard !layers.isEmpty else {
            throw SigningError(.invalidArgument, "a cosign artifact needs at least one layer")
        }
        guard layers.count <= maximumLayers else {
            throw SigningError(.tooLarge, "\(layers.count) layers, more than cosign's \(maximumLayers)")
        }
        let config = Blob(mediaType: MediaType.imageConfig, bytes: configBytes(diffIDs: layers.map(\.descriptor.digest)))
        let payloads = layers.map { Blob(descriptor: $0.descriptor, content: .bytes($0.payload)) }
        do {
            let manifest = try JSONDocument(encoding: ImageManifest(config: config.descriptor, layers: layers.map(\.descriptor)),
                                            mediaType: MediaType.imageManifest)
            // Equal payloads are one blob; Image takes each referenced blob once.
            var seen = Set<Digest>()
            let blobs = [config] + payloads.filter { seen.insert($0.descriptor.digest).inserted }
            return try Image(manifest: manifest, blobs: blobs)
        } catch {
            throw SigningError(.image, "cannot assemble the artifact manifest: \(error.message)")
        }
    }

    /// The layers of an artifact read back, with their payloads (each at most `maximumPayload`
    /// bytes; blob files are read from disk).
    public static func layers(of artifact: Image, maximumPayload: Int = DSSEEnvelope.maximumSize) throws(SigningError) -> [CosignLayer] {
        let manifest = artifact.manifest.value
        guard manifest.layers.count <= maximumLayers else {
            throw SigningError(.tooLarge, "\(manifest.layers.count) layers, more than cosign's \(maximumLayers)",
                               source: "manifest \(artifact.manifest.descriptor.digest)")
        }
        let blobs = Dictionary(artifact.blobs.map { ($0.descriptor.digest, $0) }, uniquingKeysWith: { first, _ in first })
        var layers: [CosignLayer] = []
        for descriptor in manifest.layers {
            guard let blob = blobs[descriptor.digest] else {
                throw SigningError(.invalidArtifact, "layer \(descriptor.digest) has no blob",
                                   source: "manifest \(artifact.manifest.descriptor.digest)")
            }
            guard descriptor.size <= Int64(maximumPayload) else {
                throw SigningError(.tooLarge, "layer \(descriptor.digest) is \(descriptor.size) bytes, more than the \(maximumPayload)-byte limit",
                                   source: "manifest \(artifact.manifest.descriptor.digest)")
            }
            layers.append(CosignLayer(mediaType: descriptor.mediaType, payload: try contents(of: blob),
                                      annotations: descriptor.annotations ?? [:]))
        }
        return layers
    }

    /// The bytes of a small blob; a file is read and checked against its descriptor again, since
    /// it is about to be trusted as a payload.
    static func contents(of blob: Blob) throws(SigningError) -> [UInt8] {
        switch blob.content {
        case .bytes(let bytes):
            return bytes
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SigningError(.io, "cannot read blob \(blob.descriptor.digest)", source: path)
            }
            let bytes = [UInt8](data)
            guard Int64(bytes.count) == blob.descriptor.size, blob.descriptor.digest.algorithm.hash(bytes) == blob.descriptor.digest else {
                throw SigningError(.invalidArtifact, "blob \(blob.descriptor.digest) changed on disk", source: path)
            }
            return bytes
        }
    }
}
