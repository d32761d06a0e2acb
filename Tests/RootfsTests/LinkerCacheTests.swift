import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

@Suite("ld.so.cache")
struct LinkerCacheTests {
    /// Shared objects compiled here, packaged, and the cache read back by glibc's own
    /// `ldconfig -p`: the same lines, in the same order, as the cache real `ldconfig` writes for
    /// the extracted rootfs (`ldconfig -X -r root`).
    @Test func matchesGlibcLdconfig() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("f.c", text: "int f(void) { return 1; }\n")
        func library(_ soname: String?, _ file: String) throws -> [UInt8] {
            var arguments = ["-shared", "-fPIC", "-o", file, "f.c"]
            if let soname { arguments.insert("-Wl,-soname,\(soname)", at: 2) }
            try ExternalTool.run("clang", arguments, in: scratch)
            return try scratch.read(file)
        }
        let libraries = try Synthetic.package("libs", items: [
            .directory("usr"), .directory("usr/lib"),
            .file("usr/lib/libalpha.so.1", bytes: try library("libalpha.so.1", "alpha"), mode: 0o755),
            .file("usr/lib/libnosoname.so", bytes: try library(nil, "nosoname"), mode: 0o755),
            .file("usr/lib/libz9.so.1.2.13", bytes: try library("libz9.so.1", "z9"), mode: 0o755),
            .symlink("usr/lib/libz9.so.1", to: "libz9.so.1.2.13"), .symlink("usr/lib/libz9.so", to: "libz9.so.1.2.13"),
            .file("usr/lib/README.so.txt", "not a library"),
            .directory("opt"), .directory("opt/lib"),
            .file("opt/lib/libbeta.so.10", bytes: try library("libbeta.so.10", "beta10"), mode: 0o755),
            .file("opt/lib/libbeta.so.9", bytes: try library("libbeta.so.9", "beta9"), mode: 0o755),
            .directory("etc"), .file("etc/ld.so.conf", "# local\ninclude /etc/ld.so.conf.d/*.conf\n"),
            .directory("etc/ld.so.conf.d"), .file("etc/ld.so.conf.d/opt.conf", "/opt/lib # vendor\n"),
            .file("etc/ld.so.conf.d/ignored.txt", "/nowhere\n"),
        ], scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [libraries]))
        let cache = try #require(try layerEntries(rootfs)["etc/ld.so.cache"])
        #expect(cache.entry.mode == 0o644 && cache.entry.modificationTime == 0)
        try scratch.write("ours.cache", cache.content)

        let layer = try LayerFiles.write(rootfs, to: "layer.tar", in: scratch)
        try FileManager.default.createDirectory(atPath: scratch.path("root"), withIntermediateDirectories: true)
        try ExternalTool.run("tar", ["-xpf", layer, "-C", "root"], in: scratch)
        try FileManager.default.removeItem(atPath: scratch.path("root/etc/ld.so.cache"))
        try ExternalTool.run("ldconfig", ["-X", "-r", "root"], in: scratch)

        let ours = try ExternalTool.run("ldconfig", ["-p", "-C", "ours.cache"], in: scratch).text
        let glibc = try ExternalTool.run("ldconfig", ["-p", "-C", "root/etc/ld.so.cache"], in: scratch).text
        let entries = { (text: String) in text.split(separator: "\n").dropFirst().filter { $0.hasPrefix("\t") } }
        #expect(entries(ours) == entries(glibc), "ours:\n\(ours)\nldconfig:\n\(glibc)")
        #expect(entries(ours) == [
            "\tlibz9.so.1 (libc6,x86-64) => /usr/lib/libz9.so.1",
            "\tlibz9.so (libc6,x86-64) => /usr/lib/libz9.so",
            "\tlibnosoname.so (libc6,x86-64) => /usr/lib/libnosoname.so",
            "\tlibbeta.so.10 (libc6,x86-64) => /opt/lib/libbeta.so.10",
            "\tlibbeta.so.9 (libc6,x86-64) => /opt/lib/libbeta.so.9",
            "\tlibalpha.so.1 (libc6,x86-64) => /usr/lib/libalpha.so.1",
        ])
    }

    /// Wolfi's real aarch64 libcap: sonames and the AArch64 flag read from the package bytes.
    @Test func realAarch64Libraries() throws {
        let scratch = try ScratchDirectory()
        let libcap = try FixturePackages.standalone("wolfi/packages/aarch64/libcap-2.69-r0.apk", key: "keys/wolfi/wolfi-signing.rsa.pub",
                                                    scratch: scratch)
        let conf = try Synthetic.package("ld-conf", items: [.directory("etc"), .file("etc/ld.so.conf", "/usr/lib\n")], scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "aarch64", packages: [conf, libcap]))
        try scratch.write("cache", try #require(try rootfs.contents(of: "etc/ld.so.cache")))
        let listing = try ExternalTool.run("ldconfig", ["-p", "-C", "cache"], in: scratch).text
        #expect(listing.hasPrefix("2 libs found in cache"))
        #expect(listing.contains("\tlibpsx.so.2 (libc6,AArch64) => /usr/lib/libpsx.so.2\n"))
        #expect(listing.contains("\tlibcap.so.2 (libc6,AArch64) => /usr/lib/libcap.so.2\n"))
    }

    @Test func noConfNoCache() throws {
        let scratch = try ScratchDirectory()
        let libcap = try FixturePackages.standalone("wolfi/packages/aarch64/libcap-2.69-r0.apk", key: "keys/wolfi/wolfi-signing.rsa.pub",
                                                    scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "aarch64", packages: [libcap]))
        #expect(try rootfs.contents(of: "etc/ld.so.cache") == nil)
    }
}
