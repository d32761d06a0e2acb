import Archive
import DistillCrypto
import Foundation
import HTTPTransport
import OCI
import TestSupport
import Testing

/// Pushes to a real `docker-registry` on loopback.
@Suite("Registry push against docker-registry")
struct RegistryPushTests {
    static let fast = RetryPolicy(attempts: 2, initialDelay: .milliseconds(10))

    static func destination(_ registry: LocalRegistry, _ repository: String, http: any HTTPClient,
                            credentials: RegistryCredentials? = nil, monolithicUploadLimit: Int64 = 64 << 20,
                            chunkSize: Int = 16 << 20) throws -> RegistryDestination {
        let access = RegistryAccess(http: http, explicitCredentials: credentials, retry: fast,
                                    monolithicUploadLimit: monolithicUploadLimit, chunkSize: chunkSize)
        let reference = try ImageReference(parsing: "\(registry.host)/\(repository)")
        return RegistryDestination(client: try access.client(for: reference), repository: reference.repository)
    }

    @Test("a two-platform image: same digest in the registry, readable by skopeo; pushed again, nothing is uploaded")
    func pushTwice() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let image = try TestImages.twoPlatformImage(in: scratch)
        let counting = CountingHTTPClient(URLSessionHTTPClient())
        let destination = try Self.destination(registry, "distill/multi", http: counting)

        let first = try await ImagePublisher.publish(image, to: destination, tags: ["v1", "latest"])
        #expect(first.blobsWritten.count == 4)
        #expect(first.manifestsWritten.count == 3)
        #expect(first.tagsSet == ["v1", "latest"])
        #expect(counting.count("POST", pathContaining: "/blobs/uploads") == 4)

