import APK
import DistillCrypto
import Foundation
import Resolver
import SBOM
import TestSupport

/// Failures of the helpers below.
struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}

/// Real package metadata from the fixtures.
enum FixtureIndex {
    /// The records of the real Alpine v3.16 main x86_64 index (4929 packages).
    static let alpine316: Result<[PackageInfo], any Error> = Result { try read("alpine/v3.16-x86_64-main/APKINDEX.tar.gz") }

    /// The records of the early Wolfi x86_64 index subset (47 packages).
    static let wolfiEarly: Result<[PackageInfo], any Error> = Result {
        try read("wolfi/index-early-x86_64-subset/APKINDEX.tar.gz")
    }

    /// Extracts the `APKINDEX` member with tar and parses it with the APK module.
    static func read(_ fixture: String) throws -> [PackageInfo] {
        let scratch = try ScratchDirectory()
        let output = try ExternalTool.run("tar", ["-xzOf", Fixtures.url(fixture).path, "APKINDEX"], in: scratch)
        return try IndexText.parse(Array(output.standardOutput), source: fixture)
    }

    /// What the real Resolver installs for `world` from `index`, in install order, each package
    /// with the names of the packages that satisfied its dependencies (the resolver's edges).
    static func closure(of world: [String], in index: [PackageInfo], repository: String) throws -> [ImagePackage] {
        let packageIndex = try PackageIndex(repositories: [Repository(name: repository, packages: index)])
        let resolution = try Resolver(index: packageIndex).resolve(world: world.map { try Dependency(parsing: $0) })
        var satisfiedBy = Array(repeating: [String](), count: resolution.packages.count)
        for edge in resolution.edges {
            guard let from = edge.from, from != edge.to else { continue }
            let name = resolution.packages[edge.to].info.name
            if !satisfiedBy[from].contains(name) { satisfiedBy[from].append(name) }
        }
        return resolution.packages.enumerated().map { position, resolved in
            let info = resolved.info
            return ImagePackage(info: info, repository: repository,
                                downloadURL: "\(repository)/\(info.arch ?? "x86_64")/\(info.fileName)",
                                dependencies: satisfiedBy[position])
        }
    }
}

/// Digests and inputs for tests.
enum Sample {
    /// `sha256:<hex>` of `seed`, a stand-in for a real blob digest.
    static func digest(_ seed: String) -> String {
        "sha256:" + DigestAlgorithm.sha256.hash(Array(seed.utf8)).hex
    }

    static let alpineRelease = OSRelease(id: "alpine", name: "Alpine Linux", versionID: "3.16.3")
    static let alpineRepository = "https://dl-cdn.alpinelinux.org/alpine/v3.16/main"

    /// An Alpine image input around `packages`.
    static func alpineImage(_ packages: [ImagePackage], seed: String = "alpine-image",
                            osRelease: OSRelease? = alpineRelease, vcsURL: String? = nil,
                            embeddedSBOMs: [String: [UInt8]] = [:]) -> ImageSBOMInput {
        ImageSBOMInput(
            image: ImageDescriptor(
                repository: "registry.example.com/team/app", tag: "1.0", manifestDigest: digest(seed + "-manifest"),
                architecture: "amd64",
                layers: [LayerDescriptor(digest: digest(seed + "-layer"),
                                         mediaType: "application/vnd.oci.image.layer.v1.tar+gzip")]),
            apkArchitecture: "x86_64", created: 1_700_000_000, osRelease: osRelease, packages: packages,
            vcsURL: vcsURL, embeddedSBOMs: embeddedSBOMs, toolVersion: "0.1.0")
    }

    /// The world the realistic tests install from the Alpine v3.16 index.
    static let alpineWorld = ["alpine-base", "curl", "bash", "ca-certificates", "tzdata"]
}

/// The third-party validators (spdx-tools' `pyspdxtools`, `ntia-checker`) and a consumer
/// (anchore's `syft`, which scanners such as grype read SBOMs with), installed by
/// scripts/oracles.sh into `$DISTILL_ORACLES/venv` (default `$TMPDIR/distill-oracles/venv`).
enum Validators {
    /// The oracles' venv (TestSupport's ``Oracles``).
    static var binDirectory: Result<URL, any Error> { Oracles.venv }

    /// What the two validators said about one document.
    struct Verdict {
        var spdxToolsStatus: Int32
        var spdxToolsOutput: String
        var ntiaStatus: Int32
        var ntiaReport: String

        var accepted: Bool { spdxToolsStatus == 0 && ntiaStatus == 0 }
        var summary: String {
            "pyspdxtools rc \(spdxToolsStatus): \(spdxToolsOutput)\nntia-checker rc \(ntiaStatus): \(ntiaReport)"
        }
    }

    /// Writes `bytes` to a scratch file and runs `pyspdxtools -i` and `ntia-checker` on it.
    static func check(_ bytes: [UInt8], name: String = "sbom.spdx.json") throws -> Verdict {
        let bin = try binDirectory.get()
        let scratch = try ScratchDirectory()
        try scratch.write(name, bytes)
        let spdx = try ExternalTool.run(bin.appendingPathComponent("pyspdxtools").path, ["-i", name], in: scratch,
                                        expectSuccess: false)
        let ntia = try ExternalTool.run(bin.appendingPathComponent("ntia-checker").path,
                                        ["-r", "json", "-o", "ntia.json", name], in: scratch, expectSuccess: false)
        let report = (try? scratch.readText("ntia.json")) ?? ""
        return Verdict(spdxToolsStatus: spdx.status, spdxToolsOutput: spdx.text + spdx.standardError,
                       ntiaStatus: ntia.status, ntiaReport: report + ntia.standardError)
    }
}

extension Validators {
    /// The packages syft finds in an SPDX document (`syft convert`), as (type, purl) pairs.
    static func syftPackages(_ bytes: [UInt8]) throws -> [(type: String, purl: String)] {
        let syft = try binDirectory.get().appendingPathComponent("syft").path
        let scratch = try ScratchDirectory()
        try scratch.write("sbom.spdx.json", bytes)
        // No update check: the tests reach no network.
        try ExternalTool.run("env", ["SYFT_CHECK_FOR_APP_UPDATE=false", syft, "convert", "sbom.spdx.json",
                                     "-o", "syft-json=syft.json"], in: scratch)
        let artifacts = try JSONValue.parse(scratch.read("syft.json"))["artifacts"]?.arrayValue ?? []
        return artifacts.map { ($0["type"]?.stringValue ?? "", $0["purl"]?.stringValue ?? "") }
    }
}

/// Reading a generated document back.
extension SPDXDocument {
    /// The parsed JSON of the serialized bytes.
    func reparsed() throws -> [String: JSONValue] {
        guard let object = try JSONValue.parse(serialized()).objectValue else {
            throw TestSetupError(description: "the document did not serialize to an object")
        }
        return object
    }

    /// The relationships of `type`.
    func relationships(_ type: String) -> [SPDXRelationship] {
        relationships.filter { $0.type == type }
    }
}

extension JSONValue {
    /// The purl of a package object.
    var purl: String? {
        self["externalRefs"]?.arrayValue?.first { $0["referenceType"]?.stringValue == "purl" }?["referenceLocator"]?
            .stringValue
    }
}
