import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

/// A real repository to build a rootfs from: packages in dependency order, as the resolver
/// would hand them over.
struct FixtureImage: Sendable, CustomStringConvertible {
    var repository: String
    var arch: String
    var key: String
    var packages: [String]
    /// A package without an index (`path`, `key`), verified by its own signature.
    var standalone: (path: String, key: String)?

    var description: String { "\(repository) \(arch) \(packages.joined(separator: ","))" }

    static let testRepo = FixtureImage(repository: "apko-testrepo", arch: "x86_64", key: "melange.rsa.pub",
                                       packages: ["pretend-baselayout", "replayout"])
    static let all: [FixtureImage] = [
        testRepo,
        FixtureImage(repository: "apko-testrepo", arch: "aarch64", key: "melange.rsa.pub",
                     packages: ["pretend-baselayout", "replayout", "custom-ca-certs-1", "custom-ca-certs-2"]),
        FixtureImage(repository: "apko-private-repo", arch: "x86_64", key: "private_pkg_key.rsa.pub", packages: ["package-x", "package-y"]),
        FixtureImage(repository: "third-party/alauda-istio", arch: "x86_64", key: "melange.rsa.pub", packages: ["alauda-baselayout"]),
        FixtureImage(repository: "local-melange-tzdata", arch: "x86_64", key: "local-melange.rsa.pub", packages: [],
                     standalone: ("local-melange-tzdata/x86_64/tzdata-2023c-r0.apk", "local-melange-tzdata/local-melange.rsa.pub")),
    ]

    func load(scratch: ScratchDirectory) throws -> [RootfsPackage] {
        var result = packages.isEmpty ? []
            : try FixturePackages.fromRepository(repository, arch: arch, key: key, names: packages, scratch: scratch)
        if let standalone {
            result.append(try FixturePackages.standalone(standalone.path, key: standalone.key, scratch: scratch))
        }
        return result
    }

