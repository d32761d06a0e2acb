import Archive
import DistillCrypto
import Foundation
import OCI
import TestSupport
import Testing

@Suite("OCI layout writer")
struct LayoutWriterTests {
    static let tag = "registry.example/distill/test:1.0"

    @Test("a two-platform layout passes oci-image-tool, skopeo, umoci, gzip and tar")
    func realToolsAcceptTheLayout() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        let layout = scratch.path("layout")
        let report = try await OCILayoutWriter.write(image, to: layout, refName: Self.tag)
        #expect(report.digest == image.index.descriptor.digest)
        #expect(report.tagsSet == [Self.tag])

        let validation = try ExternalTool.run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=\(Self.tag)", layout], in: scratch)
        #expect(validation.text.contains("Validation succeeded") || validation.standardError.contains("Validation succeeded"))

        let raw = try ExternalTool.run("skopeo", ["inspect", "--raw", "oci:\(layout):\(Self.tag)"], in: scratch)
        #expect([UInt8](raw.standardOutput) == image.index.bytes)
        let inspected = try TestImages.json(try ExternalTool.run("skopeo", ["inspect", "oci:\(layout):\(Self.tag)"], in: scratch).standardOutput)
        #expect(inspected["Digest"] as? String == image.index.descriptor.digest.description)
        #expect(inspected["Architecture"] as? String == "amd64")
        #expect(inspected["Os"] as? String == "linux")

        // umoci cannot pick a platform from an index: copy the host's (amd64) out first. Its
        // unpack checks every layer digest and every diff_id.
        try ExternalTool.run("skopeo", ["copy", "-q", "oci:\(layout):\(Self.tag)", "oci:\(scratch.path("single")):t"], in: scratch)
        try ExternalTool.run("umoci", ["unpack", "--image", "\(scratch.path("single")):t", scratch.path("bundle")], in: scratch)
        #expect(try scratch.readText("bundle/rootfs/usr/bin/hello") == "#!/bin/sh\necho hello from amd64\n")
        let tmp = try FileManager.default.attributesOfItem(atPath: scratch.path("bundle/rootfs/tmp"))
        #expect((tmp[.posixPermissions] as? Int) == 0o1777)
        let home = try FileManager.default.attributesOfItem(atPath: scratch.path("bundle/rootfs/home/nonroot"))
        #expect((home[.ownerAccountID] as? Int) == 65532)
        let bundleConfig = try TestImages.json(try Data(contentsOf: scratch.url.appendingPathComponent("bundle/config.json")))
        let process = bundleConfig["process"] as? [String: Any]
        #expect(process?["args"] as? [String] == ["/usr/bin/hello"])
        #expect(process?["cwd"] as? String == "/home/nonroot")

