import APK
import Archive
import DistillCrypto
import Foundation
import Rootfs
import TestSupport
import Testing

/// A two-package conflict case: who ships `etc/x`, and what the image must end up with.
struct ConflictCase: Sendable, CustomStringConvertible {
    var name: String
    var firstOrigin: String
    var secondOrigin: String
    var firstReplaces: [String] = []
    var firstPriority: Int? = nil
    var secondReplaces: [String] = []
    var secondContent = "second\n"
    /// The content of etc/x afterwards, or nil when composing must fail.
    var winner: String?
    /// Which package's record lists etc/x afterwards.
    var owner: String?

    var description: String { name }

    static let all: [ConflictCase] = [
        ConflictCase(name: "no replaces: error naming both", firstOrigin: "a", secondOrigin: "b", winner: nil, owner: nil),
        ConflictCase(name: "new package replaces the owner", firstOrigin: "a", secondOrigin: "b",
                     secondReplaces: ["first"], winner: "second\n", owner: "second"),
        ConflictCase(name: "replaces with a version it does not accept", firstOrigin: "a", secondOrigin: "b",
                     secondReplaces: ["first<1.0"], winner: nil, owner: nil),
        ConflictCase(name: "owner replaces the new package with priority", firstOrigin: "a", secondOrigin: "b",
                     firstReplaces: ["second"], firstPriority: 10, secondReplaces: ["first"], winner: "first\n", owner: "first"),
        ConflictCase(name: "owner replaces the new package", firstOrigin: "a", secondOrigin: "b",
                     firstReplaces: ["second"], winner: "first\n", owner: "first"),
        ConflictCase(name: "same origin: later wins", firstOrigin: "src", secondOrigin: "src", winner: "second\n", owner: "second"),
        ConflictCase(name: "identical content: the first keeps it", firstOrigin: "a", secondOrigin: "b",
                     secondContent: "first\n", winner: "first\n", owner: "first"),
    ]
}

