import APK
import Archive
import DistillCrypto
import Foundation
import TestSupport
import Testing

/// What a case runs: the `distill` arguments (in the workspace) and the cache names the hostile
/// object would be stored under, which must not exist afterwards.
struct Invocation {
    var arguments: [String]
    var hostileCacheNames: [String] = []
    /// Whether the build output must be absent afterwards (not for `push`, whose input it is).
    var outputMustBeAbsent = true
}

/// How a case must end.
enum Outcome: Sendable {
    /// Exit status 1, with this fragment in the one-line error.
    case fails(String)
    /// The build succeeds; the closure checks what it wrote.
    case succeeds(@Sendable (AttackWorkspace) throws -> Void)
}

/// One row of the attack table.
struct AttackCase: Sendable, CustomStringConvertible {
    /// A short, unique name.
    var name: String
    /// The hostile input, in a few words.
    var attack: String
    var outcome: Outcome
    var prepare: @Sendable (AttackWorkspace) throws -> Invocation

    var description: String { name }
}

/// The packages most cases start from.
enum Benign {
    static func app(name: String = "app", extra: [DataItem] = []) throws -> CraftedPackage {
        try Craft.package(name: name, items: Craft.skeleton + [.file("usr/share/\(name).txt", "\(name)\n")] + extra)
    }

    /// A repository holding `packages` with a correct signed index, and a config installing the first.
    static func repository(_ workspace: AttackWorkspace, _ packages: [CraftedPackage]) throws {
        try workspace.publish(packages)
        try workspace.config(packages: [packages[0].name])
    }
}

/// The cases. Every failure names what is wrong and where (the repository, package or file).
enum AttackTable {
    static let all: [AttackCase] = signatures + archives + bombs + names + links + config + resolution + http + registry

    // MARK: Signatures, keys, identities

