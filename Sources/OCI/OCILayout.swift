import DistillCrypto
import Foundation

/// An OCI image layout directory opened for reading: its index.json entries, and manifests and
/// blobs by descriptor, each verified against its digest before it is returned.
public struct OCILayout: ImageSource {
    /// The layout directory.
    public let directory: String
    /// index.json as read.
    public let index: ImageIndex

    /// Opens `directory`: it must hold an `oci-layout` file of version 1.x and an index.json.
    public init(directory: String) throws(OCIError) {
        let layoutFile = (directory as NSString).appendingPathComponent("oci-layout")
        guard FileSystem.kind(of: layoutFile) == .file else {
            throw OCIError(.invalidLayout, "not an OCI layout (no oci-layout file)", source: directory)
        }
        struct LayoutFile: Decodable { let imageLayoutVersion: String }
        let version = try CanonicalJSON.decode(LayoutFile.self, from: try FileSystem.read(layoutFile, limit: 4096), source: layoutFile)
        guard version.imageLayoutVersion.hasPrefix("1.") else {
            throw OCIError(.invalidLayout, "unsupported imageLayoutVersion \(version.imageLayoutVersion)", source: layoutFile)
        }
        self.directory = directory
        self.index = try Self.readIndex(in: directory)
    }

    /// The entries of index.json.
    public var entries: [Descriptor] { index.manifests }

    /// The image a push or a verification means when none is named: the only entry cosign's
    /// `kind` marks as an image or image index, or else the only entry there is.
    public func defaultEntry() throws(OCIError) -> Descriptor {
        let images = entries.filter {
            let kind = $0.annotation(AnnotationKey.cosignKind)
            return kind == CosignLayoutKind.image || kind == CosignLayoutKind.imageIndex
        }
        if images.count == 1 { return images[0] }
        if images.isEmpty && entries.count == 1 { return entries[0] }
        let names = entries.compactMap { $0.annotation(AnnotationKey.refName) }
        throw OCIError(.invalidArgument, "the layout holds \(images.isEmpty ? entries.count : images.count) images, so one must be named",
                       source: directory,
                       hint: names.isEmpty ? nil : "name one of: \(names.joined(separator: ", "))")
    }

    /// The entry whose ref.name is `reference`, or the entry with that digest (`sha256:…`).
    public func resolve(_ reference: String) throws(OCIError) -> Descriptor {
        if let entry = entries.first(where: { $0.annotation(AnnotationKey.refName) == reference }) {
            return entry
        }
        if let digest = try? OCIDigest.parse(reference), let entry = entries.first(where: { $0.digest == digest }) {
            return entry
        }
        let names = entries.compactMap { $0.annotation(AnnotationKey.refName) }
        throw OCIError(.notFound, "no image named \"\(reference)\" in index.json", source: directory,
                       hint: names.isEmpty ? nil : "names present: \(names.joined(separator: ", "))")
    }

    /// The manifest's bytes, read (at most 4 MiB) and verified.
    public func manifest(_ descriptor: Descriptor) throws(OCIError) -> RawManifest {
        let path = try blobPath(descriptor)
        guard descriptor.size <= CanonicalJSON.maximumDocumentSize else {
            throw OCIError(.tooLarge, "manifest \(descriptor.digest) is \(descriptor.size) bytes, more than the \(CanonicalJSON.maximumDocumentSize)-byte limit",
                           source: path)
        }
        let bytes = try FileSystem.read(path, limit: CanonicalJSON.maximumDocumentSize)
        try BlobCheck.verify(size: Int64(bytes.count), digest: descriptor.digest.algorithm.hash(bytes), against: descriptor, source: path)
        return RawManifest(mediaType: descriptor.mediaType, bytes: bytes)
    }

    /// The blob as its file in the layout, after hashing the whole file against the descriptor.
    public func blob(_ descriptor: Descriptor) throws(OCIError) -> Blob {
        let blob = Blob(descriptor: descriptor, content: .file(try blobPath(descriptor)))
        try blob.verify()
        return blob
    }

    /// Loads the image the entry for `reference` names, or the ``defaultEntry()`` when nil.
    public func loadImage(_ reference: String? = nil) async throws -> LoadedImage {
        let entry = try reference.map { ref throws(OCIError) in try resolve(ref) } ?? defaultEntry()
        return try await ImageLoader.load(entry, from: self)
    }

    /// The path of a blob; refuses algorithms other than sha256/sha512 (the digest type already
    /// guarantees a hex-only name, so no path can escape `blobs/`).
    func blobPath(_ descriptor: Descriptor) throws(OCIError) -> String {
        let path = (directory as NSString).appendingPathComponent("blobs/\(descriptor.digest.algorithm)/\(descriptor.digest.hex)")
        guard FileSystem.kind(of: path) == .file else {
            throw OCIError(.notFound, "blob \(descriptor.digest) is missing", source: directory)
        }
        return path
    }

    /// index.json of the layout in `directory`.
    static func readIndex(in directory: String) throws(OCIError) -> ImageIndex {
        let path = (directory as NSString).appendingPathComponent("index.json")
        guard FileSystem.kind(of: path) == .file else {
            throw OCIError(.invalidLayout, "no index.json", source: directory)
        }
        let index = try CanonicalJSON.decode(ImageIndex.self, from: try FileSystem.read(path, limit: OCILayoutWriter.maximumIndexSize),
                                             source: path)
        guard index.schemaVersion == 2 else {
            throw OCIError(.invalidLayout, "schemaVersion is \(index.schemaVersion), expected 2", source: path)
        }
        return index
    }

    /// Whether `name` fits the image-spec's grammar for `org.opencontainers.image.ref.name`:
    /// components of `A-Za-z0-9` joined by `-._:@+` (or `--`), components separated by `/`.
    public static func isValidRefName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            let bytes = Array(component.utf8)
            func isAlphanumeric(_ byte: UInt8) -> Bool {
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            }
            guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else {
                return false
            }
            return bytes.allSatisfy { isAlphanumeric($0) || Array("-._:@+".utf8).contains($0) }
        }
    }
}
