import APK
import DistillCrypto
import Foundation
import HTTPTransport
import OCI
import SBOM
import Signing
import TestSupport

/// The image the signing tests sign: two platforms (linux/amd64, linux/arm64), each one layer
/// holding the data of the real, signed `package-x-1.0.0-r0.apk` of apko's private test
/// repository for that architecture, with its SPDX SBOMs made by the SBOM module.
struct SignedImageFixture {
    /// The repository key of apko's private test repository.
    static let repositoryKey = Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub")
    /// The build time of the fixture image (2023-11-14T22:13:20Z).
    static let epoch: Int64 = 1_700_000_000

    let image: MultiPlatformImage
    /// Per-architecture SBOMs (keyed by manifest digest) and the index SBOM.
    let sboms: [Digest: [UInt8]]

    /// Builds the image in `scratch`; `repository` (`registry/ns/repo`) and `tag` go into the SBOMs.
    init(in scratch: ScratchDirectory, repository: String, tag: String) throws {
        var keyring = Keyring()
        try keyring.addKey(file: Self.repositoryKey.path)
        let created = try Timestamp.rfc3339(epochSeconds: Self.epoch)
        var images: [Image] = []
        var packagesByDigest: [Digest: (Architecture, PackageInfo)] = [:]
        for architecture in [Architecture.amd64, .arm64] {
            let apk = Fixtures.url("apko-private-repo/\(architecture.apkName)/package-x-1.0.0-r0.apk")
            let writer = try LayerBlobWriter(directory: scratch.url.path, compressionLevel: 6, threads: 1)
            let package = try APKFile.read(path: apk.path, options: APKFile.Options(keyring: keyring, stopsAtFirstFailure: true),
                                           expandingDataTo: writer.tarSink)
            let layer = try writer.finish()
            let configuration = ImageConfiguration(
                architecture: architecture.ociArchitecture, variant: architecture.ociVariant, created: created,
                author: "distill tests", config: ContainerConfiguration(env: ["PATH=/usr/bin:/bin"]),
                rootfs: RootFilesystem(diffIDs: [layer.diffID]),
                history: [History(created: created, createdBy: "distill", comment: package.info.nameVersion)])
            let image = try Image(configuration: configuration, layers: [layer])
            images.append(image)
            packagesByDigest[image.manifest.descriptor.digest] = (architecture, package.info)
        }
        let index = try MultiPlatformImage(images: images)

        var sboms: [Digest: [UInt8]] = [:]
        for platformImage in index.images {
            let digest = platformImage.manifest.descriptor.digest
            let (architecture, info) = packagesByDigest[digest]!
            let input = ImageSBOMInput(
                image: ImageDescriptor(repository: repository, tag: tag, manifestDigest: digest.description,
                                       architecture: architecture.ociArchitecture, variant: architecture.ociVariant,
                                       layers: platformImage.manifest.value.layers.map {
                                           LayerDescriptor(digest: $0.digest.description, mediaType: $0.mediaType)
                                       }),
                apkArchitecture: architecture.apkName, created: Self.epoch,
                osRelease: OSRelease(id: "distill-test", name: "Distill Test", versionID: "1.0"),
                packages: [ImagePackage(info: info, repository: "https://packages.example/private")],
                toolVersion: "0.1.0")
            sboms[digest] = try ImageSBOM.document(for: input).serialized()
        }
        let indexInput = IndexSBOMInput(
            repository: repository, tag: tag, indexDigest: index.index.descriptor.digest.description,
            images: index.images.map {
                IndexEntry(manifestDigest: $0.manifest.descriptor.digest.description,
                           architecture: $0.platform!.architecture, variant: $0.platform!.variant)
            },
            created: Self.epoch, osRelease: OSRelease(id: "distill-test", name: "Distill Test", versionID: "1.0"),
            toolVersion: "0.1.0")
        sboms[index.index.descriptor.digest] = try IndexSBOM.document(for: indexInput).serialized()
        self.image = index
        self.sboms = sboms
    }

    /// The digests of the index and of each platform manifest, index first.
    var manifestDigests: [Digest] {
        [image.index.descriptor.digest] + image.images.map(\.manifest.descriptor.digest)
    }

    /// Writes the SBOM files as `distill build` names them into `directory`.
    func writeSBOMFiles(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for manifest in SignableImage(image).manifests {
            let name = try SBOMFiles.fileName(for: manifest)
            try Data(sboms[manifest.descriptor.digest]!).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name))
        }
    }
}

/// A key pair written as `NAME.key` / `NAME.pub` by the library, as `distill keygen --type` does.
struct KeyPairFixture {
    let privateKey: PrivateKey
    let privatePath: String
    let publicPath: String

    init(_ algorithm: KeyAlgorithm = .ecdsaP256, named name: String, in scratch: ScratchDirectory) throws {
        let pair = try SigningKeyFile.generate(algorithm, pathPrefix: scratch.path(name), rsaBitCount: 2048)
        privatePath = pair.privateKeyPath
        publicPath = pair.publicKeyPath
        privateKey = try SigningKeyFile.readPrivateKey(at: privatePath)
    }

    var publicKey: PublicKey { privateKey.publicKey }
}

extension LocalRegistry {
    /// Access to this registry (loopback, so plain HTTP).
    var access: RegistryAccess {
        RegistryAccess(http: URLSessionHTTPClient(), retry: RetryPolicy(attempts: 2, initialDelay: .milliseconds(100)))
    }

    /// A client for the registry.
    func client() throws -> RegistryClient {
        try access.client(for: ImageReference(parsing: "\(host)/x/y:z"))
    }
}

/// The `SigningError` `body` throws, or nil when it throws nothing or something else.
func thrownSigningError(_ body: () async throws -> Void) async -> SigningError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? SigningError
    }
}
