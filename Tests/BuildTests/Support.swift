import DistillCrypto
import Foundation
import TestSupport
import Testing

/// The Debian tools the acceptance suite judges images with (see TestSupport's ``Oracles``).
enum AcceptanceOracles {
    /// umoci, oci-image-tool and skopeo.
    static let apt: Result<Void, any Error> = Result {
        try Oracles.ensureOnPath(["umoci": "umoci", "oci-image-tool": "oci-image-tool", "skopeo": "skopeo"])
    }
}

/// One file the unpacked image must have, with its type, owner and mode.
struct ExpectedFile: Sendable, CustomStringConvertible {
    enum Kind: Sendable { case file, directory, symlink(String) }
    var path: String
    var kind: Kind
    var uid: UInt32 = 0
    var gid: UInt32 = 0
    /// Permission bits with setuid/setgid/sticky (ignored for symlinks).
    var mode: UInt32

    var description: String { "\(path) \(kind) \(uid):\(gid) \(String(mode, radix: 8))" }
}

/// The fixture images of the acceptance suite: one per complete signed fixture repository.
enum FixtureImage: String, Sendable, CaseIterable, CustomStringConvertible {
    /// apko's own test config, unchanged, in a workspace shaped like apko's internal/cli.
    case apkoTestRepo = "apko-testrepo"
    /// A `@private` tagged repository beside the test repository.
    case privateRepo = "apko-private-repo"
    /// A real third-party repository, with accounts, paths and image settings.
    case alaudaIstio = "alauda-istio"
    /// tzdata built by melange, its data split over several gzip members; indexed here with a
    /// scratch key, and layered by origin.
    case melangeTzdata = "local-melange-tzdata"

    var description: String { rawValue }

    static let tag = "registry.example/distill/acceptance:1.0"
    static let architectures = ["x86_64", "aarch64"]

    /// Each architecture's installed packages, `name version`, sorted.
    var packages: [String] {
        switch self {
        case .apkoTestRepo: ["pretend-baselayout 1.0.0-r0", "replayout 1.0.0-r0"]
        case .privateRepo: ["package-x 1.0.0-r0", "package-y 1.0.0-r0", "pretend-baselayout 1.0.0-r0"]
        case .alaudaIstio: ["alauda-baselayout 20250620-r0"]
        case .melangeTzdata: ["tzdata 2023c-r0"]
        }
    }

    /// The package files to compare against the fixture `.apk` files.
    var packageFiles: [String] {
        let all = ["pretend-baselayout", "replayout", "package-x", "package-y", "alauda-baselayout", "tzdata"]
        let names = Set(packages.map { String($0.split(separator: " ")[0]) })
        return all.filter(names.contains)
    }

    /// Where a package's `.apk` is among the fixtures.
    static func fixturePackage(_ name: String, architecture: String) -> URL {
        switch name {
        case "pretend-baselayout", "replayout": Fixtures.url("apko-testrepo/\(architecture)/\(name)-1.0.0-r0.apk")
        case "package-x", "package-y": Fixtures.url("apko-private-repo/\(architecture)/\(name)-1.0.0-r0.apk")
        case "alauda-baselayout": Fixtures.url("third-party/alauda-istio/\(architecture)/alauda-baselayout-20250620-r0.apk")
        default: Fixtures.url("local-melange-tzdata/\(architecture)/tzdata-2023c-r0.apk")
        }
    }

    /// Package files the config rewrites (the accounts go into `/etc/passwd` and `/etc/shadow`).
    var configurationEdits: Set<String> {
        self == .alaudaIstio ? ["etc/passwd", "etc/shadow"] : []
    }

