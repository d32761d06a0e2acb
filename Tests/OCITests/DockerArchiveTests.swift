import Archive
import DistillCrypto
import Foundation
import OCI
import TestSupport
import Testing

@Suite("docker-archive writer")
struct DockerArchiveTests {
    static let refName = "registry.example/distill/test:1.0"

    @Test("a single-platform archive loads as docker-archive (diff_ids checked) and as oci-archive")
    func singlePlatform() throws {
        let scratch = try ScratchDirectory()
        let amd = try TestImages.image(architecture: "amd64", layers: [
            TestImages.layer(TestImages.smallRootfs(marker: "amd64"), in: scratch),
        ])
        let image = try MultiPlatformImage(images: [amd])
        let reference = try ImageReference(parsing: Self.refName)
        let archive = scratch.path("image.tar")
        try DockerArchiveWriter.write(image, reference: reference, refName: Self.refName, to: archive)

        let inspected = try TestImages.json(try ExternalTool.run("skopeo", ["inspect", "docker-archive:\(archive)"], in: scratch).standardOutput)
        #expect(inspected["Architecture"] as? String == "amd64")
        // Copying out of a docker-archive decompresses every layer and checks it against the
        // config's diff_ids.
        try ExternalTool.run("skopeo", ["copy", "-q", "docker-archive:\(archive)", "oci:\(scratch.path("fromtar")):t"], in: scratch)
        try ExternalTool.run("umoci", ["unpack", "--image", "\(scratch.path("fromtar")):t", scratch.path("bundle")], in: scratch)
        #expect(try scratch.readText("bundle/rootfs/etc/os-release").contains("VERSION_ID=amd64"))

        let raw = try ExternalTool.run("skopeo", ["inspect", "--raw", "oci-archive:\(archive):\(Self.refName)"], in: scratch)
        #expect([UInt8](raw.standardOutput) == image.index.bytes)

        try ExternalTool.run("tar", ["-xf", archive, "manifest.json", "repositories"], in: scratch)
        let manifest = try JSONSerialization.jsonObject(with: Data(try scratch.read("manifest.json"))) as? [[String: Any]]
        #expect(manifest?.count == 1)
        #expect(manifest?.first?["RepoTags"] as? [String] == ["registry.example/distill/test:1.0"])
        #expect(manifest?.first?["Config"] as? String == "blobs/sha256/\(amd.manifest.value.config.digest.hex)")
        #expect(manifest?.first?["Layers"] as? [String] == amd.manifest.value.layers.map { "blobs/sha256/\($0.digest.hex)" })
        let repositories = try TestImages.json(Data(try scratch.read("repositories")))
        #expect((repositories["registry.example/distill/test"] as? [String: String])?["1.0"] == amd.manifest.value.layers[0].digest.hex)
    }

    @Test("a two-platform archive tags each image with its platform and keeps the whole index in the OCI view")
    func twoPlatforms() throws {
        let scratch = try ScratchDirectory()
        let arm = try TestImages.image(architecture: "arm", variant: "v7", layers: [
            TestImages.layer(TestImages.smallRootfs(marker: "armv7"), in: scratch),
        ])
        let amd = try TestImages.image(architecture: "amd64", layers: [
            TestImages.layer(TestImages.smallRootfs(marker: "amd64"), in: scratch),
        ])
        let image = try MultiPlatformImage(images: [arm, amd])
        let archive = scratch.path("image.tar")
        try DockerArchiveWriter.write(image, reference: ImageReference(parsing: "app:1.0"), refName: "app:1.0", to: archive)

        try ExternalTool.run("tar", ["-xf", archive, "manifest.json"], in: scratch)
        let manifest = try JSONSerialization.jsonObject(with: Data(try scratch.read("manifest.json"))) as? [[String: Any]]
        #expect(manifest?.map { $0["RepoTags"] as? [String] } == [["app:1.0-amd64"], ["app:1.0-armv7"]])

        for (index, architecture) in [(0, "amd64"), (1, "arm")] {
            try ExternalTool.run("skopeo", ["copy", "-q", "docker-archive:\(archive):@\(index)", "oci:\(scratch.path("out\(index)")):t"], in: scratch)
            let config = try TestImages.json(try ExternalTool.run("skopeo", ["inspect", "--config", "oci:\(scratch.path("out\(index)")):t"], in: scratch).standardOutput)
            #expect(config["architecture"] as? String == architecture)
        }
        let inspected = try TestImages.json(try ExternalTool.run("skopeo", ["inspect", "oci-archive:\(archive):app:1.0"], in: scratch).standardOutput)
        #expect(inspected["Digest"] as? String == image.index.descriptor.digest.description)

        let listing = try ExternalTool.run("tar", ["-tvf", archive], in: scratch).text.split(separator: "\n").map(String.init)
        let names = listing.map { String($0.split(separator: " ").last!) }
        #expect(names == names.sorted())
        #expect(names.prefix(2) == ["blobs", "blobs/sha256"])
        #expect(names.suffix(4) == ["index.json", "manifest.json", "oci-layout", "repositories"])
        #expect(listing.allSatisfy { $0.contains("0/0") })
    }

    @Test("the same image gives the same archive bytes, and a failed write leaves the old file")
    func deterministicAndAtomic() throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        let reference = try ImageReference(parsing: "app:1.0")
        try DockerArchiveWriter.write(image, reference: reference, refName: "app:1.0", to: scratch.path("a.tar"))
        try DockerArchiveWriter.write(image, reference: reference, refName: "app:1.0", to: scratch.path("b.tar"))
        #expect(try scratch.read("a.tar") == scratch.read("b.tar"))

        // A layer file that no longer matches its descriptor aborts the write; the previous
        // archive stays as it was and no temporary file is left.
        let layerPath = image.images[0].blobs[1]
        guard case .file(let path) = layerPath.content else {
            Issue.record("layers should be file blobs")
            return
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 20] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let before = try scratch.read("a.tar")
        let error = #expect(throws: OCIError.self) {
            try DockerArchiveWriter.write(image, reference: reference, refName: "app:1.0", to: scratch.path("a.tar"))
        }
        #expect(error?.kind == .digestMismatch)
        #expect(try scratch.read("a.tar") == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).allSatisfy { !$0.hasPrefix(".a.tar") })
    }
}
