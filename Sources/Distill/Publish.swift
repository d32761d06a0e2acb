public import ApkoConfig
public import DistillCrypto
import Archive
import Foundation
public import OCI
public import ProgressReporting
import Signing

/// Everything `distill publish` is asked besides the config.
public struct PublishOptions: Sendable {
    /// Where the image goes: `registry/repository[:tag]`, one or more (a missing tag is `latest`).
    /// The first names the image in its SBOMs and is the one printed.
    public var references: [String]
    /// How registries are reached (transport, plain-HTTP hosts, credentials, upload sizes).
    public var access: RegistryAccess
    /// The build time (SOURCE_DATE_EPOCH / `--build-date`).
    public var epoch: BuildEpoch
    /// The layers' deflate level, 0–9.
    public var compressionLevel: Int
    /// Whether SPDX SBOMs are made (and, with a key, attested).
    public var writesSBOMs: Bool
    /// Where the SBOM files are kept; nil discards them after publishing (as apko does).
    public var sbomDirectory: String?
    /// Install exactly these packages instead of resolving.
    public var lockfile: Lockfile?
    /// The lock file's name, for messages.
    public var lockfileName: String
    /// When set, the index and every platform manifest are signed, and their SBOMs attested, in
    /// each registry repository before any tag is set.
    public var signingKey: PrivateKey?
    /// Where to write the pushed references (`--image-refs`), one a line; nil writes none.
    public var imageRefsFile: String?
    /// Distill's version, for the SBOMs' `creators`.
    public var toolVersion: String
    /// Receives one line per step.
    public var progress: @Sendable (String) -> Void
    /// Receives the build's byte-level events (see ``BuildOptions/progressEvents``), then a
    /// `push` `start`, a `run` per blob and manifest and, once its tags are set, a `done` per
    /// repository, named `registry/repository`.
    public var progressEvents: ProgressReporter

    /// Options for publishing to `references` through `access`.
    public init(references: [String], access: RegistryAccess, epoch: BuildEpoch,
                compressionLevel: Int = Pipeline.defaultCompressionLevel, writesSBOMs: Bool = true,
                sbomDirectory: String? = nil, lockfile: Lockfile? = nil, lockfileName: String = "the lock file",
                signingKey: PrivateKey? = nil, imageRefsFile: String? = nil, toolVersion: String,
                progress: @escaping @Sendable (String) -> Void = { _ in }, progressEvents: ProgressReporter = .none) {
        self.references = references
        self.access = access
        self.epoch = epoch
        self.compressionLevel = compressionLevel
        self.writesSBOMs = writesSBOMs
        self.sbomDirectory = sbomDirectory
        self.lockfile = lockfile
        self.lockfileName = lockfileName
        self.signingKey = signingKey
        self.imageRefsFile = imageRefsFile
        self.toolVersion = toolVersion
        self.progress = progress
        self.progressEvents = progressEvents
    }
}

/// What a publish did.
public struct PublishResult: Sendable {
    /// `registry/repository@sha256:…` of the index in the first reference's repository: what
    /// `distill publish` prints (as apko does).
    public var indexReference: String
    /// The references `--image-refs` lists: each platform manifest, then the index, all by digest
    /// in the first reference's repository (apko's order).
    public var imageReferences: [String]
    /// The build that was published.
    public var build: BuildReport
    /// One push report per repository, in the order the repositories were first named.
    public var pushes: [PublishReport]
    /// One line per signature or attestation written or found already there.
    public var signatures: [String]
    /// Every reference whose tag now points at the index.
    public var tagged: [String]
}