    /// Files every image has (apko's base layout), then this image's own.
    var expectedFiles: [ExpectedFile] {
        var files = [
            ExpectedFile(path: "tmp", kind: .directory, mode: 0o1777),
            ExpectedFile(path: "proc", kind: .directory, mode: 0o555),
            ExpectedFile(path: "etc/apko.json", kind: .file, mode: 0o444),
            ExpectedFile(path: "etc/apk/world", kind: .file, mode: 0o644),
            ExpectedFile(path: "lib/apk", kind: .symlink("../usr/lib/apk"), mode: 0o777),
            ExpectedFile(path: "usr/lib/apk/db/installed", kind: .file, mode: 0o644),
            ExpectedFile(path: "usr/lib/apk/db/lock", kind: .file, mode: 0o600),
        ]
        switch self {
        case .apkoTestRepo:
            // Ownership as the package has it (apko would write 0:0).
            files.append(ExpectedFile(path: "etc/os-release", kind: .file, uid: 501, gid: 20, mode: 0o644))
        case .privateRepo:
            files += [
                ExpectedFile(path: "x", kind: .directory, uid: 501, gid: 20, mode: 0o755),
                ExpectedFile(path: "x/hello.txt", kind: .file, uid: 501, gid: 20, mode: 0o644),
                ExpectedFile(path: "y/hello.txt", kind: .file, uid: 501, gid: 20, mode: 0o644),
            ]
        case .alaudaIstio:
            files += [
                ExpectedFile(path: "etc/passwd", kind: .file, mode: 0o644),
                ExpectedFile(path: "etc/shadow", kind: .file, mode: 0o600),
                ExpectedFile(path: "app", kind: .directory, uid: 65532, gid: 65532, mode: 0o750),
                ExpectedFile(path: "home/nonroot", kind: .directory, uid: 65532, gid: 65532, mode: 0o700),
            ]
        case .melangeTzdata:
            files += [
                ExpectedFile(path: "usr/share/zoneinfo/Africa/Abidjan", kind: .file, mode: 0o644),
                ExpectedFile(path: "usr/share/zoneinfo/America/Indianapolis", kind: .symlink("Indiana/Indianapolis"), mode: 0o777),
                ExpectedFile(path: "usr/share/zoneinfo", kind: .directory, mode: 0o755),
            ]
        }
        return files
    }

    /// Lays out what the config needs in `scratch` and returns the config's path there.
    func prepare(in scratch: ScratchDirectory) throws -> String {
        let fixtures = Fixtures.root.path
        switch self {
        case .apkoTestRepo:
            // apko's internal/cli shape, so the fixture config loads byte for byte.
            try FileManager.default.createDirectory(atPath: scratch.path("testdata"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: scratch.path("testdata/packages"),
                                                       withDestinationPath: "\(fixtures)/apko-testrepo")
            try FileManager.default.createSymbolicLink(atPath: scratch.path("testdata/melange.rsa.pub"),
                                                       withDestinationPath: "\(fixtures)/apko-testrepo/melange.rsa.pub")
            try scratch.write("apko.yaml", try Fixtures.data("apko-testrepo/apko.yaml"))
        case .privateRepo:
            try scratch.write("apko.yaml", text: """
                contents:
                  keyring:
                    - \(fixtures)/apko-testrepo/melange.rsa.pub
                    - \(fixtures)/apko-private-repo/private_pkg_key.rsa.pub
                  repositories:
                    - \(fixtures)/apko-testrepo
                    - "@private \(fixtures)/apko-private-repo"
                  packages:
                    - package-y@private
                cmd: cat /y/hello.txt
                work-dir: /y
                annotations:
                  org.opencontainers.image.title: private-packages
                  org.opencontainers.image.vendor: distill-tests
                archs: [x86_64, aarch64]

                """)
        case .alaudaIstio:
            try scratch.write("apko.yaml", text: """
                contents:
                  keyring: [\(fixtures)/third-party/alauda-istio/melange.rsa.pub]
                  repositories: [\(fixtures)/third-party/alauda-istio]
                  packages: [alauda-baselayout]
                accounts:
                  groups:
                    - groupname: nonroot
                      gid: 65532
                  users:
                    - username: nonroot
                      uid: 65532
                      gid: 65532
                  run-as: nonroot
                paths:
                  - path: /app
                    type: directory
                    uid: 65532
                    gid: 65532
                    permissions: 0o750
                environment:
                  APP_MODE: test
                stop-signal: SIGTERM
                volumes: [/data]
                vcs-url: https://github.com/example/distill-acceptance@0123456789abcdef0123456789abcdef01234567
                archs: [x86_64, aarch64]

                """)
        case .melangeTzdata:
            // The fixture has packages but no index: index them with our own tools and a scratch key.
            try FileManager.default.createDirectory(atPath: scratch.path("keys"), withIntermediateDirectories: true)
            try DistillBinary.run(["keygen", scratch.path("keys/acceptance")], in: scratch)
            for architecture in Self.architectures {
                let directory = scratch.path("repo/\(architecture)")
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(
                    atPath: "\(directory)/tzdata-2023c-r0.apk",
                    withDestinationPath: "\(fixtures)/local-melange-tzdata/\(architecture)/tzdata-2023c-r0.apk")
                try DistillBinary.run(["index", "build", "--key", scratch.path("keys/acceptance.rsa"),
                                       "-o", "\(directory)/APKINDEX.tar.gz", "\(directory)/tzdata-2023c-r0.apk"], in: scratch)
            }
            try scratch.write("apko.yaml", text: """
                contents:
                  keyring: [\(scratch.path("keys/acceptance.rsa.pub"))]
                  repositories: [\(scratch.path("repo"))]
                  packages: [tzdata]
                environment:
                  TZ: Europe/Paris
                layering:
                  strategy: origin
                  budget: 2
                archs: [x86_64, aarch64]

                """)
        }
        return scratch.path("apko.yaml")
    }
}

/// Reading a built OCI layout with nothing but JSON.
typealias Layout = LayoutFiles

extension LayoutFiles {
    /// The index index.json points at (the layout's one image).
    func imageIndex() throws -> (digest: String, index: [String: Any]) {
        let top = try json("index.json")
        let entries = try #require(top["manifests"] as? [[String: Any]])
        let entry = try #require(entries.first)
        let digest = try #require(entry["digest"] as? String)
        return (digest, try blob(digest))
    }

