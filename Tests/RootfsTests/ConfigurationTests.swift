import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

/// The layer's entries by name.
func layerEntries(_ rootfs: Rootfs, layer: Int = 0) throws -> [String: LayerEntry] {
    Dictionary(try LayerFiles.entries(try LayerFiles.bytes(rootfs, layer: layer)).map { ($0.entry.name, $0) },
               uniquingKeysWith: { first, _ in first })
}

func text(_ entry: LayerEntry?) -> String? {
    entry.map { String(decoding: $0.content, as: UTF8.self) }
}

@Suite("accounts")
struct AccountsTests {
    /// alauda-baselayout ships /etc/passwd without a final newline and /etc/shadow 0600: the
    /// configured users and groups are merged into them, a configured name that is already
    /// listed replaces its line, and home directories are made for the configured users only.
    @Test func mergedIntoWhatThePackageShips() throws {
        let scratch = try ScratchDirectory()
        let packages = try FixturePackages.fromRepository("third-party/alauda-istio", arch: "x86_64", key: "melange.rsa.pub",
                                                          names: ["alauda-baselayout"], scratch: scratch)
        let shippedPasswd = String(decoding: try #require(try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: packages))
            .contents(of: "etc/passwd")), as: UTF8.self)
        #expect(!shippedPasswd.hasSuffix("\n"))

        let accounts = Accounts(
            users: [UserAccount(name: "app", uid: 65532, gid: 65532, home: "/home/app"),
                    UserAccount(name: "ftp", uid: 2100, gid: 2100, shell: "/sbin/nologin", home: "/var/lib/ftp")],
            groups: [GroupAccount(name: "app", gid: 65532, members: ["app", "ftp"])])
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: packages, accounts: accounts))
        let entries = try layerEntries(rootfs)

        var expectedPasswd = shippedPasswd.split(separator: "\n").map(String.init)
        let ftp = try #require(expectedPasswd.firstIndex { $0.hasPrefix("ftp:") })
        expectedPasswd[ftp] = "ftp:x:2100:2100:Account created by apko:/var/lib/ftp:/sbin/nologin"
        expectedPasswd.append("app:x:65532:65532:Account created by apko:/home/app:/bin/sh")
        #expect(text(entries["etc/passwd"]) == expectedPasswd.map { $0 + "\n" }.joined())
        #expect(text(entries["etc/group"]) == "app:x:65532:app,ftp\n")
        let shadow = try #require(text(entries["etc/shadow"]))
        #expect(shadow.hasSuffix("app:!:::::::\n"))
        #expect(shadow.contains("ftp:!:::::::\n"))
        #expect(entries["etc/shadow"]?.entry.mode == 0o600, "the package's mode is kept")

        let home = try #require(entries["home/app"]?.entry)
        #expect(home.kind == .directory && home.mode == 0o700 && home.uid == 65532 && home.gid == 65532)
        #expect(home.userName == "app" && home.groupName == "app", "names come from the image's own passwd and group")
        #expect(entries["home"]?.entry.mode == 0o755)
        #expect(entries["var/lib/ftp"] != nil)
        // Users the package ships get no home directories made for them.
        #expect(entries["var/spool/lpd"] == nil && entries["root"] == nil)
        // The changed files are the image's now; the package's record keeps what it shipped.
        let record = try #require(rootfs.manifest.packages.first).files
        #expect(record.contains("etc/passwd") && record.contains("etc/shadow"))
    }

    @Test func withoutPackagesOrAccountsPasswdIsEmpty() throws {
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: []))
        let entries = try layerEntries(rootfs)
        #expect(entries["etc/passwd"]?.content == [])
        #expect(entries["etc/group"] == nil && entries["etc/shadow"] == nil)
    }

    @Test(arguments: ["bad:name", "bad\nname", ""])
    func fieldsThatWouldForgeLinesAreRefused(_ name: String) throws {
        let request = RootfsRequest(architecture: "x86_64", packages: [],
                                    accounts: Accounts(users: [UserAccount(name: name, uid: 1000, gid: 1000, home: "/home/x")]))
        let error = #expect(throws: RootfsError.self) { try Rootfs.compose(request) }
        #expect(error?.kind == .invalidInput)
    }
}