    static let signatures: [AttackCase] = [
        AttackCase(name: "index-content-tampered", attack: "APKINDEX text changed after signing",
                   outcome: .fails("BAD signature")) { w in
            let app = try Benign.app()
            var record = try app.record()
            let signedBody = try APKIndexWriter.unsignedArchive(packages: [record], description: "attack", modificationTime: 0)
            record.description = "tampered"
            let tamperedBody = try APKIndexWriter.unsignedArchive(packages: [record], description: "attack", modificationTime: 0)
            try w.publish([app])
            try w.writeIndex(try Craft.signatureMember(over: signedBody, key: AttackKeys.trusted) + tamperedBody)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-signature-tampered", attack: "one bit of the index signature flipped",
                   outcome: .fails("BAD signature")) { w in
            let app = try Benign.app()
            let body = try APKIndexWriter.unsignedArchive(packages: [try app.record()], description: "attack", modificationTime: 0)
            var signature = try AttackKeys.trusted.signature(for: body, algorithm: .rsaSHA1)
            signature[signature.count / 2] ^= 0x01
            let member = try Craft.gzip(try Craft.tar([.bytes(AttackKeys.trusted.entryName(.rsaSHA1), signature)], ending: .cut))
            try w.publish([app])
            try w.writeIndex(member + body)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-unknown-key", attack: "index signed by a key that is not in the keyring",
                   outcome: .fails("signed with stranger.rsa.pub, which is not in the keyring")) { w in
            let app = try Benign.app()
            try w.publish([app], indexKey: AttackKeys.stranger)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-wrong-key", attack: "index signed by another key under the trusted key's name",
                   outcome: .fails("BAD signature")) { w in
            let app = try Benign.app()
            try w.publish([app], indexKey: AttackKeys.impostor)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-unsigned", attack: "index without a signature member",
                   outcome: .fails("is not signed")) { w in
            let app = try Benign.app()
            try w.publish([app], indexKey: nil)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "keyring-missing-key", attack: "the configured key file does not exist",
                   outcome: .fails("missing.rsa.pub: the key file does not exist")) { w in
            try Benign.repository(w, [try Benign.app()])
            try w.config(packages: ["app"], keyring: [w.scratch.path("keys/missing.rsa.pub")])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "keyring-not-a-key", attack: "the configured key file holds garbage",
                   outcome: .fails("garbage.rsa.pub: not a PEM public key")) { w in
            try Benign.repository(w, [try Benign.app()])
            try w.scratch.write("keys/garbage.rsa.pub", text: "-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")
            try w.config(packages: ["app"], keyring: [w.scratch.path("keys/garbage.rsa.pub")])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "keyring-empty", attack: "no key configured at all: the signed index is not trusted",
                   outcome: .fails("is signed with attack.rsa.pub, which is not in the keyring (the keyring is empty)")) { w in
            let app = try Benign.app()
            try Benign.repository(w, [app])
            try w.config(packages: ["app"], keyring: [])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "control-tampered", attack: ".PKGINFO changed (and recompressed) after indexing",
                   outcome: .fails("is not the package its index names")) { w in
            let app = try Benign.app()
            let evil = try Craft.package(name: "app", items: Craft.skeleton + [.file("usr/share/app.txt", "app\n")],
                                         pkginfoExtra: "install_if = busybox\n")
            try w.publish([app])
            try w.writePackage(app, bytes: app.signatureMember + evil.controlMember + app.dataMembers.flatMap { $0 })
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName, evil.cacheName])
        },
        AttackCase(name: "data-tampered", attack: "data section replaced by another valid gzip member",
                   outcome: .fails("is damaged")) { w in
            let app = try Benign.app()
            let evilData = try Craft.gzip(try Craft.tar(Craft.skeleton + [.file("usr/share/app.txt", "evil\n")], ending: .endBlocks))
            try w.publish([app])
            try w.writePackage(app, bytes: app.signatureMember + app.controlMember + evilData)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "package-signature-member-garbage", attack: "the package's signature member replaced by garbage",
                   outcome: .fails("app-1.0-r0.apk: app-1.0-r0 from ")) { w in
            let app = try Benign.app()
            try w.publish([app])
            try w.writePackage(app, bytes: Array("this is not gzip".utf8) + app.controlMember + app.dataMembers.flatMap { $0 })
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-checksum-mismatch", attack: "trusted index lists a C: that the served package does not have",
                   outcome: .fails("is not the package its index names")) { w in
            let listed = try Benign.app()
            let served = try Craft.package(name: "app", items: Craft.skeleton + [.file("usr/share/app.txt", "backdoor\n")])
            try w.publish([served], records: [try listed.record()])
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [listed.cacheName, served.cacheName])
        },
    ]

    // MARK: Archive framing

    static let archives: [AttackCase] = [
        AttackCase(name: "package-truncated-gzip", attack: "package cut off inside its data member",
                   outcome: .fails("input ends inside the deflate data")) { w in
            let app = try Benign.app()
            try w.publish([app])
            try w.writePackage(app, bytes: Array(app.bytes.dropLast(40)))
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-truncated-gzip", attack: "APKINDEX.tar.gz cut off inside its last member",
                   outcome: .fails("APKINDEX.tar.gz: input ends inside the deflate data")) { w in
            let app = try Benign.app()
            try w.publish([app])
            try w.writeIndex(Array(try Craft.index([try app.record()]).dropLast(30)))
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "package-trailing-garbage", attack: "bytes after the package's last gzip member",
                   outcome: .fails("unexpected bytes after gzip member 2")) { w in
            let app = try Benign.app()
            try w.publish([app])
            try w.writePackage(app, bytes: app.bytes + Array("GARBAGE AFTER THE LAST MEMBER".utf8))
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "index-trailing-garbage", attack: "bytes after the index's last gzip member",
                   outcome: .fails("APKINDEX.tar.gz: unexpected bytes after gzip member 1")) { w in
            let app = try Benign.app()
            try w.publish([app])
            try w.writeIndex(try Craft.index([try app.record()]) + Array("GARBAGE".utf8))
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "control-oversized", attack: "an 11 MiB install script in the control section (limit 10 MiB)",
                   outcome: .fails("content of '.post-install' is 11534336 bytes, over the 10485760-byte limit")) { w in
            var random = SystemRandomNumberGenerator()
            let script = (0..<(11 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let app = try Craft.package(name: "app", items: Craft.skeleton,
                                        controlExtra: [.bytes(".post-install", script, mode: 0o755)])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "pkginfo-10MB-line", attack: "a .PKGINFO whose pkgdesc line is 10 MB long",
                   outcome: .fails(".PKGINFO line")) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton,
                                        pkginfoExtra: "pkgdesc = " + String(repeating: "A", count: 10_000_000) + "\n")
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
    ]

    // MARK: Bombs

    static let bombs: [AttackCase] = [
        AttackCase(name: "gzip-bomb-control", attack: "control member inflating to 1 GiB of zeros in 128 entries of 8 MiB (default 10 MiB cap)",
                   outcome: .fails("control sections decompress to more than 10485760 bytes")) { w in
            let control = MemorySink()
            let gzip = try GzipWriter(sink: control, level: 9)
            let tar = TarWriter(sink: gzip)
            let pkginfo = Array("pkgname = app\npkgver = 1.0-r0\narch = x86_64\nsize = 1\n".utf8)
            try tar.append(TarEntry(name: ".PKGINFO", size: Int64(pkginfo.count)), content: pkginfo)
            // Each entry is under the per-entry cap; together they are far over the section's.
            for number in 0..<128 {
                try tar.append(TarEntry(name: ".padding\(number)", size: 8 << 20), content: ZeroSource(count: 8 << 20))
            }
            try tar.finish(.cut)
            try gzip.finish()
            let data = try Craft.gzip(try Craft.tar(Craft.skeleton, ending: .endBlocks))
            let app = CraftedPackage(name: "app", version: "1.0-r0",
                                     signatureMember: try Craft.signatureMember(over: control.bytes, key: AttackKeys.trusted),
                                     controlMember: control.bytes, dataMembers: [data])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "gzip-bomb-data", attack: "data member inflating to 256 MiB of zeros, --max-apk-data-size 16M",
                   outcome: .fails("data section decompresses to more than 16777216 bytes")) { w in
            let data = MemorySink()
            let gzip = try GzipWriter(sink: data, level: 9)
            let tar = TarWriter(sink: gzip)
            for item in Craft.skeleton { try tar.append(item.entry) }
            try tar.append(TarEntry(name: "usr/share/zeros", size: 256 << 20), content: ZeroSource(count: 256 << 20))
            try tar.finish(.endBlocks)
            try gzip.finish()
            let app = try Craft.package(name: "app", dataMembers: [data.bytes])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(["--max-apk-data-size", "16M"]), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "gzip-bomb-index", attack: "signed index inflating to 400 MiB in four extra entries (default 300 MiB cap)",
                   outcome: .fails("the index decompresses to more than 314572800 bytes")) { w in
            let app = try Benign.app()
            try w.publish([app])
            let body = MemorySink()
            let gzip = try GzipWriter(sink: body, level: 9)
            let tar = TarWriter(sink: gzip, format: .gnu)
            for number in 0..<4 {
                try tar.append(TarEntry(name: "padding\(number)", size: 100 << 20), content: ZeroSource(count: 100 << 20))
            }
            let text = Array(IndexText.write([try app.record()]).utf8)
            try tar.append(TarEntry(name: "APKINDEX", size: Int64(text.count)), content: text)
            try tar.finish(.endBlocks)
            try gzip.finish()
            try w.writeIndex(try Craft.signatureMember(over: body.bytes, key: AttackKeys.trusted) + body.bytes)
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "tar-bomb", attack: "a signed package of 2,000,000 empty entries in 1 MB (default 1,000,000 cap)",
                   outcome: .fails("more than 1000000 entries")) { w in
            // 200 identical gzip members of 10,000 headers each: cheap to make, 1 GB to read.
            let header = DataItem(entry: TarEntry(name: "usr/share/f"), content: [])
            let member = try Craft.gzip(try Craft.tar(Array(repeating: header, count: 10_000), ending: .cut), level: 9)
            let start = try Craft.gzip(try Craft.tar(Craft.skeleton, ending: .cut))
            let end = try Craft.gzip([UInt8](repeating: 0, count: 1024))
            let app = try Craft.package(name: "app", dataMembers: [start] + Array(repeating: member, count: 200) + [end])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
    ]

    // MARK: Entry names

    /// A package with one file entry named `entryName` (or a placeholder name overridden by the
    /// PAX records `pax`).
    static func unsafeName(_ name: String, _ attack: String, entryName: String = "usr/share/placeholder", pax: [String: String] = [:],
                           _ expected: String) -> AttackCase {
        AttackCase(name: name, attack: attack, outcome: .fails(expected)) { w in
            var evil = DataItem.file(entryName, "evil\n")
            evil.entry.paxRecords = pax
            let app = try Craft.package(name: "app", items: Craft.skeleton + [evil])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        }
    }

    static let names: [AttackCase] = [
        unsafeName("name-dotdot", "an entry named usr/../../etc/cron.d/evil", entryName: "usr/../../etc/cron.d/evil", "'..' component"),
        unsafeName("name-dotdot-leading", "an entry named ../evil", entryName: "../evil", "'..' component"),
        unsafeName("name-absolute", "an entry named /etc/evil", entryName: "/etc/evil", "absolute name"),
        AttackCase(name: "name-nul", attack: "a PAX path with a NUL byte (usr/share/a<NUL>b)", outcome: .fails("NUL byte in name")) { w in
            let evil = RawTar.paxFile(key: "path", value: Array("usr/share/a".utf8) + [0] + Array("b".utf8),
                                      placeholder: "usr/share/placeholder", content: Array("evil\n".utf8))
            let tar = try Craft.tar(Craft.skeleton, ending: .cut) + evil + [UInt8](repeating: 0, count: 1024)
            let app = try Craft.package(name: "app", dataMembers: [try Craft.gzip(tar)])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        unsafeName("name-control-character", "an entry name with an ESC sequence", entryName: "usr/share/\u{1b}[2Jevil",
                   "control character 0x1b"),
        unsafeName("name-newline", "an entry name with a newline", entryName: "usr/share/evil\nline", "control character 0xa"),
    ]

    // MARK: Links, special files, conflicts

    static let links: [AttackCase] = [
        AttackCase(name: "symlink-escape-write-through", attack: "symlink usr/share/escape -> /etc, then usr/share/escape/passwd",
                   outcome: .fails("'usr/share/escape/passwd' lies under 'usr/share/escape', a symbolic link")) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton + [.symlink("usr/share/escape", to: "/etc"),
                                                                              .file("usr/share/escape/passwd", "root::0:0::/:/bin/sh\n")])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "symlink-relative-escape-write-through", attack: "symlink usr/share/up -> ../../../../.., then usr/share/up/tmp/evil",
                   outcome: .fails("'usr/share/up/tmp/evil' lies under 'usr/share/up', a symbolic link")) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton + [.symlink("usr/share/up", to: "../../../../.."),
                                                                              .file("usr/share/up/tmp/evil", "evil\n")])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "symlink-across-packages-write-through", attack: "package a ships usr/share/data -> /etc; package b writes usr/share/data/evil",
                   outcome: .fails("b-1.0-r0: directory 'usr/share/data' goes through the symlink")) { w in
            let a = try Craft.package(name: "a", items: Craft.skeleton + [.symlink("usr/share/data", to: "/etc")])
            let b = try Craft.package(name: "b", items: Craft.skeleton + [.directory("usr/share/data"), .file("usr/share/data/evil", "evil\n")],
                                      depends: ["a"])
            try w.publish([a, b])
            try w.config(packages: ["b"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [])
        },
        AttackCase(name: "hardlink-outside-package", attack: "hard link to etc/shadow, which the package does not ship",
                   outcome: .fails("hard link 'usr/share/shadow' points at 'etc/shadow', which is not an earlier file")) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton + [.hardLink("usr/share/shadow", to: "etc/shadow")])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "hardlink-escaping-target", attack: "hard link whose target is ../../etc/passwd",
                   outcome: .fails("'../../etc/passwd': '..' component")) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton + [.hardLink("usr/share/passwd", to: "../../etc/passwd")])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "device-nodes-as-data", attack: "character and block devices and a FIFO in a package",
                   outcome: .succeeds({ w in
                       let entries = try LayoutInspection.layerEntries(w.scratch.path(AttackWorkspace.output))
                       let kinds = Dictionary(entries.map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
                       #expect(kinds["usr/share/null"] == .characterDevice)
                       #expect(kinds["usr/share/sda"] == .blockDevice)
                       #expect(kinds["usr/share/fifo"] == .fifo)
                       let null = entries.first { $0.name == "usr/share/null" }
                       #expect(null?.deviceMajor == 1 && null?.deviceMinor == 3)
                       #expect(LayoutInspection.specialFiles(under: w.scratch.url.path) == [])
                   })) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton + [
                .device("usr/share/null", kind: .characterDevice, major: 1, minor: 3),
                .device("usr/share/sda", kind: .blockDevice, major: 8, minor: 0),
                .device("usr/share/fifo", kind: .fifo),
            ])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "setuid-as-data", attack: "setuid and setgid root files in a package",
                   outcome: .succeeds({ w in
                       let entries = try LayoutInspection.layerEntries(w.scratch.path(AttackWorkspace.output))
                       #expect(entries.first { $0.name == "usr/share/su" }?.mode == 0o4755)
                       #expect(entries.first { $0.name == "usr/share/sg" }?.mode == 0o2755)
                       #expect(LayoutInspection.specialFiles(under: w.scratch.url.path) == [])
                   })) { w in
            let app = try Craft.package(name: "app", items: Craft.skeleton + [
                .file("usr/share/su", "#!/bin/sh\n", mode: 0o4755), .file("usr/share/sg", "#!/bin/sh\n", mode: 0o2755),
            ])
            try Benign.repository(w, [app])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "duplicate-path-across-packages", attack: "two packages ship usr/share/same.txt, neither replaces the other",
                   outcome: .fails("trying to overwrite usr/share/same.txt owned by a-1.0-r0")) { w in
            let a = try Craft.package(name: "a", items: Craft.skeleton + [.file("usr/share/same.txt", "a\n")])
            let b = try Craft.package(name: "b", items: Craft.skeleton + [.file("usr/share/same.txt", "b\n")], depends: ["a"])
            try w.publish([a, b])
            try w.config(packages: ["b"])
            return Invocation(arguments: AttackWorkspace.build())
        },
    ]

    // MARK: Config

    static func config(_ name: String, _ attack: String, _ expected: String, _ text: @escaping @Sendable (AttackWorkspace) -> String)
        -> AttackCase {
        AttackCase(name: name, attack: attack, outcome: .fails(expected)) { w in
            try Benign.repository(w, [try Benign.app()])
            try w.scratch.write("apko.yaml", text: text(w))
            return Invocation(arguments: AttackWorkspace.build())
        }
    }

    static let config: [AttackCase] = [
        config("yaml-malformed", "an unclosed flow sequence", "apko.yaml:") { _ in "contents:\n  packages: [app\n" },
        config("yaml-huge", "a 5 MiB config (limit 4 MiB)", "the limit is 4194304 bytes") { w in
            "contents:\n  packages: [app]\n" + String(repeating: "# padding padding padding padding padding padding\n", count: 100_000)
        },
        config("yaml-alias-bomb", "billion laughs: nine levels of nine aliases", "alias bomb") { _ in
            var text = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
            for level in 1...9 {
                text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
            }
            return text + "contents:\n  packages: [app]\n"
        },
        config("yaml-recursive-alias", "an anchor whose value refers to itself", "alias *loop refers to no anchor") { _ in
            "contents: &loop\n  packages: [app]\n  nested: *loop\n"
        },
        config("yaml-deep-nesting", "lists nested 10,000 deep", "nested more than") { _ in
            "contents:\n  packages: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n"
        },
        config("yaml-unknown-key", "a key apko does not know", "unknown key \"shell\"") { w in
            "contents:\n  repositories: [\(w.repositoryPath)]\n  keyring: [\(w.trustedKeyPath)]\n  packages: [app]\nshell: /bin/evil\n"
        },
        config("config-invalid-version", "a package constraint with an invalid version", "'1.0-r0-!!' is not a valid apk version") { w in
            "contents:\n  repositories: [\(w.repositoryPath)]\n  keyring: [\(w.trustedKeyPath)]\n  packages: [app=1.0-r0-!!]\n"
        },
    ]

    // MARK: Resolution

    static let resolution: [AttackCase] = [
        AttackCase(name: "index-invalid-version", attack: "a trusted index record depending on helper>=1.0_foo (not a version)",
                   outcome: .fails("'1.0_foo' is not a valid apk version")) { w in
            let app = try Benign.app()
            try w.publish([app])
            let text = IndexText.write([try app.record()]).replacingOccurrences(of: "\nP:app\n", with: "\nP:app\nD:helper>=1.0_foo\n")
            try w.writeIndex(try Craft.index(text: text))
            try w.config(packages: ["app"])
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
        AttackCase(name: "dependency-cycle", attack: "a depends on b, b on c, c on a: resolved and installed once each",
                   outcome: .succeeds({ w in
                       let entries = try LayoutInspection.layerEntries(w.scratch.path(AttackWorkspace.output))
                       let names = Set(entries.map(\.name))
                       #expect(names.isSuperset(of: ["usr/share/a.txt", "usr/share/b.txt", "usr/share/c.txt"]))
                   })) { w in
            let a = try Craft.package(name: "a", items: Craft.skeleton + [.file("usr/share/a.txt")], depends: ["b"])
            let b = try Craft.package(name: "b", items: Craft.skeleton + [.file("usr/share/b.txt")], depends: ["c"])
            let c = try Craft.package(name: "c", items: Craft.skeleton + [.file("usr/share/c.txt")], depends: ["a"])
            try w.publish([a, b, c], records: [try a.record(depends: ["b"]), try b.record(depends: ["c"]), try c.record(depends: ["a"])])
            try w.config(packages: ["a"])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "unsatisfiable-world", attack: "the world names a package no repository has",
                   outcome: .fails("no-such-package — no such package")) { w in
            try Benign.repository(w, [try Benign.app()])
            try w.config(packages: ["no-such-package"])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "unsatisfiable-conflict", attack: "app depends on !helper while the world asks for helper",
                   outcome: .fails("app → !helper — but helper-1.0-r0 is selected")) { w in
            let app = try Benign.app()
            let helper = try Benign.app(name: "helper")
            try w.publish([app, helper], records: [try app.record(depends: ["!helper"]), try helper.record()])
            try w.config(packages: ["app", "helper"])
            return Invocation(arguments: AttackWorkspace.build())
        },
        AttackCase(name: "index-name-with-slash", attack: "a trusted index record named ../../outside (its file would escape the repository)",
                   outcome: .fails("name '../../outside' cannot be part of a file name")) { w in
            let app = try Benign.app()
            var record = try app.record()
            record.name = "../../outside"
            try w.publish([app], records: [record])
            try w.scratch.write("outside-1.0-r0.apk", Data(app.bytes))
            try w.scratch.write("apko.yaml", text: """
                contents:
                  repositories: [\(w.repositoryPath)]
                  keyring: [\(w.trustedKeyPath)]
                  packages: ["../../outside"]
                archs: [x86_64]

                """)
            return Invocation(arguments: AttackWorkspace.build(), hostileCacheNames: [app.cacheName])
        },
    ]

    // MARK: HTTP

    /// The index is hostile too unless the fault only hits the package (`indexIsHostile` false).
    static func http(_ name: String, _ attack: String, _ mode: String, _ expected: String, flags: [String] = [],
                     indexIsHostile: Bool = true) -> AttackCase {
        AttackCase(name: name, attack: attack, outcome: .fails(expected)) { w in
            // 8 KiB that do not compress, so the package is larger than the smallest response cap.
            var generator = XorShift(seed: 9)
            let app = try Benign.app(extra: [.bytes("usr/share/blob", generator.bytes(8 << 10))])
            try w.publish([app])
            let url = try w.serve(mode: mode)
            try w.config(packages: ["app"], repository: url)
            let indexDirectory = DigestAlgorithm.sha256.hash(Array("\(url)/x86_64/APKINDEX.tar.gz".utf8)).hex
            return Invocation(arguments: AttackWorkspace.build(flags),
                              hostileCacheNames: [app.cacheName] + (indexIsHostile ? [indexDirectory] : []))
        }
    }

    static let http: [AttackCase] = [
        http("http-404", "the index answers 404", "notfound", "HTTP 404"),
        http("http-500", "every request answers 500", "fail500", "HTTP 500"),
        http("http-timeout", "the server never answers (--http-timeout 1)", "hang", "timed out", flags: ["--http-timeout", "1"]),
        http("http-body-shorter", "the body ends 64 bytes before its Content-Length", "short", "transfer closed with 64 bytes remaining"),
        http("http-body-longer", "the body runs 64 bytes past its Content-Length", "long", "APKINDEX.tar.gz: input ends inside the deflate data"),
        http("http-redirect-loop", "every request redirects to itself", "redirectloop", "more than 10 redirects"),
        http("http-redirect-to-file", "a redirect to the file:// URL of a valid index", "redirectfile", "refused a redirect to file://"),
        http("http-response-over-cap", "a package response over --max-http-response-size 4K", "ok", "--max-http-response-size",
             flags: ["--max-http-response-size", "4K"], indexIsHostile: false),
    ]

    // MARK: Registry

    static let registry: [AttackCase] = [
        AttackCase(name: "registry-rejects-manifest", attack: "docker-registry refuses a manifest whose layer carries foreign URLs",
                   outcome: .fails("pushing manifest")) { w in
            try Benign.repository(w, [try Benign.app()])
            try DistillBinary.run(AttackWorkspace.build(), in: w.scratch)
            try RegistryAttack.addForeignURL(layout: w.scratch.path(AttackWorkspace.output))
            let registry = try w.startRegistry()
            return Invocation(arguments: ["push", "--insecure-registry", registry.host, AttackWorkspace.output,
                                          "\(registry.host)/attack/app:1.0"], outputMustBeAbsent: false)
        },
    ]
}