    func request(scratch: ScratchDirectory, epoch: Int64 = 0) throws -> RootfsRequest {
        let packages = try load(scratch: scratch)
        let keyBytes = [UInt8](try Fixtures.data("\(repository)/\(key)"))
        return RootfsRequest(
            architecture: arch, packages: packages,
            world: packages.map { "\($0.info.name)=\($0.info.version)" },
            repositories: ["./testdata/packages"],
            keyring: [KeyFile(name: URL(fileURLWithPath: key).lastPathComponent, content: keyBytes)],
            apkoJSON: Array(#"{"archs":["\#(arch)"],"contents":{"packages":[]}}"#.utf8), buildEpoch: epoch)
    }
}

@Suite("Rootfs from the real fixture repositories")
struct FixtureRootfsTests {
    /// The issue's rootfs check: the layer lists with `tar -tvf`, GNU tar extracts it as root,
    /// and the extracted `lib/apk/db/installed` lists every package with every file, each `Z:`
    /// equal to the SHA-1 of the file as unpacked (of the link target for symlinks).
    @Test(arguments: FixtureImage.all)
    func extractedDatabaseMatchesExtractedFiles(_ image: FixtureImage) throws {
        let scratch = try ScratchDirectory()
        let request = try image.request(scratch: scratch)
        let rootfs = try Rootfs.compose(request)
        let layer = try LayerFiles.write(rootfs, to: "layer.tar", in: scratch)

        let listing = try ExternalTool.run("tar", ["-tvf", layer], in: scratch).text
        for package in rootfs.manifest.packages {
            for file in package.files.prefix(20) {
                // `lib/...` files land under `usr/lib/...` when lib is a symlink: check the db path or its usr twin.
                #expect(listing.contains(" \(file)") || listing.contains(" usr/\(file)"), "tar -tvf does not list \(file)")
            }
        }

        try FileManager.default.createDirectory(atPath: scratch.path("root"), withIntermediateDirectories: true)
        try ExternalTool.run("tar", ["-xpf", layer, "-C", "root", "--numeric-owner", "--xattrs", "--xattrs-include=*"], in: scratch)
        let root = scratch.path("root")
        let database = try String(contentsOfFile: root + "/lib/apk/db/installed", encoding: .utf8)
        let parsed = InstalledDatabaseText(database)
        #expect(parsed.records.map(\.name).sorted() == request.packages.map(\.info.name).sorted())

        for package in request.packages {
            let record = try #require(parsed.records.first { $0.name == package.info.name })
            let listed = record.files.map(\.path)
            #expect(listed == rootfs.manifest.packages.first { $0.info.name == package.info.name }?.files)
            // Every installable non-directory entry of the package is in its record (nothing is
            // taken over between these packages except replayout's os-release, checked below).
            let shipped = package.dataEntries.filter { $0.kind != .directory }.map(\.path)
            for path in shipped where !(package.info.name == "pretend-baselayout" && path == "etc/os-release") {
                #expect(listed.contains(path), "\(package.info.name): \(path) is missing from its installed-db record")
            }
            for (path, checksum) in record.files {
                let checksum = try #require(checksum, "\(package.info.name): \(path) has no Z:")
                let onDisk = root + "/" + path
                let attributes = try FileManager.default.attributesOfItem(atPath: onDisk)
                let bytes: [UInt8]
                if attributes[.type] as? FileAttributeType == .typeSymbolicLink {
                    bytes = Array(try FileManager.default.destinationOfSymbolicLink(atPath: onDisk).utf8)
                } else {
                    bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: onDisk)))
                }
                #expect(q1(bytes) == checksum, "\(package.info.name): Z: of \(path) does not match the extracted file")
            }
        }
        // Modes survive extraction as root: the sticky bit of /tmp, 0555 /proc, 0600 lock.
        let tmp = try FileManager.default.attributesOfItem(atPath: root + "/tmp")
        #expect((tmp[.posixPermissions] as? Int) == 0o1777)
        #expect((try FileManager.default.attributesOfItem(atPath: root + "/proc")[.posixPermissions] as? Int) == 0o555)
        #expect((try FileManager.default.attributesOfItem(atPath: root + "/usr/lib/apk/db/lock")[.posixPermissions] as? Int) == 0o600)
    }

    /// replayout replaces pretend-baselayout: its os-release wins and leaves the replaced
    /// package's record, and the installed db has apk-tools' exact bytes for both.
    @Test func replacesMovesOwnership() throws {
        let scratch = try ScratchDirectory()
        let rootfs = try Rootfs.compose(try FixtureImage.testRepo.request(scratch: scratch))
        let osRelease = try #require(try rootfs.contents(of: "/etc/os-release"))
        #expect(String(decoding: osRelease, as: UTF8.self).contains("ID=replaces"))
        #expect(rootfs.manifest.osRelease?.id == "replaces")
        #expect(rootfs.manifest.osRelease?.name == "Replaces")
        #expect(rootfs.manifest.osRelease?.versionID == "1.0.0")
        let pretend = try #require(rootfs.manifest.packages.first { $0.info.name == "pretend-baselayout" })
        #expect(!pretend.files.contains("etc/os-release"))
        #expect(pretend.files == ["var/lib/db/sbom/pretend-baselayout-1.0.0-r0.spdx.json"])

        let installed = String(decoding: try #require(try rootfs.contents(of: "usr/lib/apk/db/installed")), as: UTF8.self)
        let replayout = try #require(rootfs.manifest.packages.first { $0.info.name == "replayout" })
        let osReleaseSum = q1(osRelease)
        let sbomSum = q1(try #require(try rootfs.contents(of: "var/lib/db/sbom/replayout-1.0.0-r0.spdx.json")))
        let expectedReplayout = """
            C:\(replayout.info.checksum!)
            P:replayout
            V:1.0.0-r0
            A:x86_64
            S:2961
            I:3389
            T:replacement baselayout
            U:
            L:MIT
            o:replayout
            m:unknown
            c:326e0ed687bdfeadac839dc9b25686e4442c9d04
            D:pretend-baselayout
            r:pretend-baselayout
            F:etc
            R:os-release
            a:501:20:644
            Z:\(osReleaseSum)
            F:var
            F:var/lib
            F:var/lib/db
            F:var/lib/db/sbom
            R:replayout-1.0.0-r0.spdx.json
            Z:\(sbomSum)


            """
        #expect(installed.hasPrefix("C:\(pretend.info.checksum!)\nP:pretend-baselayout\n"))
        #expect(installed.hasSuffix(expectedReplayout), "installed db:\n\(installed)")
        #expect(installed.contains("F:etc\nF:var\nF:var/lib\nF:var/lib/db\nF:var/lib/db/sbom\nR:pretend-baselayout-1.0.0-r0.spdx.json\n"))
    }

    /// tzdata's data section is several gzip members and holds hundreds of hard links: every
    /// link in the layer points at an entry written before it, and extraction reproduces them.
    @Test func hardLinksPointBackwards() throws {
        let scratch = try ScratchDirectory()
        let image = FixtureImage.all.first { $0.repository == "local-melange-tzdata" }!
        let rootfs = try Rootfs.compose(try image.request(scratch: scratch))
        let entries = try LayerFiles.entries(try LayerFiles.bytes(rootfs))
        var seen = Set<String>()
        var links = 0
        for item in entries {
            if item.entry.kind == .hardLink {
                links += 1
                #expect(seen.contains(item.entry.linkName), "\(item.entry.name) links to \(item.entry.linkName), which comes later")
            }
            seen.insert(item.entry.name)
        }
        #expect(links == 460)
        let package = rootfs.manifest.packages[0]
        // 707 files (the package's 709 regular entries less .SIGN and .PKGINFO), 460 links, 33 symlinks.
        #expect(package.files.count == 707 + 460 + 33)
    }
}
