import Archive
import DistillCrypto
import Foundation
public import ProgressReporting

/// Writes an image as one tar file that is at the same time a `docker load` archive
/// (`manifest.json` + `repositories`) and an OCI layout (`oci-layout`, `index.json`,
/// `blobs/sha256/*`): the shape `docker save` has produced since Docker 25, which old and new
/// Docker, `skopeo … docker-archive:FILE` and `skopeo … oci-archive:FILE:NAME` all read.
///
/// Tags: with one platform, `RepoTags` is the reference itself (`app:1.0`, not apko's
/// `app:1.0-amd64`). With several, the docker view cannot give one tag to several images (the
/// last would win), so each image is tagged `<tag>-<arch><variant>` (`1.0-amd64`, `1.0-arm64`,
/// `1.0-armv7`); the variant is part of the suffix so arm/v6 and arm/v7 do not collide as they
/// do in apko (`-arm` for both). The OCI view always has the whole index under `refName`.
///
/// The file is written under a temporary name in the same directory, flushed and renamed, so
/// `path` either keeps its old content or has the complete new archive. Entries are sorted by
/// name, owned by 0:0 with empty owner names, mtime 0, mode 0644 (directories 0755): the same
/// image gives the same archive bytes.
public enum DockerArchiveWriter {
    /// One entry of docker's manifest.json.
    struct DockerManifestEntry: Codable {
        let config: String
        let repoTags: [String]
        let layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }
    }

    /// Annotation containerd (and so Docker ≥ 25 with the containerd store) names a loaded image by.
    static let containerdImageName = "io.containerd.image.name"

    /// Writes `image` to the file `path`. `reference` gives the docker tags; `refName` names the
    /// index in the OCI view's index.json.
    ///
    /// `progress` gets `write` events named `path`: `start` with the bytes of every entry's
    /// content, a `run` per blob, `commit` once the archive is complete (it is flushed and renamed
    /// into place next), and `done` after the rename.
    public static func write(_ image: MultiPlatformImage, reference: ImageReference, refName: String,
                             to path: String, progress: ProgressReporter = .none) throws(OCIError) {
        guard let tag = reference.tag else {
            throw OCIError(.invalidReference, "\(reference) has no tag to give the image in a docker archive")
        }
        guard OCILayout.isValidRefName(refName) else {
            throw OCIError(.invalidReference, "\"\(refName)\" is not a valid org.opencontainers.image.ref.name")
        }
        let plan = try plan(image, reference: reference, tag: tag, refName: refName)
        let total = plan.reduce(Int64(0)) { sum, entry in
            if case .blob(let blob) = entry.1 { return sum + blob.descriptor.size }
            return sum
        }
        progress.start(.write, path, total: total)
        try FileSystem.writeAtomically(to: path) { file throws(OCIError) in
            try mapErrors(.io, "cannot write docker archive", source: path) {
                let tar = TarWriter(sink: file)
                var completed: Int64 = 0
                for (name, content) in plan {
                    switch content {
                    case .directory:
                        try tar.append(TarEntry(name: name, kind: .directory, mode: 0o755))
                    case .blob(let blob):
                        try append(blob, named: name, to: tar)
                        completed += blob.descriptor.size
                        progress.advance(.write, path, completed: completed, total: total)
                    }
                }
                try tar.finish()
            }
            progress.commit(.write, path, bytes: total)
        }
        progress.finish(.write, path, bytes: total)
    }

    private enum EntryContent {
        case directory
        case blob(Blob)
    }

    /// Every entry of the archive, sorted by name.
    private static func plan(_ image: MultiPlatformImage, reference: ImageReference, tag: String,
                             refName: String) throws(OCIError) -> [(String, EntryContent)] {
        var blobs: [Digest: Blob] = [:]
        func add(_ blob: Blob) { blobs[blob.descriptor.digest] = blob }
        add(image.index.blob)
        var dockerManifest: [DockerManifestEntry] = []
        var repositories: [String: [String: String]] = [:]
        for platformImage in image.images {
            add(Blob(descriptor: platformImage.manifest.descriptor, content: .bytes(platformImage.manifest.bytes)))
            platformImage.blobs.forEach(add)
            let config = platformImage.manifest.value.config
            let layers = platformImage.manifest.value.layers
            var imageTag = tag
            if image.images.count > 1 {
                guard let platform = platformImage.platform else {
                    throw OCIError(.invalidImage, "image \(platformImage.manifest.descriptor.digest) has no platform to tag it by")
                }
                imageTag += "-" + platform.architecture + (platform.variant ?? "")
            }
            guard ImageReference.isValidTag(imageTag) else {
                throw OCIError(.invalidReference, "per-platform tag \"\(imageTag)\" is not a valid tag")
            }
            dockerManifest.append(DockerManifestEntry(
                config: blobName(config.digest), repoTags: ["\(reference.familiarName):\(imageTag)"],
                layers: layers.map { blobName($0.digest) }))
            // docker reads `repositories` only from archives without manifest.json; it maps a tag
            // to the top layer, named here by its blob digest as Docker 25 does.
            if let top = layers.last {
                repositories[reference.familiarName, default: [:]][imageTag] = top.digest.hex
            }
        }
        var indexDescriptor = image.index.descriptor
        indexDescriptor.annotations = [
            AnnotationKey.refName: refName,
            containerdImageName: "\(reference.name):\(tag)",
        ]
        let files: [(String, [UInt8])] = [
            ("index.json", try CanonicalJSON.encode(ImageIndex(manifests: [indexDescriptor]))),
            ("manifest.json", try CanonicalJSON.encode(dockerManifest)),
            ("oci-layout", OCILayoutWriter.layoutFileContent),
            ("repositories", try CanonicalJSON.encode(repositories)),
        ]
        var entries: [(String, EntryContent)] = [("blobs", .directory), ("blobs/sha256", .directory)]
        for digest in blobs.keys.sorted(by: { $0.hex < $1.hex }) {
            guard digest.algorithm == .sha256 else {
                throw OCIError(.invalidDescriptor, "only sha256 blobs are written, not \(digest)")
            }
            entries.append((blobName(digest), .blob(blobs[digest]!)))
        }
        entries += files.map { ($0.0, .blob(Blob(descriptor: Descriptor(mediaType: "", bytes: $0.1), content: .bytes($0.1)))) }
        return entries
    }

    private static func blobName(_ digest: Digest) -> String {
        "blobs/\(digest.algorithm)/\(digest.hex)"
    }

    /// Streams a blob into the archive, hashing it on the way; a blob whose bytes do not match
    /// its descriptor aborts the archive.
    private static func append(_ blob: Blob, named name: String, to tar: TarWriter) throws {
        let hasher = HashingSink(blob.descriptor.digest.algorithm)
        let source = try blob.openSource()
        defer { if let file = source as? FileDescriptorSource { try? file.close() } }
        try tar.append(TarEntry(name: name, mode: 0o644, size: blob.descriptor.size), content: TeeSource(source, observer: hasher))
        try BlobCheck.verify(size: hasher.count, digest: hasher.finalize(), against: blob.descriptor,
                             source: "blob \(blob.descriptor.digest)")
    }
}
