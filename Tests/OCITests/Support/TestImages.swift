import Archive
import DistillCrypto
import Foundation
import OCI
import TestSupport

/// One file or directory of a hand-made layer.
struct LayerFile: Sendable {
    var name: String
    var kind: TarEntry.Kind = .regular
    var mode: UInt32 = 0o644
    var content: [UInt8] = []
    var linkName = ""
    var uid = 0
    var gid = 0

    static func directory(_ name: String, mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0) -> LayerFile {
        LayerFile(name: name, kind: .directory, mode: mode, uid: uid, gid: gid)
    }

    static func file(_ name: String, _ text: String, mode: UInt32 = 0o644) -> LayerFile {
        LayerFile(name: name, mode: mode, content: Array(text.utf8))
    }

    static func symlink(_ name: String, to target: String) -> LayerFile {
        LayerFile(name: name, kind: .symbolicLink, mode: 0o777, linkName: target)
    }

    var entry: TarEntry {
        TarEntry(name: name, kind: kind, mode: mode, uid: uid, gid: gid,
                 size: kind == .regular ? Int64(content.count) : 0, modificationTime: 1_700_000_000, linkName: linkName)
    }
}

/// Builds layers and images for the tests.
enum TestImages {
    /// A small root filesystem: directories, a script, a symlink, a file with a long name (PAX),
    /// a sticky /tmp and a home owned by 65532. `marker` varies the content per platform.
    static func smallRootfs(marker: String) -> [LayerFile] {
        [
            .directory("etc"),
            .file("etc/os-release", "ID=distill-test\nVERSION_ID=\(marker)\n"),
            .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/sh\n"),
            .directory("home"),
            .directory("home/nonroot", uid: 65532, gid: 65532),
            .directory("tmp", mode: 0o1777),
            .directory("usr"),
            .directory("usr/bin"),
            .file("usr/bin/hello", "#!/bin/sh\necho hello from \(marker)\n", mode: 0o755),
            .symlink("usr/bin/hi", to: "hello"),
            .directory("usr/share"),
            .file("usr/share/" + String(repeating: "long-name-", count: 12) + marker, "long names need a PAX header\n"),
        ]
    }

    /// Writes `files` as one layer into `directory`.
    static func layer(_ files: [LayerFile], in directory: ScratchDirectory, level: Int = 6, threads: Int = 2) throws -> LayerBlob {
        let writer = try LayerBlobWriter(directory: directory.url.path, compressionLevel: level, threads: threads)
        let tar = TarWriter(sink: writer.tarSink)
        for file in files {
            if file.kind == .regular {
                try tar.append(file.entry, content: file.content)
            } else {
                try tar.append(file.entry)
            }
        }
        try tar.finish()
        return try writer.finish()
    }

    /// A layer holding the data section of a real .apk (signature and control entries, which
    /// start with `.`, are left out; apk's per-file checksum PAX records are not copied).
    static func layer(fromAPK path: URL, in directory: ScratchDirectory) throws -> (LayerBlob, [String]) {
        let writer = try LayerBlobWriter(directory: directory.url.path, compressionLevel: 6)
        let tar = TarWriter(sink: writer.tarSink)
        let reader = TarReader(source: try GzipReader(source: FileDescriptorSource(path: path.path)))
        var names: [String] = []
        while var entry = try reader.next() {
            if entry.name.hasPrefix(".") {
                try reader.skipContent()
                continue
            }
            entry.paxRecords = [:]
            names.append(entry.name)
            if entry.kind == .regular {
                try tar.append(entry, content: reader.contentSource())
            } else {
                try tar.append(entry)
            }
        }
        try tar.finish()
        return (try writer.finish(), names)
    }

    static let created = "2023-11-14T22:13:20Z"

    /// An apko-shaped image for one platform.
    static func image(architecture: String, variant: String? = nil, layers: [LayerBlob],
                      annotations: [String: String] = ["org.opencontainers.image.created": created]) throws -> Image {
        let configuration = ImageConfiguration(
            architecture: architecture, variant: variant, created: created, author: "github.com/chainguard-dev/apko",
            config: ContainerConfiguration(
                user: "65532", env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin"],
                entrypoint: ["/usr/bin/hello"], volumes: ["/data"], workingDir: "/home/nonroot",
                labels: annotations, stopSignal: "SIGTERM"),
            rootfs: RootFilesystem(diffIDs: layers.map(\.diffID)),
            history: layers.map { _ in
                History(created: created, createdBy: "apko", author: "apko", comment: "This is an apko single-layer image")
            })
        return try Image(configuration: configuration, layers: layers, annotations: annotations)
    }

    /// A two-platform image (amd64 and arm64) from hand-made layers.
    static func twoPlatformImage(in directory: ScratchDirectory, threads: Int = 2) throws -> MultiPlatformImage {
        let annotations = ["org.opencontainers.image.created": created]
        // Built arm64 first on purpose: the index must come out sorted whatever the build order.
        let arm = try image(architecture: "arm64", layers: [layer(smallRootfs(marker: "arm64"), in: directory, threads: threads)])
        let amd = try image(architecture: "amd64", layers: [layer(smallRootfs(marker: "amd64"), in: directory, threads: threads)])
        return try MultiPlatformImage(images: [arm, amd], annotations: annotations)
    }

    /// A manifest shaped like cosign's `.sig` manifest for `digest` (the signature itself is not
    /// a real one: these tests are about storing and pushing, not verifying).
    static func signatureManifest(for digest: Digest, repository: String) throws -> Image {
        let payload = Array("{\"critical\":{\"identity\":{\"docker-reference\":\"\(repository)\"},\"image\":{\"docker-manifest-digest\":\"\(digest)\"},\"type\":\"cosign container image signature\"},\"optional\":null}".utf8)
        let config = Blob(mediaType: MediaType.imageConfig, bytes: Array("{\"architecture\":\"\",\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{}}".utf8))
        var layer = Descriptor(mediaType: MediaType.cosignSimpleSigning, bytes: payload)
        layer.annotations = ["dev.cosignproject.cosign/signature": "MEUCIQ=="]
        let manifest = try JSONDocument(encoding: ImageManifest(config: config.descriptor, layers: [layer]), mediaType: MediaType.imageManifest)
        return try Image(manifest: manifest, blobs: [config, Blob(descriptor: layer, content: .bytes(payload))])
    }

    /// Every file under `directory`, relative path → bytes.
    static func tree(_ directory: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [:] }
        for case let relative as String in enumerator {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[relative] = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            }
        }
        return files
    }

    /// Parses JSON text the tools print.
    static func json(_ data: Data) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ExternalTool.Failure(description: "not a JSON object: \(String(decoding: data, as: UTF8.self))")
        }
        return object
    }
}

/// The `OCIError` `body` throws, or nil when it throws nothing (or something else, which the
/// caller's expectation on the result then reports).
func thrownOCIError(_ body: () async throws -> Void) async -> OCIError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? OCIError
    }
}
