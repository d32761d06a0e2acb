import Foundation

/// The one JSON serializer for everything Distill digests: compact, keys sorted by their UTF-8
/// bytes, slashes not escaped (Swift escapes `/` as `\/` by default, which no Go tool does and
/// which would change every digest). The same value always gives the same bytes.
public enum CanonicalJSON {
    /// The largest JSON document this module reads: distribution's own manifest limit (4 MiB).
    public static let maximumDocumentSize = 4 << 20

    /// The canonical bytes of `value`.
    public static func encode(_ value: some Encodable) throws(OCIError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return [UInt8](try encoder.encode(value))
        } catch {
            throw OCIError(.invalidJSON, "cannot encode \(type(of: value)): \(describe(error))")
        }
    }

    /// Decodes `bytes` as `type`; `source` names the document in errors.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8], source: String) throws(OCIError) -> Value {
        guard bytes.count <= maximumDocumentSize else {
            throw OCIError(.tooLarge, "JSON document is \(bytes.count) bytes, more than the \(maximumDocumentSize)-byte limit",
                           source: source)
        }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as OCIError {
            throw error.located(at: source)
        } catch {
            throw OCIError(.invalidJSON, "not a valid \(type): \(describe(error))", source: source)
        }
    }

    /// One line for a `DecodingError`: what was wrong at which key path.
    static func describe(_ error: any Error) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "top level" : codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(path(context.codingPath))"
        case DecodingError.typeMismatch(let type, let context):
            return "expected \(type) at \(path(context.codingPath))"
        case DecodingError.valueNotFound(let type, let context):
            return "null where \(type) was expected at \(path(context.codingPath))"
        case DecodingError.dataCorrupted(let context):
            let underlying = (context.underlyingError as? NSError)?.localizedDescription ?? context.debugDescription
            return "\(underlying) at \(path(context.codingPath))"
        case EncodingError.invalidValue(_, let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        default:
            return "\(error)"
        }
    }
}

/// A JSON document together with its exact bytes and the descriptor of those bytes.
///
/// Digests cover bytes, not values: once a document exists, its `bytes` are what gets written,
/// pushed and hashed, and it is never serialized again. Documents read from a layout or a
/// registry keep the bytes they were read as, whatever serializer made them.
public struct JSONDocument<Value: Codable & Sendable>: Sendable {
    /// The decoded value.
    public let value: Value
    /// The exact bytes (what the digest covers).
    public let bytes: [UInt8]
    /// mediaType, SHA-256 digest and size of `bytes`.
    public let descriptor: Descriptor

    /// Serializes `value` canonically and describes the bytes as `mediaType`.
    public init(encoding value: Value, mediaType: String) throws(OCIError) {
        let bytes = try CanonicalJSON.encode(value)
        self.value = value
        self.bytes = bytes
        self.descriptor = Descriptor(mediaType: mediaType, bytes: bytes)
    }

    /// Decodes `bytes`, keeping them as they are; `source` names the document in errors.
    public init(decoding bytes: [UInt8], mediaType: String, source: String) throws(OCIError) {
        self.value = try CanonicalJSON.decode(Value.self, from: bytes, source: source)
        self.bytes = bytes
        self.descriptor = Descriptor(mediaType: mediaType, bytes: bytes)
    }

    /// The document as a blob to publish.
    public var blob: Blob {
        Blob(descriptor: descriptor, content: .bytes(bytes))
    }

    /// The document as a manifest to publish (for manifests and indexes).
    public var rawManifest: RawManifest {
        RawManifest(mediaType: descriptor.mediaType, bytes: bytes)
    }
}

/// A manifest or index as bytes with their descriptor: what a destination stores and tags.
public struct RawManifest: Sendable, Hashable {
    /// mediaType, digest and size of `bytes`.
    public let descriptor: Descriptor
    /// The exact bytes.
    public let bytes: [UInt8]

    /// `bytes` of type `mediaType`; the digest and size are computed here, so they always match.
    public init(mediaType: String, bytes: [UInt8]) {
        self.descriptor = Descriptor(mediaType: mediaType, bytes: bytes)
        self.bytes = bytes
    }
}