    /// Platform manifests by OCI architecture (`amd64`, `arm64`).
    func manifests() throws -> [String: (digest: String, manifest: [String: Any])] {
        var result: [String: (String, [String: Any])] = [:]
        for entry in try #require(try imageIndex().index["manifests"] as? [[String: Any]]) {
            let platform = try #require(entry["platform"] as? [String: Any])
            let digest = try #require(entry["digest"] as? String)
            result[try #require(platform["architecture"] as? String)] = (digest, try blob(digest))
        }
        return result
    }

    /// Every regular file under the directory, relative path → bytes.
    func files() throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        let root = URL(fileURLWithPath: directory)
        let enumerator = try #require(FileManager.default.enumerator(atPath: directory))
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let url = root.appendingPathComponent(relative)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = [UInt8](try Data(contentsOf: url))
            }
        }
        return result
    }
}

/// The OCI name of an apk architecture.
func ociArchitecture(_ apk: String) -> String {
    apk == "x86_64" ? "amd64" : apk == "aarch64" ? "arm64" : apk
}

/// `lib/apk/db/installed` as package name → its files (`dir/name`) with their `Z:`.
func installedFiles(_ text: String) -> [String: [(path: String, checksum: String?)]] {
    var result: [String: [(path: String, checksum: String?)]] = [:]
    var name = ""
    var directory = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let value = String(line.dropFirst(2))
        switch line.prefix(2) {
        case "P:":
            name = value
            result[name] = []
        case "F:": directory = value
        case "R:": result[name, default: []].append((directory.isEmpty ? value : directory + "/" + value, nil))
        case "Z:":
            if var files = result[name], !files.isEmpty {
                files[files.count - 1].checksum = value
                result[name] = files
            }
        default: break
        }
    }
    return result
}

/// `Q1` + base64 SHA-1: the installed db's checksum spelling.
func q1(_ bytes: [UInt8]) -> String {
    "Q1" + DigestAlgorithm.sha1.hash(bytes).base64
}

func sha256(_ bytes: [UInt8]) -> String {
    DigestAlgorithm.sha256.hash(bytes).hex
}

/// `lstat` of a path: type bits, permission bits (with setuid/setgid/sticky) and owner.
func fileStatus(_ path: String) -> (type: mode_t, mode: UInt32, uid: UInt32, gid: UInt32)? {
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    return (status.st_mode & S_IFMT, UInt32(status.st_mode & 0o7777), status.st_uid, status.st_gid)
}
