import DistillCrypto
import Foundation
import OCI
import TestSupport
import Testing

@Suite("Image JSON models")
struct ModelTests {
    static let digestA = try! OCIDigest.parse("sha256:" + String(repeating: "a", count: 64))
    static let digestB = try! OCIDigest.parse("sha256:" + String(repeating: "b", count: 64))

    @Test("a configuration serializes to sorted, compact JSON with spec key names and unescaped slashes")
    func configurationBytes() throws {
        let configuration = ImageConfiguration(
            architecture: "arm", variant: "v7", created: "1970-01-01T00:00:00Z", author: "github.com/chainguard-dev/apko",
            config: ContainerConfiguration(
                user: "65532:65532", exposedPorts: ["8080/tcp"], env: ["PATH=/usr/bin:/bin"], entrypoint: ["/bin/sh", "-l"],
                cmd: ["-c", "echo hi"], volumes: ["/data"], workingDir: "/home/nonroot", labels: ["a/b": "c"], stopSignal: "SIGTERM"),
            rootfs: RootFilesystem(diffIDs: [Self.digestA]),
            history: [History(created: "1970-01-01T00:00:00Z", createdBy: "apko", author: "apko", comment: "This is an apko single-layer image")])
        let document = try JSONDocument(encoding: configuration, mediaType: MediaType.imageConfig)
        let expected = """
            {"architecture":"arm","author":"github.com/chainguard-dev/apko","config":{"Cmd":["-c","echo hi"],\
            "Entrypoint":["/bin/sh","-l"],"Env":["PATH=/usr/bin:/bin"],"ExposedPorts":{"8080/tcp":{}},"Labels":{"a/b":"c"},\
            "StopSignal":"SIGTERM","User":"65532:65532","Volumes":{"/data":{}},"WorkingDir":"/home/nonroot"},\
            "created":"1970-01-01T00:00:00Z","history":[{"author":"apko","comment":"This is an apko single-layer image",\
            "created":"1970-01-01T00:00:00Z","created_by":"apko"}],"os":"linux","rootfs":{"diff_ids":["\(Self.digestA)"],\
            "type":"layers"},"variant":"v7"}
            """
        #expect(String(decoding: document.bytes, as: UTF8.self) == expected)
        #expect(document.descriptor.digest == DigestAlgorithm.sha256.hash(Array(expected.utf8)))
        #expect(document.descriptor.size == Int64(expected.utf8.count))
        #expect(configuration.platform == Platform(architecture: "arm", variant: "v7"))

        let decoded = try JSONDocument<ImageConfiguration>(decoding: document.bytes, mediaType: MediaType.imageConfig, source: "test")
        #expect(decoded.value == configuration)
        #expect(decoded.bytes == document.bytes)
    }