/// Makes a built layout into one a registry must refuse.
enum RegistryAttack {
    /// Adds `urls` to the first layer of the first image (distribution refuses `urls` on a
    /// distributable layer), and re-links the image index and index.json to the new manifest.
    static func addForeignURL(layout: String) throws {
        func write(_ object: Any) throws -> (digest: String, size: Int) {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            let hex = DigestAlgorithm.sha256.hash([UInt8](data)).hex
            try data.write(to: URL(fileURLWithPath: "\(layout)/blobs/sha256/\(hex)"))
            return ("sha256:\(hex)", data.count)
        }
        let indexURL = URL(fileURLWithPath: "\(layout)/index.json")
        var top = try JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as! [String: Any]
        var topEntries = top["manifests"] as! [[String: Any]]
        var imageIndex = try LayoutInspection.blob(layout, topEntries[0]["digest"] as! String)
        var images = imageIndex["manifests"] as! [[String: Any]]
        var manifest = try LayoutInspection.blob(layout, images[0]["digest"] as! String)
        var layers = manifest["layers"] as! [[String: Any]]
        layers[0]["urls"] = ["https://attack.example/layer.tar.gz"]
        manifest["layers"] = layers
        let newManifest = try write(manifest)
        images[0]["digest"] = newManifest.digest
        images[0]["size"] = newManifest.size
        imageIndex["manifests"] = images
        let newIndex = try write(imageIndex)
        topEntries[0]["digest"] = newIndex.digest
        topEntries[0]["size"] = newIndex.size
        top["manifests"] = topEntries
        try JSONSerialization.data(withJSONObject: top, options: [.sortedKeys, .withoutEscapingSlashes]).write(to: indexURL)
    }
}