@Suite("apk's install rules")
struct InstallRulesTests {
    @Test(arguments: ConflictCase.all)
    func fileConflicts(_ rule: ConflictCase) throws {
        let scratch = try ScratchDirectory()
        let first = try Synthetic.package("first", origin: rule.firstOrigin, replaces: rule.firstReplaces,
                                          replacesPriority: rule.firstPriority,
                                          items: [.directory("etc"), .file("etc/x", "first\n"), .file("etc/only-first", "1")],
                                          scratch: scratch)
        let second = try Synthetic.package("second", origin: rule.secondOrigin, replaces: rule.secondReplaces,
                                           items: [.directory("etc"), .file("etc/x", rule.secondContent)], scratch: scratch)
        let request = RootfsRequest(architecture: "x86_64", packages: [first, second])
        guard let winner = rule.winner else {
            let error = #expect(throws: RootfsError.self) { try Rootfs.compose(request) }
            #expect(error?.kind == .fileConflict)
            #expect(error?.packages == ["second-1.0-r0", "first-1.0-r0"])
            #expect(error?.path == "etc/x")
            #expect(error?.description == "second-1.0-r0: trying to overwrite etc/x owned by first-1.0-r0")
            return
        }
        let rootfs = try Rootfs.compose(request)
        #expect(try rootfs.contents(of: "etc/x") == Array(winner.utf8))
        for package in rootfs.manifest.packages {
            #expect(package.files.contains("etc/x") == (package.info.name == rule.owner), "\(package.info.name)")
        }
        #expect(rootfs.manifest.packages[0].files.contains("etc/only-first"))
        // The installed db says the same, and its Z: is the content that won.
        let database = InstalledDatabaseText(String(decoding: try #require(try rootfs.contents(of: "lib/apk/db/installed")), as: UTF8.self))
        let record = try #require(database.records.first { $0.name == rule.owner })
        #expect(record.files.first { $0.path == "etc/x" }?.checksum == q1(Array(winner.utf8)))
    }

    @Test(arguments: ["/etc", "../../", "../../../etc"])
    func symlinkOutOfTheRootIsNotFollowed(_ target: String) throws {
        let scratch = try ScratchDirectory()
        let evil = try Synthetic.package("evil", items: [.symlink("evil", to: target), .directory("evil"),
                                                          .file("evil/passwd", "root::0:0::/:/bin/sh\n")], scratch: scratch)
        let error = #expect(throws: RootfsError.self) { try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [evil])) }
        #expect(error?.kind == .unsafePath)
        #expect(error?.packages == ["evil-1.0-r0"])
        #expect(error?.description.contains("'evil'") == true)
    }

    @Test func fileInsideAnEscapingSymlinkDirectoryIsRefused() throws {
        // The directory entry is accepted only when the link leads to a directory inside the root.
        let scratch = try ScratchDirectory()
        let evil = try Synthetic.package("evil", items: [.directory("etc"), .symlink("etc/escape", to: "../../.."),
                                                          .directory("etc/escape"), .file("etc/escape/x", "x")], scratch: scratch)
        let error = #expect(throws: RootfsError.self) { try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [evil])) }
        #expect(error?.kind == .unsafePath)
        #expect(error?.description == "evil-1.0-r0: directory 'etc/escape' climbs above the root")
    }

    @Test func hardLinkToAnotherPackagesFileIsRefused() throws {
        let scratch = try ScratchDirectory()
        let owner = try Synthetic.package("owner", items: [.directory("etc"), .file("etc/shadow", "secret", mode: 0o600)], scratch: scratch)
        let thief = try Synthetic.package("thief", items: [.directory("etc"), .hardlink("etc/copy", to: "etc/shadow")], scratch: scratch)
        let error = #expect(throws: RootfsError.self) {
            try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [owner, thief]))
        }
        #expect(error?.kind == .hardLinkTarget)
        #expect(error?.description == "thief-1.0-r0: 'etc/copy': no hard link target ('etc/shadow') in archive")
    }

    @Test func fileWithoutItsDirectoryEntryIsRefused() throws {
        let scratch = try ScratchDirectory()
        let package = try Synthetic.package("nodir", items: [.directory("usr"), .file("usr/bin/x", "x")], scratch: scratch)
        let error = #expect(throws: RootfsError.self) { try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [package])) }
        #expect(error?.kind == .missingDirectory)
        #expect(error?.description == "nodir-1.0-r0: 'usr/bin/x': no dirent in archive")
    }

    @Test func usrMergeThroughAnInRootSymlink() throws {
        let scratch = try ScratchDirectory()
        let layout = try Synthetic.package("layout", items: [.directory("usr"), .directory("usr/lib"), .symlink("lib", to: "usr/lib")],
                                           scratch: scratch)
        let library = try Synthetic.package("library", items: [.directory("lib"), .file("lib/libfoo.so.1", "elf"), .file("top", "t")],
                                            scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [layout, library]))
        let names = try LayerFiles.entries(try LayerFiles.bytes(rootfs)).map(\.entry)
        #expect(names.contains { $0.name == "usr/lib/libfoo.so.1" && $0.kind == .regular })
        #expect(names.contains { $0.name == "lib" && $0.kind == .symbolicLink && $0.linkName == "usr/lib" })
        #expect(!names.contains { $0.name.hasPrefix("lib/") })
        // The db keeps the package's spelling; the top-level file is in the root directory record.
        #expect(rootfs.manifest.packages[1].files == ["lib/libfoo.so.1", "top"])
        #expect(rootfs.manifest.packages[1].directories == ["lib", ""])
        let database = String(decoding: try #require(try rootfs.contents(of: "lib/apk/db/installed")), as: UTF8.self)
        #expect(database.contains("F:lib\nR:libfoo.so.1\nZ:\(q1(Array("elf".utf8)))\nF:\nR:top\n"))
    }

    @Test func doubledSlashesAreThePlainPath() throws {
        let scratch = try ScratchDirectory()
        let package = try Synthetic.package("slashes", items: [.directory("opt/"), .directory("opt//sub/"), .file("opt//sub//x", "x"),
                                                              .hardlink("opt/sub/y", to: "opt//sub//x")], scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [package]))
        #expect(rootfs.manifest.packages[0].files == ["opt/sub/x", "opt/sub/y"])
        #expect(rootfs.manifest.packages[0].directories == ["opt", "opt/sub"])
        #expect(try rootfs.contents(of: "opt/sub/y") == Array("x".utf8))
    }

    @Test func fileReplacesASymlinkInsteadOfWritingThroughIt() throws {
        let scratch = try ScratchDirectory()
        let first = try Synthetic.package("first", items: [.directory("etc"), .file("etc/passwd", "orig\n"), .symlink("etc/link", to: "passwd")],
                                          scratch: scratch)
        let second = try Synthetic.package("second", replaces: ["first"], items: [.directory("etc"), .file("etc/link", "new\n")],
                                           scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [first, second]))
        #expect(try rootfs.contents(of: "etc/passwd") == Array("orig\n".utf8))
        let link = try #require(try LayerFiles.entries(try LayerFiles.bytes(rootfs)).first { $0.entry.name == "etc/link" })
        #expect(link.entry.kind == .regular && link.content == Array("new\n".utf8))
        #expect(rootfs.manifest.packages[0].files == ["etc/passwd"])
    }

    /// Devices, fifos, setuid/setgid/sticky bits, owners and xattrs are data in the tree: they
    /// reach the layer as the package has them, and GNU tar recreates them when it extracts the
    /// layer as root. The installed db records them as apk does.
    @Test func specialFilesAreKeptAsData() throws {
        let scratch = try ScratchDirectory()
        let xattrs: [String: [UInt8]] = ["user.distill": Array("yes".utf8), "user.a": [0, 1, 2]]
        let package = try Synthetic.package("special", items: [
            .directory("dev"), .device("dev/sda", block: true, major: 8, minor: 0), .device("dev/tty9", major: 4, minor: 9, mode: 0o620),
            .fifo("dev/initctl"),
            .directory("usr"), .directory("usr/bin"), .file("usr/bin/su", "su", mode: 0o4755),
            .file("usr/bin/wall", "wall", mode: 0o2755, gid: 5), .file("usr/bin/tagged", "t", xattrs: xattrs),
            .directory("srv", mode: 0o2775, uid: 1000, gid: 1000), .directory("var"), .directory("var/tmp", mode: 0o1777),
        ], scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [package]))
        let layer = try LayerFiles.write(rootfs, to: "layer.tar", in: scratch)
        let entries = try LayerFiles.entries(try LayerFiles.bytes(rootfs))
        func entry(_ path: String) throws -> TarEntry { try #require(entries.first { $0.entry.name == path }?.entry) }
        #expect(try entry("dev/sda").kind == .blockDevice && entry("dev/sda").deviceMajor == 8)
        #expect(try entry("dev/tty9").kind == .characterDevice && entry("dev/tty9").mode == 0o620)
        #expect(try entry("dev/initctl").kind == .fifo)
        #expect(try entry("usr/bin/su").mode == 0o4755)
        #expect(try entry("usr/bin/wall").mode == 0o2755 && entry("usr/bin/wall").gid == 5)
        #expect(try entry("srv").mode == 0o2775 && entry("srv").uid == 1000)
        #expect(try entry("var/tmp").mode == 0o1777)
        #expect(try entry("usr/bin/tagged").extendedAttributes == xattrs)

        try FileManager.default.createDirectory(atPath: scratch.path("root"), withIntermediateDirectories: true)
        try ExternalTool.run("tar", ["-xpf", layer, "-C", "root", "--numeric-owner", "--xattrs", "--xattrs-include=*"], in: scratch)
        let root = scratch.path("root")
        let manager = FileManager.default
        #expect(try manager.attributesOfItem(atPath: root + "/dev/sda")[.type] as? FileAttributeType == .typeBlockSpecial)
        #expect(try manager.attributesOfItem(atPath: root + "/dev/tty9")[.type] as? FileAttributeType == .typeCharacterSpecial)
        #expect(try manager.attributesOfItem(atPath: root + "/usr/bin/su")[.posixPermissions] as? Int == 0o4755)
        #expect(try manager.attributesOfItem(atPath: root + "/usr/bin/wall")[.posixPermissions] as? Int == 0o2755)
        #expect(try manager.attributesOfItem(atPath: root + "/usr/bin/wall")[.groupOwnerAccountID] as? Int == 5)
        #expect(try manager.attributesOfItem(atPath: root + "/srv")[.posixPermissions] as? Int == 0o2775)
        #expect(try manager.attributesOfItem(atPath: root + "/srv")[.ownerAccountID] as? Int == 1000)
        #expect(try manager.attributesOfItem(atPath: root + "/var/tmp")[.posixPermissions] as? Int == 0o1777)
        let attribute = try ExternalTool.run("python3", ["-c", "import os,sys; sys.stdout.write(os.getxattr('root/usr/bin/tagged','user.distill').decode())"],
                                             in: scratch)
        #expect(attribute.text == "yes")

        // apk's record: modes in octal without leading zeros, the xattr checksum after the mode,
        // no Z: for devices and fifos — for which apk-tools marks the package `f:f`.
        let database = String(decoding: try #require(try rootfs.contents(of: Layout.installed)), as: UTF8.self)
        var xattrHash = DigestHasher(.sha1)
        for name in ["user.a", "user.distill"] {
            let value = xattrs[name]!
            xattrHash.update([0, 0, 0, UInt8(name.utf8.count)] + Array(name.utf8) + [0, 0, 0, UInt8(value.count)] + value)
        }
        #expect(database.contains("f:f\n"))
        #expect(database.contains("F:dev\nR:sda\na:0:0:660\nR:tty9\na:0:0:620\nR:initctl\na:0:0:600\n"))
        #expect(database.contains("R:su\na:0:0:4755\nZ:\(q1(Array("su".utf8)))\n"))
        #expect(database.contains("R:wall\na:0:5:2755\n"))
        #expect(database.contains("R:tagged\na:0:0:644:Q1\(xattrHash.finalize().base64)\nZ:"))
        #expect(database.contains("F:srv\nM:1000:1000:2775\n"))
        #expect(database.contains("F:var/tmp\nM:0:0:1777\n"))
    }
}

