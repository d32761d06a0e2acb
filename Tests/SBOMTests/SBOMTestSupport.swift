import APK
import DistillCrypto
import Foundation
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

    /// `world` and everything it depends on, in install order (dependencies first), each with
    /// the names of the packages that satisfied its dependencies. The provider choice is
    /// simple (an exact name wins, then the highest `provider_priority`, then the first record),
    /// which is all a realistic SBOM input needs; the real solver lives in the Resolver module.
    static func closure(of world: [String], in index: [PackageInfo], repository: String) throws -> [InstalledPackage] {
        var byName: [String: PackageInfo] = [:]
        var providers: [String: [PackageInfo]] = [:]
        for package in index {
            if byName[package.name] == nil { byName[package.name] = package }
            for provided in package.provides { providers[provided.name, default: []].append(package) }
        }
        func provider(_ name: String) -> PackageInfo? {
            if let exact = byName[name] { return exact }
            return providers[name]?.max { ($0.providerPriority ?? 0) < ($1.providerPriority ?? 0) }
        }

        var order: [String] = []
        var edges: [String: [String]] = [:]
        var visiting: Set<String> = []
        func visit(_ package: PackageInfo) throws {
            guard edges[package.name] == nil, !visiting.contains(package.name) else { return }
            visiting.insert(package.name)
            var satisfiedBy: [String] = []
            for dependency in package.depends where !dependency.isConflict {
                guard let chosen = provider(dependency.name) else {
                    throw TestSetupError(description: "nothing provides \(dependency.name) for \(package.name)")
                }
                if chosen.name != package.name, !satisfiedBy.contains(chosen.name) { satisfiedBy.append(chosen.name) }
                try visit(chosen)
            }
            visiting.remove(package.name)
            edges[package.name] = satisfiedBy
            order.append(package.name)
        }
        for name in world {
            guard let package = provider(name) else { throw TestSetupError(description: "no package \(name)") }
            try visit(package)
        }
        return order.map { name in
            let info = byName[name]!
            return InstalledPackage(info: info, repository: repository,
                                    downloadURL: "\(repository)/\(info.arch ?? "x86_64")/\(info.fileName)",
                                    dependencies: edges[name]!)
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
    static func alpineImage(_ packages: [InstalledPackage], seed: String = "alpine-image",
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

/// The third-party validators (spdx-tools' `pyspdxtools`, `ntia-checker`), installed by
/// scripts/oracles.sh into `$DISTILL_ORACLES/venv` (default `$TMPDIR/distill-oracles/venv`).
enum Validators {
    static let binDirectory: Result<URL, any Error> = Result {
        let environment = ProcessInfo.processInfo.environment
        let temporary = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let root = environment["DISTILL_ORACLES"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(temporary)/distill-oracles"
        let bin = URL(fileURLWithPath: root).appendingPathComponent("venv/bin")
        let tools = ["pyspdxtools", "ntia-checker"]
        if !tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent($0).path) }) {
            let scratch = try ScratchDirectory()
            let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/oracles.sh").path
            try ExternalTool.run(script, ["ensure_venv"], in: scratch, timeout: .seconds(900))
        }
        for tool in tools where !FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent(tool).path) {
            throw TestSetupError(description: "scripts/oracles.sh ensure_venv did not install \(tool) in \(bin.path)")
        }
        return bin
    }

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
