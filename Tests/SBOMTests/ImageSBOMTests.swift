import APK
import DistillCrypto
import Foundation
import Testing
import TestSupport
@testable import SBOM

@Suite struct ImageSBOMTests {
    static func alpinePackages() throws -> [ImagePackage] {
        try FixtureIndex.closure(of: Sample.alpineWorld, in: FixtureIndex.alpine316.get(),
                                 repository: Sample.alpineRepository)
    }

    @Test func describesTheImageItsLayersTheOSAndEveryPackage() throws {
        let packages = try Self.alpinePackages()
        #expect(packages.count >= 25)
        let input = Sample.alpineImage(packages)
        let document = try ImageSBOM.document(for: input)
        let manifestHex = String(input.image.manifestDigest.dropFirst("sha256:".count))
        let imageID = "SPDXRef-Package-Image-sha256-\(manifestHex)"

        #expect(document.name == "sbom-\(input.image.manifestDigest)")
        #expect(document.namespace == "https://distill.dev/spdx/x86_64/\(manifestHex)")
        #expect(document.created == "2023-11-14T22:13:20Z")
        #expect(document.creators == ["Tool: distill-0.1.0", "Organization: Alpine Linux"])
        #expect(document.describes == [imageID])
        #expect(document.relationships("DESCRIBES") == [SPDXRelationship("SPDXRef-DOCUMENT", "DESCRIBES", imageID)])

        let image = try #require(document.package(imageID))
        #expect(image["versionInfo"] == .string(input.image.manifestDigest))
        #expect(image["supplier"] == .string("Organization: Alpine Linux"))
        #expect(image["primaryPackagePurpose"] == .string("CONTAINER"))
        #expect(JSONValue.object(image).purl == "pkg:oci/app@\(input.image.manifestDigest)?arch=amd64"
            + "&mediatype=application%2Fvnd.oci.image.manifest.v1%2Bjson&os=linux"
            + "&repository_url=registry.example.com%2Fteam%2Fapp&tag=1.0")

        let layerID = "SPDXRef-Package-ImageLayer-" + input.image.layers[0].digest.replacingOccurrences(of: ":", with: "-")
        let layer = try #require(document.package(layerID))
        #expect(layer["versionInfo"] == .string("3.16.3"))
        #expect(document.relationships.contains(SPDXRelationship(imageID, "CONTAINS", layerID)))
        let os = try #require(document.package("SPDXRef-OperatingSystem-alpine"))
        #expect(os["primaryPackagePurpose"] == .string("OPERATING_SYSTEM"))
        #expect(document.relationships.contains(SPDXRelationship(imageID, "CONTAINS", "SPDXRef-OperatingSystem-alpine")))

