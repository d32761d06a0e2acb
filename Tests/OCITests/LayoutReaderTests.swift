import DistillCrypto
import Foundation
import OCI
import TestSupport
import Testing

@Suite("OCI layout reader")
struct LayoutReaderTests {
    static let tag = "distill/test:1.0"

    @Test("a written layout loads back as the same image, blob files verified")
    func roundTrip() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        try await OCILayoutWriter.write(image, to: scratch.path("layout"), refName: Self.tag)
        let layout = try OCILayout(directory: scratch.path("layout"))
        #expect(try layout.resolve(Self.tag).digest == image.index.descriptor.digest)
        #expect(try layout.resolve(image.index.descriptor.digest.description).digest == image.index.descriptor.digest)
        guard case .index(let loaded) = try await layout.loadImage() else {
            Issue.record("the layout's image did not load as an index")
            return
        }
        #expect(loaded.index.bytes == image.index.bytes)
        #expect(loaded.images.map(\.manifest.bytes) == image.images.map(\.manifest.bytes))
        #expect(loaded.images.map(\.platform) == image.images.map(\.platform))
        #expect(loaded.images.flatMap(\.blobs).map(\.descriptor.digest) == image.images.flatMap(\.blobs).map(\.descriptor.digest))
    }

    @Test("a layout written by umoci loads too")
    func readsUmociLayouts() async throws {
        let scratch = try ScratchDirectory()
        try ExternalTool.run("umoci", ["init", "--layout", scratch.path("img")], in: scratch)
        try ExternalTool.run("umoci", ["new", "--image", "\(scratch.path("img")):base"], in: scratch)
        try FileManager.default.createDirectory(atPath: scratch.path("rootfs/etc"), withIntermediateDirectories: true)
        try scratch.write("rootfs/etc/motd", text: "hi\n")
        try ExternalTool.run("tar", ["-cf", scratch.path("layer.tar"), "-C", scratch.path("rootfs"), "etc"], in: scratch)
        try ExternalTool.run("umoci", ["raw", "add-layer", "--image", "\(scratch.path("img")):base", "--tag", "v1", scratch.path("layer.tar")], in: scratch)
        let layout = try OCILayout(directory: scratch.path("img"))
        guard case .image(let image) = try await layout.loadImage("v1") else {
            Issue.record("umoci's tag did not load as an image manifest")
            return
        }
        #expect(image.blobs.count == 2)
        #expect(image.manifest.value.layers.first?.mediaType == MediaType.layerGzip)
    }

    @Test("a tampered or missing blob is refused with the blob named")
    func tamperedBlobs() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        try await OCILayoutWriter.write(image, to: scratch.path("layout"), refName: Self.tag)
        let layer = image.images[0].manifest.value.layers[0]
        let path = scratch.path("layout/blobs/sha256/\(layer.digest.hex)")
        var bytes = try scratch.read("layout/blobs/sha256/\(layer.digest.hex)")
        bytes[bytes.count / 2] ^= 0xFF
        try FileManager.default.removeItem(atPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let layout = try OCILayout(directory: scratch.path("layout"))
        let tampered = await thrownOCIError { _ = try await layout.loadImage() }
        #expect(tampered?.kind == .digestMismatch)
        #expect(tampered?.description.contains(layer.digest.hex) == true)
        try FileManager.default.removeItem(atPath: path)
        let missing = await thrownOCIError { _ = try await layout.loadImage() }
        #expect(missing?.kind == .notFound)
        #expect(missing?.description.contains("\(layer.digest) is missing") == true)
    }

    @Test("a directory without oci-layout, or with an unknown tag, is refused clearly")
    func notALayout() async throws {
        let scratch = try ScratchDirectory()
        #expect(throws: OCIError.self) { try OCILayout(directory: scratch.url.path) }
        let image = try TestImages.twoPlatformImage(in: scratch)
        try await OCILayoutWriter.write(image, to: scratch.path("layout"), refName: Self.tag)
        let layout = try OCILayout(directory: scratch.path("layout"))
        let unknown = await thrownOCIError { _ = try layout.resolve("other:tag") }
        #expect(unknown?.kind == .notFound)
        #expect(unknown?.description.contains("names present: \(Self.tag)") == true)
    }
}
