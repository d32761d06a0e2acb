import APK
import Archive
import DistillCrypto
import Foundation
import Testing
import TestSupport

/// The real `distill` binary, end to end, with openssl and the independent fixture verifier as
/// oracles.
@Suite struct CommandLineTests {
    static let epoch = ["SOURCE_DATE_EPOCH": "1700000000"]

    /// A key pair and a small tree to pack, in a fresh scratch directory.
    static func workspace() throws -> ScratchDirectory {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("keys"), withIntermediateDirectories: true)
        try DistillBinary.run(["keygen", "--bits", "2048", "keys/builder"], in: scratch)
        _ = try Craft.makeTree(in: scratch, named: "tree")
        try scratch.write("post.sh", text: "#!/bin/sh\necho installed\n")
        return scratch
    }

    static func pack(_ scratch: ScratchDirectory, output: String, extra: [String] = []) throws {
        try DistillBinary.run(["pack", "--name", "demo", "--version", "1.0-r0", "--arch", "x86_64",
                               "--depends", "/bin/sh so:libc.musl-x86_64.so.1", "--provides", "cmd:hello=1.0-r0",
                               "--description", "demo package", "--license", "MIT", "--post-install", "post.sh",
                               "--key", "keys/builder.rsa"] + extra + ["tree", output],
                              in: scratch, environment: epoch)
    }

    /// A killed `pack` leaves pid-tagged temporaries beside its output; the next write of that
    /// output removes the dead ones (never a running writer's, never another output's).
    @Test func killedWritersTemporariesAreSweptByTheNextWrite() throws {
        let scratch = try Self.workspace()
        let dead = try AbandonedTemporaries.deadProcessID(in: scratch)
        let alive = getpid()
        let planted = [".demo.apk.tmp-\(dead)-0", ".demo.apk.data.tmp-\(dead)-3", ".demo.apk.tmp-\(alive)-9", ".other.apk.tmp-\(dead)-0"]
        for name in planted { try scratch.write(name, text: "partial") }
        try Self.pack(scratch, output: "demo.apk")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { $0.contains(".tmp-") }.sorted()
        #expect(left == [".demo.apk.tmp-\(alive)-9", ".other.apk.tmp-\(dead)-0"])
    }

    /// keygen → pack → apk verify OK; index build → index verify OK; the fixture verifier and
    /// `openssl dgst -verify` accept the package's and the index's signatures.
    @Test(arguments: [[], ["--sign-sha256"]])
    func keygenPackVerifyIndexRoundTrip(_ signFlags: [String]) throws {
        let scratch = try Self.workspace()
        let attributes = try FileManager.default.attributesOfItem(atPath: scratch.path("keys/builder.rsa"))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("repo/x86_64"), withIntermediateDirectories: true)
        try Self.pack(scratch, output: "repo/x86_64/demo-1.0-r0.apk", extra: signFlags)
        let verify = try DistillBinary.run(["apk", "verify", "--keyring", "keys", "repo/x86_64/demo-1.0-r0.apk"], in: scratch)
        #expect(verify.text == "repo/x86_64/demo-1.0-r0.apk: OK\n")

        try DistillBinary.run(["index", "build", "--key", "keys/builder.rsa", "--description", "demo repo", "--keyring", "keys",
                               "-o", "repo/x86_64/APKINDEX.tar.gz"] + signFlags + ["repo/x86_64/demo-1.0-r0.apk"],
                              in: scratch, environment: Self.epoch)
        let indexVerify = try DistillBinary.run(["index", "verify", "--keyring", "keys", "repo/x86_64/APKINDEX.tar.gz"], in: scratch)
        let type = signFlags.isEmpty ? "RSA" : "RSA256"
        #expect(indexVerify.text == "repo/x86_64/APKINDEX.tar.gz: OK (signed by builder.rsa.pub (\(type)))\n")

        // The independent verifier, with the public key beside the repository.
        try FileManager.default.copyItem(atPath: scratch.path("keys/builder.rsa.pub"), toPath: scratch.path("repo/builder.rsa.pub"))
        let report = try ExternalTool.run("python3", [Fixtures.root.deletingLastPathComponent().path + "/tools/apk_fixture_verify.py",
                                                      scratch.path("repo")], in: scratch)
        let json = try JSONSerialization.jsonObject(with: report.standardOutput) as! [String: Any]
        let apks = json["apks"] as! [[String: Any]]
        let indexes = json["indexes"] as! [[String: Any]]
        #expect(apks.count == 1 && indexes.count == 1)
        for item in apks + indexes {
            let signatures = item["signatures"] as! [[String: Any]]
            #expect(signatures.map { $0["result"] as? String } == ["Verified OK"], "\(item["file"] ?? "")")
        }
        #expect(apks[0]["datahash_ok"] as? Bool == true)
        let listed = indexes[0]["listed_apks_checked"] as! [[String: Any]]
        #expect(listed.map { $0["match"] as? Bool } == [true])

        // openssl over the exact bytes: the control member for the package, everything after the
        // signature member for the index.
        let digest = signFlags.isEmpty ? "-sha1" : "-sha256"
        for file in ["repo/x86_64/demo-1.0-r0.apk", "repo/x86_64/APKINDEX.tar.gz"] {
            let members = try Craft.members(try scratch.read(file))
            let signed: [UInt8] = file.hasSuffix(".apk") ? members[1] : Array(members[1...].joined())
            let signatureTar = try Craft.gunzip(members[0])
            let entry = try TarReader(source: MemorySource(signatureTar)).next()!
            #expect(entry.name == ".SIGN.\(type).builder.rsa.pub")
            try scratch.write("signature", Array(signatureTar[512..<(512 + Int(entry.size))]))
            try scratch.write("signed", signed)
            let openssl = try ExternalTool.openssl("dgst", digest, "-verify", "keys/builder.rsa.pub", "-signature", "signature", "signed",
                                                   in: scratch)
            #expect(openssl.text == "Verified OK\n")
        }
    }

    /// The same directory packed twice with the same SOURCE_DATE_EPOCH: identical bytes.
    @Test func packIsReproducible() throws {
        let scratch = try Self.workspace()
        try Self.pack(scratch, output: "one.apk")
        try Self.pack(scratch, output: "two.apk")
        #expect(try scratch.read("one.apk") == scratch.read("two.apk"))
        let inspect = try DistillBinary.run(["apk", "inspect", "--keyring", "keys", "one.apk"], in: scratch)
        #expect(inspect.text.contains("\npkgname = demo\n"))
        #expect(inspect.text.contains("\nbuilddate = 1700000000\n"))
        #expect(inspect.text.contains("\nsignature: OK, signed by builder.rsa.pub (RSA)\n"))
        #expect(inspect.text.contains("\nscripts: post-install\n"))
        #expect(inspect.text.contains("\n-rwsr-xr-x root/root          7 usr/bin/su-like\n"))
        #expect(inspect.text.contains("\nlrwxrwxrwx root/root          0 usr/bin/hi -> hello\n"))
    }

    /// `apk verify` gives each fixture package the verdict PROVENANCE.md lists, one line each.
    @Test(arguments: PackageFixture.all)
    func verifiesFixture(_ fixture: PackageFixture) throws {
        let scratch = try ScratchDirectory()
        let keys = scratch.url.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let keyring = try FixtureKeys.keyring(for: fixture.path)
        for name in keyring.names {
            try scratch.write("keys/" + name, text: keyring.key(named: name)!.pemRepresentation)
        }
        let path = Fixtures.url(fixture.path).path
        let output = try DistillBinary.run(["apk", "verify", "--keyring", "keys", path], in: scratch, expectSuccess: false)
        #expect(output.status == (fixture.verdict == .ok ? 0 : 3))   // 3: verification failed
        #expect(output.text.hasPrefix("\(path): \(fixture.verdict.rawValue)"))
        #expect(output.text.contains("BAD datahash") == !fixture.dataHashMatches)
        #expect(output.text.split(separator: "\n").count == 1)
    }

    /// `index verify` accepts every fixture index with its keys and refuses it without them.
    @Test(arguments: IndexFixture.all)
    func verifiesFixtureIndex(_ fixture: IndexFixture) throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("keys"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let keyring = try FixtureKeys.keyring(for: fixture.path)
        for name in keyring.names {
            try scratch.write("keys/" + name, text: keyring.key(named: name)!.pemRepresentation)
        }
        let path = Fixtures.url(fixture.path).path
        let trusted = try DistillBinary.run(["index", "verify", "--keyring", "keys", path], in: scratch)
        #expect(trusted.text.hasPrefix("\(path): OK (signed by "))
        let untrusted = try DistillBinary.run(["index", "verify", "--keyring", "empty", path], in: scratch, expectSuccess: false)
        #expect(untrusted.status == 3)
        #expect(untrusted.text.hasPrefix("\(path): UNTRUSTED (signed by \(fixture.signers[0].keyName)"))
    }

    /// `index show` prints the status line and one line per package, in text and JSON.
    @Test func showsAnIndex() throws {
        let scratch = try ScratchDirectory()
        let path = Fixtures.url("apko-testrepo/x86_64/APKINDEX.tar.gz").path
        let text = try DistillBinary.run(["index", "show", "--keyring", Fixtures.url("apko-testrepo/melange.rsa.pub").path, path], in: scratch)
        let lines = text.text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "index: \(path)")
        #expect(lines[1] == "signature: OK (signed by melange.rsa.pub (RSA256))")
        #expect(lines[2] == "packages: 4")
        #expect(lines.contains("replayout 1.0.0-r0 x86_64 Q11/HhSewwwOXgl0r0ffb0O0BRtYc="))
        let json = try DistillBinary.run(["index", "show", "--format", "json", path], in: scratch)
        let object = try JSONSerialization.jsonObject(with: json.standardOutput) as! [String: Any]
        #expect(object["trusted"] as? Bool == false)
        #expect((object["packages"] as? [[String: Any]])?.count == 4)
    }

    /// Errors are one line that names the file, and the exit status is not 0.
    @Test func errorsAreOneLine() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("not.apk", text: "hello")
        let result = try DistillBinary.run(["apk", "verify", "--keyring", Fixtures.url("keys/alpine").path, "not.apk", "missing.apk"],
                                           in: scratch, expectSuccess: false)
        #expect(result.status == 3)
        let lines = result.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("not.apk: ERROR: input is not gzip"))
        #expect(lines[1].hasPrefix("missing.apk: ERROR: cannot open"))

        let noKeyring = try DistillBinary.run(["apk", "verify", "x.apk"], in: scratch, expectSuccess: false)
        #expect(noKeyring.status != 0)
        #expect(noKeyring.standardError.contains("--keyring is required"))

        try scratch.write("bad.rsa.pub", text: "not a key")
        let badKey = try DistillBinary.run(["apk", "verify", "--keyring", "bad.rsa.pub", "x.apk"], in: scratch, expectSuccess: false)
        #expect(badKey.status != 0)
        #expect(badKey.standardError.contains("bad.rsa.pub: not a PEM public key"))
        #expect(badKey.standardError.split(separator: "\n").count == 1)
    }
}