        // Every installed package, contained by the image.
        #expect(document.packages.count == packages.count + 3)
        for installed in packages {
            let id = SPDXIdentifier.make("Package", "apk", installed.info.name, installed.info.version)
            let package = try #require(document.package(id), "\(installed.info.name)")
            #expect(package["name"] == .string(installed.info.name))
            #expect(package["versionInfo"] == .string(installed.info.version))
            #expect(package["filesAnalyzed"] == .bool(false))
            #expect(package["licenseConcluded"] == .string("NOASSERTION"))
            #expect(package["copyrightText"] == .string("NOASSERTION"))
            #expect(package["supplier"] == .string("Organization: Alpine Linux"))
            #expect(package["downloadLocation"] == .string(installed.downloadURL!))
            #expect(JSONValue.object(package).purl
                == "pkg:apk/alpine/\(PackageURL.percentEncode(installed.info.name))@\(installed.info.version)"
                + "?arch=\(installed.info.arch!)&distro=alpine")
            #expect(document.relationships.contains(SPDXRelationship(imageID, "CONTAINS", id)))
        }
    }

    /// The dependency edges of the input become DEPENDS_ON relationships, one for one.
    @Test func writesTheResolvedDependencyEdges() throws {
        let packages = try Self.alpinePackages()
        let document = try ImageSBOM.document(for: Sample.alpineImage(packages))
        var expected: Set<SPDXRelationship> = []
        for installed in packages {
            let from = SPDXIdentifier.make("Package", "apk", installed.info.name, installed.info.version)
            for dependency in installed.dependencies {
                let target = packages.first { $0.info.name == dependency }!.info
                expected.insert(SPDXRelationship(from, "DEPENDS_ON", SPDXIdentifier.make("Package", "apk", target.name, target.version)))
            }
        }
        #expect(!expected.isEmpty)
        #expect(Set(document.relationships("DEPENDS_ON")) == expected)
        let curl = packages.first { $0.info.name == "curl" }!
        #expect(curl.dependencies.contains("libcurl"))
    }

    /// SHA1 is the `C:` identity decoded from base64 (checked against Python's decoder); the
    /// maintainer becomes the originator.
    @Test func checksumsAndOriginatorComeFromTheIndexRecord() throws {
        let packages = try Self.alpinePackages()
        let document = try ImageSBOM.document(for: Sample.alpineImage(packages))
        let busybox = packages.first { $0.info.name == "busybox" }!.info
        let package = try #require(document.package(SPDXIdentifier.make("Package", "apk", busybox.name, busybox.version)))
        let scratch = try ScratchDirectory()
        let oracle = try ExternalTool.run(
            "python3", ["-c", "import base64,sys; print(base64.b64decode(sys.argv[1][2:]).hex())", busybox.checksum!],
            in: scratch)
        #expect(package["checksums"] == .array([.object([
            "algorithm": .string("SHA1"), "checksumValue": .string(oracle.text.trimmingCharacters(in: .whitespacesAndNewlines)),
        ])]))
        #expect(package["originator"] == .string("Person: Sören Tempel (soeren+alpine@soeren-tempel.net)"))
        #expect(package["licenseDeclared"] == .string("GPL-2.0-only"))
        #expect(package["primaryPackagePurpose"] == .string("APPLICATION"))
        #expect(package["homepage"] == .string("https://busybox.net/"))
        #expect(package["sourceInfo"] == .string("built from origin busybox at commit \(busybox.commit!); "
            + "installed from repository \(Sample.alpineRepository)"))
    }

    /// A package read from a real .apk's .PKGINFO carries its datahash as SHA256.
    @Test func datahashBecomesTheSHA256Checksum() throws {
        let scratch = try ScratchDirectory()
        let apk = Fixtures.url("alpine/packages/x86_64/curl-7.83.1-r1.apk").path
        let pkginfo = try ExternalTool.run("tar", ["-xzOf", apk, ".PKGINFO"], in: scratch)
        let info = try PKGINFO.parse(Array(pkginfo.standardOutput))
        let document = try ImageSBOM.document(for: Sample.alpineImage([ImagePackage(info: info)]))
        let package = try #require(document.package("SPDXRef-Package-apk-curl-7.83.1-r1"))
        #expect(package["checksums"] == .array([.object([
            "algorithm": .string("SHA256"),
            "checksumValue": .string("149f6f46a5b970a820a988ec3032042656d465f5dc72a40d451dcb25377af27c"),
        ])]))
        #expect(package["licenseDeclared"] == .string("curl"))
        #expect(package["downloadLocation"] == .string("NOASSERTION"))
        #expect(package["originator"] == .string("Person: Natanael Copa (ncopa@alpinelinux.org)"))
    }

    @Test func sameInputGivesTheSameBytes() throws {
        let packages = try Self.alpinePackages()
        let first = try ImageSBOM.document(for: Sample.alpineImage(packages, vcsURL: "https://github.com/org/repo@abc"))
        let second = try ImageSBOM.document(for: Sample.alpineImage(packages, vcsURL: "https://github.com/org/repo@abc"))
        #expect(first.serialized() == second.serialized())
        // Order of the JSON arrays does not follow input order: packages and relationships are sorted.
        let object = try first.reparsed()
        let ids = object["packages"]!.arrayValue!.map { $0["SPDXID"]!.stringValue! }
        #expect(ids == ids.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        let text = String(decoding: first.serialized(), as: UTF8.self)
        #expect(!text.contains("\\/"))
        #expect(text.hasPrefix("{\n  \"SPDXID\": \"SPDXRef-DOCUMENT\",\n"))
        #expect(text.hasSuffix("}\n"))
    }

    /// Output order does not follow input order: reversing the install order (which only
    /// decides who wins identifier collisions, and there are none here) gives the same bytes.
    @Test func inputOrderDoesNotChangeTheBytes() throws {
        let packages = try Self.alpinePackages()
        let bytes = try ImageSBOM.document(for: Sample.alpineImage(packages)).serialized()
        #expect(try ImageSBOM.document(for: Sample.alpineImage(packages.reversed())).serialized() == bytes)
    }

    /// Every test run is a new process with a new hash seed, so a pinned digest catches output
    /// that depends on dictionary order, the clock or the platform. Update the pin only for an
    /// intended change of the format, after validating the new output.
    @Test func theBytesArePinned() throws {
        let bytes = try ImageSBOM.document(for: Sample.alpineImage(try Self.alpinePackages())).serialized()
        #expect(DigestAlgorithm.sha256.hash(bytes).hex == "31e7d27312bb0db4853f6617519a7f9acff36ab9eb0b039e9da93290e1a8165c")
    }

    @Test func theNamespaceIsUniquePerImageDigest() throws {
        let packages = try Self.alpinePackages()
        let first = try ImageSBOM.document(for: Sample.alpineImage(packages, seed: "one"))
        let second = try ImageSBOM.document(for: Sample.alpineImage(packages, seed: "two"))
        #expect(first.namespace != second.namespace)
        #expect(!first.namespace.contains("#"))
        #expect(try ImageSBOM.namespace(apkArchitecture: "aarch64", manifestDigest: Sample.digest("one-manifest"))
            != first.namespace)
        #expect(ImageSBOM.fileName(apkArchitecture: "aarch64") == "sbom-aarch64.spdx.json")
    }

    @Test func vcsURLBecomesTheSourcePackage() throws {
        let commit = "0123456789abcdef0123456789abcdef01234567"
        let document = try ImageSBOM.document(for: Sample.alpineImage([], vcsURL: "https://github.com/Org/Repo.git@\(commit)"))
        let source = try #require(document.package("SPDXRef-Package-Source-github.comC47OrgC47Repo.git"))
        #expect(source["versionInfo"] == .string(commit))
        #expect(source["downloadLocation"] == .string("git+https://github.com/Org/Repo.git@\(commit)"))
        #expect(JSONValue.object(source).purl == "pkg:github/org/repo@\(commit)")
        #expect(source["checksums"] == .array([.object(["algorithm": .string("SHA1"), "checksumValue": .string(commit)])]))
        #expect(document.relationships("GENERATED_FROM").map(\.related) == ["SPDXRef-Package-Source-github.comC47OrgC47Repo.git"])
    }

    @Test func withoutOSReleaseThePackagesStillHaveSuppliers() throws {
        let packages = try Self.alpinePackages()
        let document = try ImageSBOM.document(for: Sample.alpineImage(packages, osRelease: nil))
        #expect(document.creators == ["Tool: distill-0.1.0", "Organization: Distill"])
        #expect(document.package("SPDXRef-OperatingSystem-alpine") == nil)
        for package in document.packages {
            let supplier = try #require(package["supplier"]?.stringValue)
            #expect(supplier.hasPrefix("Person: ") || supplier.hasPrefix("Organization: "))
        }
        let musl = packages.first { $0.info.name == "musl" }!.info
        let entry = try #require(document.package(SPDXIdentifier.make("Package", "apk", musl.name, musl.version)))
        #expect(entry["supplier"] == .string("Person: Timo Teräs (timo.teras@iki.fi)"))
        #expect(JSONValue.object(entry).purl == "pkg:apk/unknown/musl@\(musl.version)?arch=x86_64")
    }

    @Test func localRepositoriesAndCredentialsNeverReachTheDocument() throws {
        var info = PackageInfo(name: "tool", version: "1.0-r0", arch: "x86_64", license: "MIT")
        info.url = "http://localhost/tool"
        let packages = [
            ImagePackage(info: info, repository: "https://user:token@apk.example.com/os",
                             downloadURL: "https://user:token@apk.example.com/os/x86_64/tool-1.0-r0.apk"),
        ]
        let document = try ImageSBOM.document(for: Sample.alpineImage(packages))
        let text = String(decoding: document.serialized(), as: UTF8.self)
        #expect(!text.contains("token"))
        let package = try #require(document.package("SPDXRef-Package-apk-tool-1.0-r0"))
        #expect(package["downloadLocation"] == .string("https://apk.example.com/os/x86_64/tool-1.0-r0.apk"))
        #expect(package["homepage"] == nil)

        let local = [ImagePackage(info: info, repository: "/srv/repo", downloadURL: "/srv/repo/x86_64/tool-1.0-r0.apk")]
        let localDocument = try ImageSBOM.document(for: Sample.alpineImage(local))
        let localPackage = try #require(localDocument.package("SPDXRef-Package-apk-tool-1.0-r0"))
        #expect(localPackage["downloadLocation"] == .string("NOASSERTION"))
        #expect(localPackage["sourceInfo"] == .string("installed from repository /srv/repo"))
    }

    @Test func refusesInputsItCannotDescribe() throws {
        let info = PackageInfo(name: "a", version: "1-r0")
        var input = Sample.alpineImage([ImagePackage(info: info, dependencies: ["b"])])
        #expect { try ImageSBOM.document(for: input) } throws: {
            ($0 as? SBOMError)?.message == "package 'a' depends on 'b', which is not installed"
        }
        input.packages = [ImagePackage(info: info), ImagePackage(info: info)]
        #expect { try ImageSBOM.document(for: input) } throws: { ($0 as? SBOMError)?.kind == .invalidInput }
        input.packages = []
        input.image.manifestDigest = "sha256:XYZ"
        #expect { try ImageSBOM.document(for: input) } throws: {
            ($0 as? SBOMError)?.message == "manifest digest 'sha256:XYZ' is not sha256:<64 hex> or sha512:<128 hex>"
        }
        input = Sample.alpineImage([])
        input.created = -5
        #expect { try ImageSBOM.document(for: input) } throws: { ($0 as? SBOMError)?.kind == .invalidInput }
    }

    @Test func writesAtomicallyIntoTheDirectory() throws {
        let scratch = try ScratchDirectory()
        let document = try ImageSBOM.document(for: Sample.alpineImage(try Self.alpinePackages()))
        try document.write(toDirectory: scratch.url, fileName: ImageSBOM.fileName(apkArchitecture: "x86_64"))
        #expect(try scratch.read("sbom-x86_64.spdx.json") == document.serialized())
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path)
        #expect(names == ["sbom-x86_64.spdx.json"])
        let missing = scratch.url.appendingPathComponent("missing")
        #expect { try document.write(toDirectory: missing, fileName: "x.json") } throws: { ($0 as? SBOMError)?.kind == .io }
    }
}