@Suite("paths mutations")
struct PathMutationsTests {
    func base(_ scratch: ScratchDirectory) throws -> RootfsPackage {
        try Synthetic.package("base", items: [
            .directory("etc"), .file("etc/hosts", "127.0.0.1 localhost\n"),
            .directory("var"), .directory("var/www"), .directory("var/www/html"), .file("var/www/html/index.html", "hi", mode: 0o644),
            .file("var/www/run.sh", "#!/bin/sh", mode: 0o755), .symlink("var/www/link", to: "../../etc/hosts"),
        ], scratch: scratch)
    }

    @Test func everyMutationType() throws {
        let scratch = try ScratchDirectory()
        let paths = [
            PathMutation(path: "/srv/data/", kind: .directory),
            PathMutation(path: "srv/owned", kind: .directory, uid: 1000),
            PathMutation(path: "/var/www", kind: .directory, uid: 33, gid: 33, permissions: 0o2770, recursive: true),
            PathMutation(path: "/etc/marker", kind: .emptyFile),
            PathMutation(path: "/etc/secret", kind: .emptyFile, permissions: 0o600),
            PathMutation(path: "/etc/hosts", kind: .emptyFile, permissions: 0o640),
            PathMutation(path: "/usr/bin/sh", kind: .symlink, source: "/bin/busybox"),
            PathMutation(path: "/etc/hosts.copy", kind: .hardlink, uid: 7, gid: 7, source: "/etc/hosts"),
            PathMutation(path: "var/www/run.sh", kind: .permissions, permissions: 0o4750),
        ]
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [try base(scratch)], paths: paths))
        let entries = try layerEntries(rootfs)
        func entry(_ path: String) throws -> TarEntry { try #require(entries[path]?.entry, "\(path) is missing") }

        // Sane defaults instead of apko's 0000; one of uid/gid sets the other to 0.
        #expect(try entry("srv").mode == 0o755 && entry("srv/data").mode == 0o755)
        #expect(try entry("srv/owned").uid == 1000 && entry("srv/owned").gid == 0)
        // Recursive: files and directories, never the symlink.
        for path in ["var/www", "var/www/html", "var/www/html/index.html"] {
            #expect(try entry(path).mode == 0o2770 && entry(path).uid == 33 && entry(path).gid == 33, "\(path)")
        }
        #expect(try entry("var/www/link").kind == .symbolicLink && entry("var/www/link").uid == 0)
        // A later `permissions` on a file the recursion already changed.
        #expect(try entry("var/www/run.sh").mode == 0o4750 && entry("var/www/run.sh").uid == 33)
        #expect(try entry("etc/marker").mode == 0o644 && entry("etc/marker").size == 0)
        #expect(try entry("etc/secret").mode == 0o600)
        // empty-file truncates an existing file; the hard link shares it, and its owner change
        // reaches both names (one inode).
        #expect(entries["etc/hosts"]?.content == [])
        let hosts = try entry("etc/hosts")
        let copy = try entry("etc/hosts.copy")
        #expect(hosts.kind == .regular && hosts.mode == 0o640 && hosts.uid == 7)
        #expect(copy.kind == .hardLink && copy.linkName == "etc/hosts")
        #expect(try entry("usr/bin/sh").kind == .symbolicLink && entry("usr/bin/sh").linkName == "/bin/busybox")
        #expect(try entry("usr").mode == 0o755 && entry("usr/bin").mode == 0o755)
        // The installed db still describes the package as shipped.
        let database = String(decoding: try #require(try rootfs.contents(of: "lib/apk/db/installed")), as: UTF8.self)
        #expect(database.contains("F:var/www\nR:run.sh\na:0:0:755\n"))
    }

    struct Refusal: Sendable, CustomStringConvertible {
        var mutation: PathMutation
        var kind: RootfsError.Kind
        var description: String { "\(mutation.kind.rawValue) \(mutation.path)" }
    }

    @Test(arguments: [
        Refusal(mutation: PathMutation(path: "/etc/../../x", kind: .directory), kind: .unsafePath),
        Refusal(mutation: PathMutation(path: "/", kind: .directory), kind: .unsafePath),
        Refusal(mutation: PathMutation(path: "/nothing/here", kind: .permissions, permissions: 0o700), kind: .invalidInput),
        Refusal(mutation: PathMutation(path: "/etc/hosts", kind: .symlink, source: "/x"), kind: .typeConflict),
        Refusal(mutation: PathMutation(path: "/etc/link", kind: .hardlink, source: "/etc"), kind: .typeConflict),
        Refusal(mutation: PathMutation(path: "/etc/link", kind: .hardlink), kind: .invalidInput),
        Refusal(mutation: PathMutation(path: "/var/www/link/x", kind: .emptyFile), kind: .typeConflict),
    ])
    func refused(_ refusal: Refusal) throws {
        let scratch = try ScratchDirectory()
        let request = RootfsRequest(architecture: "x86_64", packages: [try base(scratch)], paths: [refusal.mutation])
        let error = #expect(throws: RootfsError.self) { try Rootfs.compose(request) }
        #expect(error?.kind == refusal.kind, "\(String(describing: error))")
    }
}