        for tag in ["v1", "latest"] {
            let headers = try registry.headManifest("distill/multi", tag)
            #expect(headers["status"] == "200")
            #expect(headers["docker-content-digest"] == image.index.descriptor.digest.description)
            #expect(headers["content-type"] == MediaType.imageIndex)
        }
        let raw = try ExternalTool.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(registry.host)/distill/multi:v1"],
                                       in: scratch)
        #expect([UInt8](raw.standardOutput) == image.index.bytes)
        // skopeo pulls every platform back byte for byte (it would refuse to rewrite a digest).
        try ExternalTool.run("skopeo", ["copy", "-q", "--all", "--preserve-digests", "--src-tls-verify=false",
                                        "docker://\(registry.host)/distill/multi:v1", "oci:\(scratch.path("pulled")):v1"], in: scratch)
        try ExternalTool.run("skopeo", ["copy", "-q", "oci:\(scratch.path("pulled")):v1", "oci:\(scratch.path("single")):v1"], in: scratch)
        try ExternalTool.run("umoci", ["unpack", "--image", "\(scratch.path("single")):v1", scratch.path("bundle")], in: scratch)

        let writesBefore = counting.writes
        let second = try await ImagePublisher.publish(image, to: destination, tags: ["v1", "latest"])
        #expect(second.blobsWritten.isEmpty)
        #expect(second.blobsSkipped.count == 4)
        #expect(second.manifestsWritten.isEmpty)
        #expect(second.tagsSet.isEmpty)
        #expect(counting.writes == writesBefore)  // not one PUT, POST or PATCH the second time
        #expect(try registry.tags("distill/multi").sorted() == ["latest", "v1"])
    }

    @Test("large blobs go up in chunks, and the image pulls back intact")
    func chunkedUpload() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let (layer, _) = try TestImages.layer(fromAPK: Fixtures.url("alpine/packages/x86_64/strace-5.17-r0.apk"), in: scratch)
        let image = try MultiPlatformImage(images: [TestImages.image(architecture: "amd64", layers: [layer])])
        let counting = CountingHTTPClient(URLSessionHTTPClient())
        let destination = try Self.destination(registry, "distill/chunked", http: counting, monolithicUploadLimit: 1024,
                                               chunkSize: 64 * 1024)
        try await ImagePublisher.publish(image, to: destination, tags: ["v1"])
        let chunks = Int((layer.descriptor.size + 65535) / 65536)
        #expect(counting.count("PATCH") == chunks)
        #expect(chunks > 3)

        let source = RegistrySource(client: destination.client, repository: "distill/chunked")
        let blob = try await source.blob(layer.descriptor)
        guard case .bytes(let bytes) = blob.content else {
            Issue.record("registry blobs come back in memory")
            return
        }
        #expect(bytes == [UInt8](try Data(contentsOf: URL(fileURLWithPath: layer.path))))
        guard case .index(let pulled) = try await ImageLoader.load(try await source.resolve("v1"), from: source) else {
            Issue.record("the pushed index did not load back as an index")
            return
        }
        #expect(pulled.index.bytes == image.index.bytes)
        #expect(pulled.images.map(\.manifest.bytes) == image.images.map(\.manifest.bytes))
    }

    @Test("htpasswd basic authentication: the right password pushes; a wrong or missing one fails clearly and tags nothing")
    func basicAuthentication() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry(user: "distill", password: "s3cret")
        defer { registry.stop() }
        let image = try TestImages.twoPlatformImage(in: scratch)

        let wrong = try Self.destination(registry, "distill/private", http: URLSessionHTTPClient(),
                                         credentials: RegistryCredentials(username: "distill", password: "guess"))
        let refused = await thrownOCIError { _ = try await ImagePublisher.publish(image, to: wrong, tags: ["v1"]) }
        #expect(refused?.kind == .unauthorized)
        #expect(refused?.description.contains("still answered 401 Unauthorized after authenticating as distill") == true)
        #expect(refused?.description.contains("guess") == false)

        let anonymous = try Self.destination(registry, "distill/private", http: URLSessionHTTPClient())
        let needsLogin = await thrownOCIError { _ = try await ImagePublisher.publish(image, to: anonymous, tags: ["v1"]) }
        #expect(needsLogin?.kind == .unauthorized)
        #expect(needsLogin?.description.contains("needs credentials (Basic authentication)") == true)
        #expect(try registry.tags("distill/private", user: "distill:s3cret").isEmpty)

        let right = try Self.destination(registry, "distill/private", http: URLSessionHTTPClient(),
                                         credentials: RegistryCredentials(username: "distill", password: "s3cret"))
        let report = try await ImagePublisher.publish(image, to: right, tags: ["v1"])
        #expect(report.tagsSet == ["v1"])
        #expect(try registry.headManifest("distill/private", "v1", user: "distill:s3cret")["docker-content-digest"]
            == image.index.descriptor.digest.description)
    }

    @Test("a manifest whose blob the registry lacks is rejected with MANIFEST_BLOB_UNKNOWN, and no tag is set")
    func missingBlob() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let image = try TestImages.twoPlatformImage(in: scratch)
        let layer = image.images[0].manifest.value.layers[0].digest
        // A lying HEAD makes the publisher skip the layer, as if the blob had vanished.
        let lying = CountingHTTPClient(URLSessionHTTPClient(), intercept: { request in
            request.method == "HEAD" && request.url.path.hasSuffix("/blobs/\(layer)") ? HTTPResponse(status: 200) : nil
        })
        let destination = try Self.destination(registry, "distill/missing", http: lying)
        let error = await thrownOCIError { _ = try await ImagePublisher.publish(image, to: destination, tags: ["v1"]) }
        #expect(error?.kind == .registry)
        #expect(error?.status == 400)
        #expect(error?.description.contains("pushing manifest \(image.images[0].manifest.descriptor.digest): HTTP 400: MANIFEST_BLOB_UNKNOWN") == true)
        #expect(error?.description.contains(layer.description) == true)
        #expect(error?.description.contains("\n") == false)
        #expect(try registry.tags("distill/missing").isEmpty)
        #expect(lying.count("PUT", pathContaining: "/manifests/v1") == 0)
    }

    @Test("a blob upload cut off mid-stream is refused by the registry; the push fails and tags nothing")
    func cutOffUpload() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let image = try TestImages.twoPlatformImage(in: scratch)
        // Every monolithic PUT of a file loses its second half on the way.
        let cutting = CountingHTTPClient(URLSessionHTTPClient(), rewrite: { request in
            guard request.method == "PUT", case .file(let path, let size) = request.body,
                  let bytes = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return request }
            var cut = request
            cut.body = .bytes([UInt8](bytes.prefix(Int(size / 2))))
            return cut
        })
        let destination = try Self.destination(registry, "distill/cut", http: cutting)
        let error = await thrownOCIError { _ = try await ImagePublisher.publish(image, to: destination, tags: ["v1"]) }
        #expect(error?.kind == .registry)
        #expect(error?.description.contains("uploading blob") == true)
        #expect(error?.description.contains("DIGEST_INVALID") == true)
        #expect(try registry.tags("distill/cut").isEmpty)
        #expect(cutting.count("PUT", pathContaining: "/manifests/") == 0)
    }

    @Test("distill push: a built layout goes to the registry; credentials from docker's config.json; errors are one line")
    func pushCommand() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry(user: "ci", password: "pw")
        defer { registry.stop() }
        let image = try TestImages.twoPlatformImage(in: scratch)
        try await OCILayoutWriter.write(image, to: scratch.path("layout"), refName: "distill/cli:1.0")
        let target = "\(registry.host)/distill/cli:1.0"

        let denied = try DistillBinary.run(["push", "layout", target], in: scratch, environment: ["HOME": scratch.url.path],
                                           expectSuccess: false)
        #expect(denied.status != 0)
        // The push reports its start as a `progress:` line (stderr is not a terminal) before failing.
        let deniedError = denied.standardError.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("progress: ") }.joined(separator: "\n")
        #expect(deniedError.hasPrefix("Error: \(registry.host): HEAD /v2/distill/cli/blobs/sha256:"))
        #expect(deniedError.hasSuffix("needs credentials (Basic authentication) (docker login \(registry.host), or --registry-username/--registry-password)\n"))

        try FileManager.default.createDirectory(atPath: scratch.path("docker"), withIntermediateDirectories: true)
        try scratch.write("docker/config.json", text: "{\"auths\":{\"\(registry.host)\":{\"auth\":\"\(Data("ci:pw".utf8).base64EncodedString())\"}}}")
        let pushed = try DistillBinary.run(["push", "layout", target], in: scratch, environment: ["DOCKER_CONFIG": scratch.path("docker")])
        #expect(pushed.text == "\(registry.host)/distill/cli@\(image.index.descriptor.digest)\n")
        // Progress (stderr is not a terminal): a start with the image's bytes and done once the
        // tag is set (`run` lines only appear for an item quiet for 10 s).
        let progress = pushed.standardError.split(separator: "\n").filter { $0.hasPrefix("progress: push \(target) ") }
        #expect(progress.count == pushed.standardError.split(separator: "\n").count, "\(pushed.standardError)")
        let bytes = image.images.flatMap { $0.blobs.map(\.descriptor.size) + [$0.manifest.descriptor.size] }.reduce(0, +)
            + image.index.descriptor.size
        #expect(progress.first == "progress: push \(target) 0/\(bytes) start")
        #expect(progress.last == "progress: push \(target) \(bytes)/\(bytes) done")
        #expect(try registry.headManifest("distill/cli", "1.0", user: "ci:pw")["docker-content-digest"] == image.index.descriptor.digest.description)

        let again = try DistillBinary.run(["push", "layout", "\(registry.host)/distill/cli:again", "--registry-username", "ci",
                                           "--registry-password", "pw"], in: scratch, environment: ["HOME": scratch.url.path])
        #expect(again.text == pushed.text)

        let badReference = try DistillBinary.run(["push", "layout", "\(registry.host)/Distill:1"], in: scratch, expectSuccess: false)
        #expect(badReference.standardError == "Error: invalid image reference \"\(registry.host)/Distill:1\": repository \"Distill\" must be lowercase\n")
        let notLayout = try DistillBinary.run(["push", "docker", target], in: scratch, expectSuccess: false)
        #expect(notLayout.standardError == "Error: docker: not an OCI layout (no oci-layout file)\n")
    }

    @Test("signatures stored in the layout follow the image under cosign's tag; a layout with several images and signatures is refused")
    func pushSignedLayout() async throws {
        let scratch = try ScratchDirectory()
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let image = try TestImages.twoPlatformImage(in: scratch)
        let layout = scratch.path("layout")
        try await OCILayoutWriter.write(image, to: layout, refName: "signed:1")
        let signature = try TestImages.signatureManifest(for: image.index.descriptor.digest, repository: "\(registry.host)/distill/signed")
        let writer = try OCILayoutWriter(directory: layout, indexMode: .update)
        try await ImagePublisher.publish(signature, to: writer, tags: [])
        var entry = signature.manifest.descriptor
        entry.annotations = [AnnotationKey.cosignKind: CosignLayoutKind.signatures]
        try await writer.addIndexEntry(entry)
        try await writer.commit()

        let access = RegistryAccess(http: URLSessionHTTPClient(), retry: Self.fast)
        let report = try await LayoutPush.push(layout: layout, refName: nil, to: ImageReference(parsing: "\(registry.host)/distill/signed:1"),
                                               access: access)
        #expect(report.image.digest == image.index.descriptor.digest)
        #expect(report.attachments.map(\.digest) == [signature.manifest.descriptor.digest])
        let signatureTag = "sha256-\(image.index.descriptor.digest.hex).sig"
        #expect(try registry.tags("distill/signed").sorted() == ["1", signatureTag])
        let raw = try ExternalTool.run("skopeo", ["inspect", "--tls-verify=false", "--raw", "docker://\(registry.host)/distill/signed:\(signatureTag)"],
                                       in: scratch)
        #expect([UInt8](raw.standardOutput) == signature.manifest.bytes)

        // A second image in the same layout makes the signature's subject ambiguous.
        let other = try MultiPlatformImage(images: [TestImages.image(architecture: "riscv64", layers: [
            TestImages.layer(TestImages.smallRootfs(marker: "riscv64"), in: scratch),
        ])])
        let adding = try OCILayoutWriter(directory: layout, indexMode: .update)
        try await ImagePublisher.publish(other, to: adding, tags: ["other:1"])
        try await adding.commit()
        let error = await thrownOCIError {
            _ = try await LayoutPush.push(layout: layout, refName: "signed:1", to: ImageReference(parsing: "\(registry.host)/distill/signed:2"),
                                          access: access)
        }
        #expect(error?.kind == .invalidLayout)
        #expect(error?.message == "the layout holds 2 images and signatures; cannot tell which image they sign")
        #expect(!(try registry.tags("distill/signed").contains("2")))
    }
}