@Suite struct IndexSBOMTests {
    static func input() -> IndexSBOMInput {
        IndexSBOMInput(
            repository: "registry.example.com/team/app", tag: "1.0", indexDigest: Sample.digest("index"),
            images: [
                IndexEntry(manifestDigest: Sample.digest("amd64"), architecture: "amd64"),
                IndexEntry(manifestDigest: Sample.digest("arm64"), architecture: "arm64", variant: "v8"),
            ],
            created: 1_700_000_000, osRelease: Sample.alpineRelease, toolVersion: "0.1.0")
    }

    @Test func relatesTheIndexToEachImage() throws {
        let input = Self.input()
        let document = try IndexSBOM.document(for: input)
        let indexID = "SPDXRef-Package-" + input.indexDigest.replacingOccurrences(of: ":", with: "-")
        #expect(document.name == "sbom-\(input.indexDigest)")
        #expect(document.namespace == "https://distill.dev/spdx/index/\(input.indexDigest.dropFirst(7))")
        #expect(document.describes == [indexID])
        let index = try #require(document.package(indexID))
        #expect(JSONValue.object(index).purl == "pkg:oci/app@\(input.indexDigest)"
            + "?mediatype=application%2Fvnd.oci.image.index.v1%2Bjson&repository_url=registry.example.com%2Fteam%2Fapp&tag=1.0")
        for image in input.images {
            let id = "SPDXRef-Package-" + image.manifestDigest.replacingOccurrences(of: ":", with: "-")
            let package = try #require(document.package(id))
            #expect(package["versionInfo"] == .string(image.manifestDigest))
            #expect(document.relationships.contains(SPDXRelationship(indexID, "VARIANT_OF", id)))
            #expect(document.relationships.contains(SPDXRelationship(indexID, "CONTAINS", id)))
        }
        let arm = try #require(document.package("SPDXRef-Package-" + Sample.digest("arm64").replacingOccurrences(of: ":", with: "-")))
        #expect(JSONValue.object(arm).purl?.contains("arch=arm64") == true)
        #expect(JSONValue.object(arm).purl?.contains("variant=v8") == true)
        #expect(try IndexSBOM.document(for: input).serialized() == document.serialized())
    }

    @Test func refusesAnEmptyIndexAndBadDigests() {
        var input = Self.input()
        input.images = []
        #expect(throws: SBOMError.self) { try IndexSBOM.document(for: input) }
        input = Self.input()
        input.indexDigest = "md5:abc"
        #expect(throws: SBOMError.self) { try IndexSBOM.document(for: input) }
    }
}