@Suite("s6 services and busybox links")
struct ServicesAndBusyboxTests {
    @Test func serviceBundle() throws {
        let services = [Service(name: "worker", command: "/usr/bin/worker --queue jobs"), Service(name: "web", command: "nginx -g daemon off;")]
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [], services: services))
        let entries = try layerEntries(rootfs)
        #expect(text(entries["sv/web/run"]) == "#!/bin/execlineb\nnginx -g daemon off;\n")
        #expect(text(entries["sv/worker/run"]) == "#!/bin/execlineb\n/usr/bin/worker --queue jobs\n")
        #expect(entries["sv/web/run"]?.entry.mode == 0o755)
        #expect(entries["sv"]?.entry.mode == 0o755 && entries["sv/web"]?.entry.mode == 0o755)
        let error = #expect(throws: RootfsError.self) {
            try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [], services: [Service(name: "../x", command: "x")]))
        }
        #expect(error?.kind == .invalidInput)
    }

    /// Links from `/etc/busybox-paths.d` point at `/bin/busybox`; paths a package already owns
    /// (and busybox itself) are left alone.
    @Test func linksFromPathsList() throws {
        let scratch = try ScratchDirectory()
        let busybox = try Synthetic.package("busybox", items: [
            .directory("bin"), .file("bin/busybox", "\u{7f}ELF busybox", mode: 0o755),
            .directory("etc"), .directory("etc/busybox-paths.d"),
            .file("etc/busybox-paths.d/busybox", "bin/sh\n/usr/bin/env\n# comment\n\nsbin/ip\r\nbin/busybox\n"),
        ], scratch: scratch)
        let coreutils = try Synthetic.package("coreutils", items: [.directory("usr"), .directory("usr/bin"), .file("usr/bin/env", "env")],
                                              scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [busybox, coreutils]))
        let entries = try layerEntries(rootfs)
        for link in ["bin/sh", "sbin/ip"] {
            #expect(entries[link]?.entry.kind == .symbolicLink && entries[link]?.entry.linkName == "/bin/busybox", "\(link)")
        }
        #expect(entries["sbin"]?.entry.mode == 0o755)
        #expect(entries["usr/bin/env"]?.entry.kind == .regular)
        #expect(entries["bin/busybox"]?.entry.kind == .regular)
    }

    @Test func noPathsListNoLinks() throws {
        let scratch = try ScratchDirectory()
        let busybox = try Synthetic.package("busybox", items: [.directory("bin"), .file("bin/busybox", "busybox", mode: 0o755)],
                                            scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [busybox]))
        #expect(try layerEntries(rootfs).values.filter { $0.entry.linkName == "/bin/busybox" }.isEmpty)
    }
}