extension Pipeline {
    /// `distill publish CONFIG REF…`: builds `config` exactly as ``build(_:options:)`` does (into a
    /// temporary OCI layout, every blob verified again as it is read back), then, for every
    /// repository the references name, pushes the blobs the registry lacks (HEAD first), each
    /// platform manifest and the index by digest; with a key, signs the index and every
    /// platform manifest and attests their SBOMs there (identity: each tagged reference); and
    /// only when all of that succeeded in every repository, points each reference's tag at the
    /// index. A failure anywhere leaves no tag pointing at an incomplete or unsigned image.
    ///
    /// References may name different repositories or registries, as with apko: each repository
    /// receives the whole image. The SBOMs name the first reference.
    ///
    /// - Throws: ``DistillError``: the build's kinds, `.option` for a reference that is not a
    ///   tag, `.registry` for a push, `.signing` for signing, `.io` for `--image-refs`.
    public func publish(_ config: LoadedConfig, options: PublishOptions) async throws(DistillError) -> PublishResult {
        let targets = try Self.publishTargets(options.references)
        let work = try ScratchSpace(near: Self.publishScratchAnchor())
        // The layout is read from this directory until the last push: keep it until the end.
        defer { withExtendedLifetime(work) {} }
        let layoutPath = work.path + "/layout/"
        let sbomDirectory = options.sbomDirectory ?? work.path + "/sboms"
        let report = try await build(config, options: BuildOptions(
            reference: targets[0].references[0].description, output: layoutPath, epoch: options.epoch,
            compressionLevel: options.compressionLevel, writesSBOMs: options.writesSBOMs, sbomDirectory: sbomDirectory,
            lockfile: options.lockfile, lockfileName: options.lockfileName, signingKey: nil,
            toolVersion: options.toolVersion, progress: options.progress, progressEvents: options.progressEvents))

        let image: MultiPlatformImage
        do {
            guard case .index(let index) = try await OCILayout(directory: layoutPath).loadImage() else {
                throw DistillError(.image, "the built layout holds no image index")
            }
            image = index
        } catch let error as DistillError {
            throw error
        } catch {
            throw DistillError(.image, "reading back the built image: \(error)")
        }
        let signable = SignableImage(image)
        var sboms: [Digest: [UInt8]] = [:]
        if options.signingKey != nil && options.writesSBOMs {
            do {
                sboms = try SBOMFiles.documents(for: signable, in: sbomDirectory)
            } catch {
                throw DistillError(.signing, error.description)
            }
        }

        var destinations: [RegistryDestination] = []
        var pushes: [PublishReport] = []
        for target in targets {
            let name = target.references[0].name
            options.progress("pushing \(image.index.descriptor.digest) to \(name)")
            do {
                let destination = RegistryDestination(client: try options.access.client(for: target.references[0]),
                                                      repository: target.references[0].repository)
                let push = try await ImagePublisher.publish(image, to: destination, tags: [],
                                                            progress: PublishProgress(options.progressEvents, .push, item: name))
                options.progress("\(name): \(push.blobsWritten.count) blob(s) uploaded, \(push.blobsSkipped.count) already there; \(push.manifestsWritten.count) manifest(s) pushed")
                destinations.append(destination)
                pushes.append(push)
            } catch {
                throw DistillError(.registry, "\(error)").during("pushing to \(name)")
            }
        }

        var signatures: [String] = []
        if let key = options.signingKey {
            for (target, destination) in zip(targets, destinations) {
                let store = RegistrySignatureStore(client: destination.client, repository: destination.repository)
                for reference in target.references {
                    options.progress("signing \(image.index.descriptor.digest) as \(reference)")
                    do {
                        let signed = try await ImageSigner(key: key, dockerReference: reference).sign(signable, sboms: sboms, into: store)
                        for entry in signed.entries {
                            signatures.append("\(reference.name): \(entry.line)")
                            options.progress(signatures[signatures.count - 1])
                        }
                    } catch {
                        throw DistillError(.signing, error.description).during("signing in \(reference.name)")
                    }
                }
            }
        }

        var tagged: [String] = []
        for (target, destination) in zip(targets, destinations) {
            let tags = target.references.compactMap(\.tag)
            do {
                try await ImagePublisher.tag(image.index.rawManifest, as: tags, in: destination)
            } catch {
                throw DistillError(.registry, "\(error)").during("tagging in \(target.references[0].name)")
            }
            tagged += target.references.map(\.description)
            let bytes = LoadedImage.index(image).totalBytes
            options.progressEvents.finish(.push, target.references[0].name, bytes: bytes)
            options.progress("tagged \(target.references.map(\.description).joined(separator: ", "))")
        }

        let first = targets[0].references[0].name
        let imageReferences = image.images.map { "\(first)@\($0.manifest.descriptor.digest)" }
            + ["\(first)@\(image.index.descriptor.digest)"]
        if let file = options.imageRefsFile {
            try Self.writeAtomically(imageReferences.joined(separator: "\n") + "\n", to: file)
        }
        return PublishResult(indexReference: "\(first)@\(image.index.descriptor.digest)", imageReferences: imageReferences,
                             build: report, pushes: pushes, signatures: signatures, tagged: tagged)
    }

    /// One repository (`registry/repository`) and the tagged references that name it.
    struct PublishTarget {
        var references: [ImageReference]
    }

    /// The references grouped by repository, in the order each repository is first named;
    /// repeated references count once. Digest references are refused: publishing sets tags.
    static func publishTargets(_ texts: [String]) throws(DistillError) -> [PublishTarget] {
        guard !texts.isEmpty else { throw DistillError(.option, "publish needs at least one image reference") }
        var targets: [PublishTarget] = []
        var seen: Set<String> = []
        for text in texts {
            let reference: ImageReference
            do {
                reference = try ImageReference(parsing: text)
            } catch {
                throw DistillError(.option, error.description)
            }
            guard reference.digest == nil, reference.tag != nil else {
                throw DistillError(.option, "\(text): publish sets tags, so each reference needs a tag, not a digest")
            }
            guard seen.insert(reference.description).inserted else { continue }
            if let position = targets.firstIndex(where: { $0.references[0].name == reference.name }) {
                targets[position].references.append(reference)
            } else {
                targets.append(PublishTarget(references: [reference]))
            }
        }
        return targets
    }

    /// The name publish's scratch layouts are made beside (`$TMPDIR/.distill-publish.distill-<pid>-…`),
    /// after removing those of killed publishes.
    static func publishScratchAnchor(in directory: String = FileManager.default.temporaryDirectory.path) -> String {
        TemporaryName.removeAbandoned(in: directory) { $0 == "distill-publish" }
        return URL(fileURLWithPath: directory).appendingPathComponent("distill-publish").path
    }

    /// Writes `text` under a temporary name in the same directory, then renames it into place.
    static func writeAtomically(_ text: String, to path: String) throws(DistillError) {
        let url = URL(fileURLWithPath: path)
        TemporaryName.removeAbandoned(in: url.deletingLastPathComponent().path) { $0 == url.lastPathComponent }
        let temporary = URL(fileURLWithPath: TemporaryName.sibling(of: path))
        do {
            try Data(text.utf8).write(to: temporary)
            guard rename(temporary.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DistillError(.io, "\(path): cannot write the image references (\(error.localizedDescription))")
        }
    }
}