        let expectedNames = TestImages.smallRootfs(marker: "amd64").map(\.name)
        for platformImage in image.images {
            for layer in platformImage.manifest.value.layers {
                let blob = "\(layout)/blobs/sha256/\(layer.digest.hex)"
                try ExternalTool.run("gzip", ["-t", blob], in: scratch)
                let listing = try ExternalTool.run("tar", ["-tzf", blob], in: scratch).text.split(separator: "\n").map(String.init)
                #expect(listing.count == expectedNames.count)
                #expect(listing.first == "etc")
            }
        }
    }

    @Test("index.json nests the index blob, tagged and marked for cosign; oci-layout is go-containerregistry's")
    func layoutShape() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        let layout = scratch.path("layout")
        try await OCILayoutWriter.write(image, to: layout, refName: Self.tag)

        #expect(try scratch.readText("layout/oci-layout") == "{\n    \"imageLayoutVersion\": \"1.0.0\"\n}")
        let index = image.index.descriptor
        let expected = "{\"manifests\":[{\"annotations\":{\"kind\":\"dev.cosignproject.cosign/imageIndex\","
            + "\"org.opencontainers.image.ref.name\":\"\(Self.tag)\"},\"digest\":\"\(index.digest)\","
            + "\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"size\":\(index.size)}],"
            + "\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"schemaVersion\":2}"
        #expect(try scratch.readText("layout/index.json") == expected)

        // Sorted by platform whatever the build order, each entry with its platform.
        let platforms = image.index.value.manifests.map { $0.platform?.architecture }
        #expect(platforms == ["amd64", "arm64"])
        // Every blob the graph references is present, and nothing else.
        var referenced: Set<String> = [index.digest.hex]
        for platformImage in image.images {
            referenced.insert(platformImage.manifest.descriptor.digest.hex)
            platformImage.blobs.forEach { referenced.insert($0.descriptor.digest.hex) }
        }
        let stored = Set(try FileManager.default.contentsOfDirectory(atPath: "\(layout)/blobs/sha256"))
        #expect(stored == referenced)
        // No staging directory is left beside the layout.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.hasPrefix(".layout") }.isEmpty)
    }

    @Test("the same image gives byte-identical layouts, whatever the compression thread count")
    func deterministic() async throws {
        let scratch = try ScratchDirectory()
        let one = try TestImages.twoPlatformImage(in: scratch, threads: 1)
        let four = try TestImages.twoPlatformImage(in: scratch, threads: 4)
        try await OCILayoutWriter.write(one, to: scratch.path("a"), refName: Self.tag)
        try await OCILayoutWriter.write(four, to: scratch.path("b"), refName: Self.tag)
        let first = try TestImages.tree(scratch.path("a"))
        let second = try TestImages.tree(scratch.path("b"))
        #expect(first.count == 9)  // oci-layout, index.json, index, 2 × (manifest, config, layer)
        #expect(first == second)
    }

    @Test("an existing layout is updated in place; index.json is replaced last and old blobs stay")
    func existingDirectory() async throws {
        let scratch = try ScratchDirectory()
        let layout = scratch.path("layout")
        let first = try TestImages.twoPlatformImage(in: scratch)
        try await OCILayoutWriter.write(first, to: layout, refName: Self.tag)
        let firstIndexJSON = try scratch.read("layout/index.json")

        let amd = try TestImages.image(architecture: "amd64", layers: [
            TestImages.layer(TestImages.smallRootfs(marker: "second"), in: scratch),
        ])
        let second = try MultiPlatformImage(images: [amd])

        // Interrupted after the blobs: index.json still describes the first image, whose blobs
        // are all still there.
        do {
            let writer = try OCILayoutWriter(directory: layout)
            _ = try await ImagePublisher.publish(second, to: writer, tags: [Self.tag])
        }
        #expect(try scratch.read("layout/index.json") == firstIndexJSON)
        let loaded = try await OCILayout(directory: layout).loadImage(Self.tag)
        #expect(loaded.digest == first.index.descriptor.digest)

        let report = try await OCILayoutWriter.write(second, to: layout, refName: Self.tag)
        #expect(report.blobsSkipped.count == 2)  // the interrupted run already wrote them
        let reread = try OCILayout(directory: layout)
        #expect(reread.entries.map(\.digest) == [second.index.descriptor.digest])
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(layout)/blobs/sha256")
        #expect(files.count == 7 + 4)
        #expect(files.allSatisfy { !$0.hasPrefix(".") })
        try ExternalTool.run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=\(Self.tag)", layout], in: scratch)
    }

    @Test("a new layout released without commit leaves nothing behind")
    func uncommittedStagingIsRemoved() async throws {
        let scratch = try ScratchDirectory()
        let image = try TestImages.twoPlatformImage(in: scratch)
        do {
            let writer = try OCILayoutWriter(directory: scratch.path("layout"))
            _ = try await ImagePublisher.publish(image, to: writer, tags: [Self.tag])
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        #expect(!names.contains("layout"))
        #expect(names.allSatisfy { !$0.hasPrefix(".layout") })
    }

    @Test("signature entries are added to index.json with cosign's kind, and the image still validates")
    func addSignatureEntries() async throws {
        let scratch = try ScratchDirectory()
        let layout = scratch.path("layout")
        let image = try TestImages.twoPlatformImage(in: scratch)
        try await OCILayoutWriter.write(image, to: layout, refName: Self.tag)

        let signature = try TestImages.signatureManifest(for: image.index.descriptor.digest, repository: "registry.example/distill/test")
        let writer = try OCILayoutWriter(directory: layout, indexMode: .update)
        try await ImagePublisher.publish(signature, to: writer, tags: [])
        var entry = signature.manifest.descriptor
        entry.annotations = [AnnotationKey.cosignKind: CosignLayoutKind.signatures]
        try await writer.addIndexEntry(entry)
        try await writer.addIndexEntry(entry)  // the same entry twice stays one entry
        try await writer.commit()

        let reread = try OCILayout(directory: layout)
        #expect(reread.entries.map { $0.annotation(AnnotationKey.cosignKind) } == [CosignLayoutKind.imageIndex, CosignLayoutKind.signatures])
        #expect(try reread.defaultEntry().digest == image.index.descriptor.digest)
        try ExternalTool.run("oci-image-tool", ["validate", "--type", "image", "--ref", "name=\(Self.tag)", layout], in: scratch)
        try ExternalTool.run("skopeo", ["inspect", "oci:\(layout):\(Self.tag)"], in: scratch)
        guard case .image(let loaded) = try await ImageLoader.load(reread.entries[1], from: reread) else {
            Issue.record("the signature entry did not load as an image manifest")
            return
        }
        #expect(loaded.manifest.bytes == signature.manifest.bytes)
    }

    @Test("an entry for a manifest that is not stored is refused")
    func entryWithoutManifest() async throws {
        let scratch = try ScratchDirectory()
        let writer = try OCILayoutWriter(directory: scratch.path("layout"))
        let missing = Descriptor(mediaType: MediaType.imageManifest, bytes: Array("{}".utf8))
        await #expect(throws: OCIError.self) { try await writer.addIndexEntry(missing) }
    }

    @Test("tags that are not valid ref names are refused", arguments: ["", "bad tag", "-leading", "trailing-", "a//b", "tag!"])
    func invalidRefNames(_ name: String) async throws {
        let scratch = try ScratchDirectory()
        let writer = try OCILayoutWriter(directory: scratch.path("layout"))
        let manifest = RawManifest(mediaType: MediaType.imageManifest, bytes: Array("{}".utf8))
        try await writer.putManifest(manifest)
        let error = await thrownOCIError { try await writer.setTag(name, to: manifest) }
        #expect(error?.kind == .invalidReference)
    }

    @Test("writing over a file or under a missing parent is refused")
    func badDestinations() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("file", text: "x")
        #expect(throws: OCIError.self) { try OCILayoutWriter(directory: scratch.path("file")) }
        #expect(throws: OCIError.self) { try OCILayoutWriter(directory: scratch.path("missing/layout")) }
        #expect(throws: OCIError.self) { try OCILayoutWriter(directory: scratch.path("absent"), indexMode: .update) }
    }
}

