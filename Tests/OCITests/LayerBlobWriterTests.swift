import Archive
import DistillCrypto
import Foundation
import OCI
import TestSupport
import Testing

@Suite("Layer blob writer")
struct LayerBlobWriterTests {
    struct Package: Sendable, CustomStringConvertible {
        let path: String
        var description: String { (path as NSString).lastPathComponent }
    }

    static let packages = [
        Package(path: "alpine/packages/x86_64/strace-5.17-r0.apk"),
        Package(path: "alpine/packages/aarch64/apk-tools-static-2.14.0-r2.apk"),
        Package(path: "unsigned/hello-0.1.0-r0.apk"),
    ]

    @Test("a layer from a real package: digest, size and diff_id match sha256sum, gzip and tar", arguments: packages)
    func realPackageLayer(_ package: Package) throws {
        let scratch = try ScratchDirectory()
        let (layer, names) = try TestImages.layer(fromAPK: Fixtures.url(package.path), in: scratch)

        #expect(layer.descriptor.mediaType == MediaType.layerGzip)
        #expect(layer.descriptor.size == Int64(try scratch.read((layer.path as NSString).lastPathComponent).count))
        let digest = try ExternalTool.run("sha256sum", [layer.path], in: scratch).text.prefix(64)
        #expect(String(digest) == layer.descriptor.digest.hex)
        try ExternalTool.run("gzip", ["-t", layer.path], in: scratch)
        let tar = try ExternalTool.run("sh", ["-c", "gzip -dc \"$1\" > layer.tar && sha256sum layer.tar && stat -c %s layer.tar", "sh", layer.path],
                                       in: scratch).text.split(separator: "\n")
        #expect(String(tar[0].prefix(64)) == layer.diffID.hex)
        #expect(Int64(tar[1]) == layer.uncompressedSize)
        let listing = try ExternalTool.run("tar", ["-tf", "layer.tar"], in: scratch).text.split(separator: "\n").map(String.init)
        #expect(listing == names)
        #expect(!names.isEmpty)
        #expect(layer.uncompressedSize % 512 == 0)
        // Exactly two zero blocks end the tar: no 10 KiB record padding.
        let tail = try scratch.read("layer.tar").suffix(1536)
        #expect(tail.suffix(1024).allSatisfy { $0 == 0 })
        #expect(!tail.prefix(512).allSatisfy { $0 == 0 })
    }

    @Test("the gzip header is the deterministic one and the bytes do not depend on thread count")
    func deterministic() throws {
        let scratch = try ScratchDirectory()
        let files = TestImages.smallRootfs(marker: "x") + (0..<64).map { index in
            LayerFile.file("data/file-\(index)", String(repeating: "line \(index) of some compressible text\n", count: 2000))
        }
        let one = try TestImages.layer([.directory("data")] + files, in: scratch, level: 6, threads: 1)
        let three = try TestImages.layer([.directory("data")] + files, in: scratch, level: 6, threads: 3)
        #expect(one.descriptor.digest == three.descriptor.digest)
        #expect(one.diffID == three.diffID)
        #expect(one.path != three.path)
        let header = Array(try scratch.read((one.path as NSString).lastPathComponent).prefix(10))
        #expect(header == [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF])
        let fast = try TestImages.layer([.directory("data")] + files, in: scratch, level: 1, threads: 2)
        #expect(fast.diffID == one.diffID)
        #expect(fast.descriptor.digest != one.descriptor.digest)
        #expect(fast.cacheKey != one.cacheKey)
        #expect(fast.cacheKey.diffID == one.cacheKey.diffID)
    }

    @Test("a writer released without finishing removes its file; finishing twice is refused")
    func cleanup() throws {
        let scratch = try ScratchDirectory()
        var path = ""
        do {
            let writer = try LayerBlobWriter(directory: scratch.url.path)
            path = writer.path
            try writer.tarSink.write(Array(repeating: 0, count: 1024))
            #expect(FileManager.default.fileExists(atPath: path))
        }
        #expect(!FileManager.default.fileExists(atPath: path))

        let writer = try LayerBlobWriter(directory: scratch.url.path)
        _ = try writer.finish()
        #expect(throws: OCIError.self) { try writer.finish() }
        #expect(throws: OCIError.self) { try LayerBlobWriter(directory: scratch.url.path, compressionLevel: 12) }
        #expect(throws: OCIError.self) { try LayerBlobWriter(directory: scratch.path("missing")) }
    }

    @Test("an image refuses layers whose diff_ids differ from the config's")
    func diffIDsMustMatch() throws {
        let scratch = try ScratchDirectory()
        let layer = try TestImages.layer(TestImages.smallRootfs(marker: "a"), in: scratch)
        let other = try TestImages.layer(TestImages.smallRootfs(marker: "b"), in: scratch)
        let configuration = ImageConfiguration(architecture: "amd64", rootfs: RootFilesystem(diffIDs: [other.diffID]))
        let error = #expect(throws: OCIError.self) { try Image(configuration: configuration, layers: [layer]) }
        #expect(error?.kind == .invalidImage)
        #expect(error?.description.contains(other.diffID.hex) == true)
    }
}