/// Where the installed db is, for tests that read it straight from the rootfs.
enum Layout {
    static let installed = "usr/lib/apk/db/installed"
}

@Suite("installed database format")
struct InstalledDatabaseFormatTests {
    /// Every header field apk-tools 2.14 writes, in its order (`C P V A S I T U L o m t c k D p i`,
    /// then `r q s f`), records sorted by name whatever the install order, and a virtual
    /// (`I:0`) package recorded without files or scripts.
    @Test func recordsInApkToolsOrder() throws {
        let scratch = try ScratchDirectory()
        let full = try Synthetic.package("zz-full", items: [.directory("etc"), .file("etc/full.conf", "full\n")], scratch: scratch) { info in
            info.maintainer = "Jane Doe <jane@example.invalid>"
            info.commit = "0123456789abcdef"
            info.providerPriority = 10
            info.depends = [try Dependency(parsing: "so:libc.musl-x86_64.so.1"), try Dependency(parsing: "base>=1.0")]
            info.provides = [try Dependency(parsing: "cmd:full=1.0-r0"), try Dependency(parsing: "full-virtual")]
            info.installIf = [try Dependency(parsing: "base=1.0-r0"), try Dependency(parsing: "docs")]
            info.replaces = [try Dependency(parsing: "old-full")]
            info.replacesPriority = 5
        }
        var tagged = full
        tagged.repositoryTag = "testing"
        let virtual = try Synthetic.package("virtual", installedSize: 0,
                                            scripts: [APKFile.Script(kind: .postInstall, content: Array("#!/bin/sh\n".utf8))],
                                            items: [.directory("etc"), .file("etc/never", "x")], scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [tagged, virtual]))
        let database = String(decoding: try #require(try rootfs.contents(of: Layout.installed)), as: UTF8.self)
        let info = tagged.info
        #expect(database == """
            C:\(virtual.info.checksum!)
            P:virtual
            V:1.0-r0
            A:x86_64
            S:\(virtual.info.fileSize!)
            I:0
            T:virtual test package
            U:https://example.invalid/
            L:MIT
            o:virtual
            t:1700000000

            C:\(info.checksum!)
            P:zz-full
            V:1.0-r0
            A:x86_64
            S:\(info.fileSize!)
            I:5
            T:zz-full test package
            U:https://example.invalid/
            L:MIT
            o:zz-full
            m:Jane Doe <jane@example.invalid>
            t:1700000000
            c:0123456789abcdef
            k:10
            D:so:libc.musl-x86_64.so.1 base>=1.0
            p:cmd:full=1.0-r0 full-virtual
            i:base=1.0-r0 docs
            r:old-full
            q:5
            s:testing
            F:etc
            R:full.conf
            Z:\(q1(Array("full\n".utf8)))


            """)
        #expect(try rootfs.contents(of: "etc/never") == nil)
        #expect(try rootfs.contents(of: "lib/apk/db/scripts.tar") == [UInt8](repeating: 0, count: 1024))
    }
}