@Suite("OCI layout writer blob checks")
struct LayoutBlobCheckTests {
    @Test("a file blob whose bytes do not match its descriptor is refused, linked or copied")
    func mismatchedFiles() async throws {
        let scratch = try ScratchDirectory()
        try scratch.write("blob", text: "real bytes")
        let wrong = Descriptor(mediaType: MediaType.layerGzip, digest: OCIDigest.sha256(Array("other bytes".utf8)), size: 10)
        let writer = try OCILayoutWriter(directory: scratch.path("layout"))
        let linked = await thrownOCIError { try await writer.putBlob(Blob(descriptor: wrong, content: .file(scratch.path("blob")))) }
        #expect(linked?.kind == .digestMismatch)
        #expect(linked?.source == scratch.path("blob"))
        #expect(try await !writer.blobExists(wrong))
    }

    #if os(Linux)
    @Test("a layer on another file system is copied and verified on the way")
    func copiesAcrossFileSystems() async throws {
        // /dev/shm is a tmpfs on Linux, so a hard link from it into the scratch directory fails
        // with EXDEV and the writer has to copy.
        let shm = "/dev/shm/distill-oci-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: shm) }
        let scratch = try ScratchDirectory()
        let writer = try LayerBlobWriter(directory: shm)
        let tar = TarWriter(sink: writer.tarSink)
        try tar.append(TarEntry(name: "etc", kind: .directory, mode: 0o755))
        try tar.append(TarEntry(name: "etc/motd", size: 6), content: Array("hello\n".utf8))
        try tar.finish()
        let layer = try writer.finish()
        #expect(link(layer.path, scratch.path("probe")) != 0 && errno == EXDEV)

        let layout = try OCILayoutWriter(directory: scratch.path("layout"))
        try await layout.putBlob(layer.blob)
        let wrong = Descriptor(mediaType: MediaType.layerGzip, digest: OCIDigest.sha256([1, 2, 3]), size: layer.descriptor.size)
        let copied = await thrownOCIError { try await layout.putBlob(Blob(descriptor: wrong, content: .file(layer.path))) }
        #expect(copied?.kind == .digestMismatch)
        #expect(copied?.source == layer.path)
        #expect(try await !layout.blobExists(wrong))
        try await layout.commit()

        #expect(try scratch.read("layout/blobs/sha256/\(layer.descriptor.digest.hex)") == [UInt8](try Data(contentsOf: URL(fileURLWithPath: layer.path))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("layout/blobs/sha256")) == [layer.descriptor.digest.hex])
    }
    #endif
}