    @Test("manifests and indexes serialize with OCI 1.1 fields only when set")
    func manifestAndIndexBytes() throws {
        let config = Descriptor(mediaType: MediaType.imageConfig, digest: Self.digestA, size: 2)
        let layer = Descriptor(mediaType: MediaType.layerGzip, digest: Self.digestB, size: 3)
        let manifest = ImageManifest(config: config, layers: [layer], annotations: ["org.opencontainers.image.created": "1970-01-01T00:00:00Z"])
        #expect(String(decoding: try CanonicalJSON.encode(manifest), as: UTF8.self) == """
            {"annotations":{"org.opencontainers.image.created":"1970-01-01T00:00:00Z"},"config":{"digest":"\(Self.digestA)",\
            "mediaType":"application/vnd.oci.image.config.v1+json","size":2},"layers":[{"digest":"\(Self.digestB)",\
            "mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":3}],\
            "mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2}
            """)
        let artifact = ImageManifest(config: Descriptor(mediaType: MediaType.empty, bytes: Array("{}".utf8)), layers: [layer],
                                     artifactType: "application/spdx+json", subject: config)
        let artifactJSON = String(decoding: try CanonicalJSON.encode(artifact), as: UTF8.self)
        #expect(artifactJSON.hasPrefix("{\"artifactType\":\"application/spdx+json\",\"config\":{\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\""))
        #expect(artifactJSON.contains("\"subject\":{\"digest\":\"\(Self.digestA)\""))

        var entry = Descriptor(mediaType: MediaType.imageManifest, digest: Self.digestA, size: 10)
        entry.platform = Platform(architecture: "arm64", osFeatures: ["erofs"])
        #expect(String(decoding: try CanonicalJSON.encode(ImageIndex(manifests: [entry])), as: UTF8.self) == """
            {"manifests":[{"digest":"\(Self.digestA)","mediaType":"application/vnd.oci.image.manifest.v1+json",\
            "platform":{"architecture":"arm64","os":"linux","os.features":["erofs"]},"size":10}],\
            "mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}
            """)
    }

    struct BadDescriptor: Sendable, CustomStringConvertible {
        let json: String
        let complaint: String
        var description: String { complaint }
    }

    static let badDescriptors = [
        BadDescriptor(json: #"{"mediaType":"x","digest":"sha256:abc","size":1}"#, complaint: "64 lowercase hex digits"),
        BadDescriptor(json: #"{"mediaType":"x","digest":"\#(String(repeating: "a", count: 64))","size":1}"#, complaint: "no algorithm prefix"),
        BadDescriptor(json: #"{"mediaType":"x","digest":"md5:\#(String(repeating: "a", count: 32))","size":1}"#, complaint: "unsupported algorithm"),
        BadDescriptor(json: #"{"mediaType":"x","digest":"sha256:\#(String(repeating: "a", count: 64))","size":-1}"#, complaint: "negative size"),
        BadDescriptor(json: #"{"mediaType":"x","size":1}"#, complaint: "missing \"digest\""),
        BadDescriptor(json: #"{"mediaType":"x","digest":"sha256:\#(String(repeating: "a", count: 64))","size":"1"}"#, complaint: "expected Int64 at size"),
    ]

    @Test("malformed descriptors are refused with a one-line reason", arguments: badDescriptors)
    func badDescriptor(_ row: BadDescriptor) {
        let error = #expect(throws: OCIError.self) {
            try CanonicalJSON.decode(Descriptor.self, from: Array(row.json.utf8), source: "index.json")
        }
        #expect(error?.description.contains(row.complaint) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.hasPrefix("index.json: ") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test("documents read back keep their exact bytes, whatever serializer wrote them")
    func keepsForeignBytes() throws {
        let text = "{\n  \"schemaVersion\": 2,\n  \"manifests\": [],\n  \"unknown\": {\"kept\": true}\n}\n"
        let document = try JSONDocument<ImageIndex>(decoding: Array(text.utf8), mediaType: MediaType.imageIndex, source: "x")
        #expect(document.bytes == Array(text.utf8))
        #expect(document.descriptor.digest == DigestAlgorithm.sha256.hash(Array(text.utf8)))
        #expect(document.value.mediaType == nil)
    }

    @Test("an index sorts platforms and refuses duplicates")
    func indexOrder() throws {
        let scratch = try ScratchDirectory()
        let layer = try TestImages.layer(TestImages.smallRootfs(marker: "x"), in: scratch)
        let images = try [("s390x", nil), ("arm", "v7"), ("amd64", nil), ("arm", "v6"), ("arm64", nil), ("386", nil)].map {
            try TestImages.image(architecture: $0.0, variant: $0.1, layers: [layer])
        }
        let index = try MultiPlatformImage(images: images)
        #expect(index.index.value.manifests.map { $0.platform!.description }
            == ["linux/386", "linux/amd64", "linux/arm/v6", "linux/arm/v7", "linux/arm64", "linux/s390x"])
        #expect(try MultiPlatformImage(images: images.reversed()).index.bytes == index.index.bytes)
        let duplicate = #expect(throws: OCIError.self) { try MultiPlatformImage(images: [images[0], images[0]]) }
        #expect(duplicate?.message == "two images for platform linux/s390x")
        #expect(throws: OCIError.self) { try MultiPlatformImage(images: []) }
    }

    @Test("RFC 3339 timestamps agree with date(1)", arguments: [
        Int64(0), 1, 59, 86_399, 86_400, 951_782_400, 1_700_000_000, 4_107_542_400, 253_402_300_799, -1, -86_401, -2_208_988_800,
    ])
    func timestamps(_ epoch: Int64) throws {
        let scratch = try ScratchDirectory()
        let oracle = try ExternalTool.run("date", ["-u", "-d", "@\(epoch)", "+%Y-%m-%dT%H:%M:%SZ"], in: scratch).text
        #expect(try Timestamp.rfc3339(epochSeconds: epoch) == oracle.trimmingCharacters(in: .newlines))
    }

    @Test("timestamps beyond year 9999 are refused")
    func timestampRange() {
        #expect(throws: OCIError.self) { try Timestamp.rfc3339(epochSeconds: 253_402_300_800) }
    }

    @Test("apko's annotations, labels, author and history")
    func apkoConventions() throws {
        let configured = ["org.opencontainers.image.created": "from config", "team": "distill"]
        let annotations = ApkoConventions.annotations(configured: configured, created: "2024-05-01T12:00:00Z",
                                                      vcsURL: "https://github.com/example/images@0123abcd")
        #expect(annotations == [
            "org.opencontainers.image.created": "2024-05-01T12:00:00Z", "team": "distill",
            "org.opencontainers.image.source": "https://github.com/example/images",
            "org.opencontainers.image.revision": "0123abcd",
        ])
        #expect(ApkoConventions.annotations(configured: [:], created: "c", vcsURL: "https://github.com/example/images") == [
            "org.opencontainers.image.created": "c",
        ])
        #expect(ApkoConventions.historyComment(layerCount: 1, annotations: [:]) == "This is an apko single-layer image")
        #expect(ApkoConventions.historyComment(layerCount: 3, annotations: [:]) == "")
        #expect(ApkoConventions.historyComment(layerCount: 3, annotations: [
            "org.opencontainers.image.title": "Base", "org.opencontainers.image.vendor": "Example"]) == "Base by Example")

        let scratch = try ScratchDirectory()
        let layers = try [TestImages.layer(TestImages.smallRootfs(marker: "a"), in: scratch),
                          TestImages.layer(TestImages.smallRootfs(marker: "b"), in: scratch)]
        let configuration = ApkoConventions.configuration(
            platform: Platform(architecture: "arm", variant: "v7"), created: "2024-05-01T12:00:00Z", layers: layers,
            container: ContainerConfiguration(entrypoint: ["/bin/sh", "-l"]), annotations: annotations)
        let image = try Image(configuration: configuration, layers: layers, annotations: annotations)
        #expect(image.blobs[0].descriptor.digest == image.manifest.value.config.digest)
        guard case .bytes(let configBytes) = image.blobs[0].content else {
            Issue.record("the config blob should be in memory")
            return
        }
        let json = String(decoding: configBytes, as: UTF8.self)
        #expect(json.contains("\"author\":\"github.com/chainguard-dev/apko\""))
        #expect(json.contains("\"history\":[{\"author\":\"apko\",\"created\":\"2024-05-01T12:00:00Z\",\"created_by\":\"apko\"},"))
        #expect(configuration.config?.labels == annotations)
        #expect(configuration.rootfs.diffIDs == layers.map(\.diffID))
        #expect(image.platform == Platform(architecture: "arm", variant: "v7"))
        #expect(image.manifest.value.annotations == annotations)
    }
}
