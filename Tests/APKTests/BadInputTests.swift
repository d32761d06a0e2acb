import APK
import Archive
import DistillCrypto
import Foundation
import Testing
import TestSupport

/// Hostile or broken input: each case is one clear `APKError` (kind and a message naming the
/// problem), never a crash or a wrong verdict.
@Suite struct BadInputTests {
    static let real = "alpine/packages/x86_64/curl-7.83.1-r1.apk"

    static func read(_ bytes: [UInt8], options: APKFile.Options = APKFile.Options(keyring: Craft.keyring)) throws -> APKFile {
        try APKFile.read(from: MemorySource(bytes), name: "bad.apk", options: options, expandingDataTo: CountingSink())
    }

    static func expect(_ bytes: [UInt8], _ kind: APKError.Kind, mentioning text: String,
                       options: APKFile.Options = APKFile.Options(keyring: Craft.keyring),
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) { try read(bytes, options: options) } throws: { error in
            guard let error = error as? APKError else { return false }
            return error.kind == kind && error.source == "bad.apk" && error.message.contains(text)
                && !error.description.contains("\n")
        }
    }

    @Test func truncatedGzip() throws {
        let bytes = Array(try Fixtures.data(Self.real))
        Self.expect(Array(bytes[0..<(bytes.count / 2)]), .malformedPackage, mentioning: "input ends inside")
        // Cut inside the control member: still a broken archive, reported before any verdict.
        Self.expect(Array(bytes[0..<1000]), .malformedPackage, mentioning: "input ends inside")
    }

    @Test func garbageAfterTheLastMember() throws {
        let bytes = Array(try Fixtures.data(Self.real)) + Array("trailing garbage".utf8)
        Self.expect(bytes, .malformedPackage, mentioning: "not another gzip member")
    }

    @Test func notGzipAtAll() {
        Self.expect(Array("definitely not a package".utf8), .malformedPackage, mentioning: "not gzip")
        Self.expect([], .malformedPackage, mentioning: "input is empty")
    }

    /// A data member that inflates past the data cap stops at the cap.
    @Test func gzipBombInTheData() throws {
        let zeros = try Craft.tar([(TarEntry(name: "big"), [UInt8](repeating: 0, count: 4 << 20))], ending: .endBlocks)
        let package = try Craft.package(dataTar: zeros)
        #expect(package.count < 64 * 1024)
        var options = APKFile.Options(keyring: Craft.keyring)
        options.maximumDataSize = 1 << 20
        Self.expect(package, .tooLarge, mentioning: "data section decompresses to more than 1048576 bytes", options: options)
        #expect(try Self.read(package).verdict == .ok)
    }

    /// A control section over the 10 MiB default cap.
    @Test func hugeControlSection() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("tree/usr"), withIntermediateDirectories: true)
        let script = APKFile.Script(kind: .postInstall, content: [UInt8](repeating: UInt8(ascii: "#"), count: 11 << 20))
        let options = APKBuilder.Options(info: try Craft.info(), scripts: [script], modificationTime: 0, key: Craft.key)
        _ = try APKBuilder.pack(directory: scratch.path("tree"), options: options, to: scratch.path("big.apk"))
        Self.expect(try scratch.read("big.apk"), .tooLarge, mentioning: "10485760")

        // A control member that inflates past the cap in an entry nobody reads (a gzip bomb).
        let control = try Craft.gzip(try Craft.tar([(TarEntry(name: ".PKGINFO"), Array("pkgname = a\npkgver = 1-r0\n".utf8)),
                                                    (TarEntry(name: ".padding"), [UInt8](repeating: 0, count: 20 << 20))], ending: .cut))
        #expect(control.count < 100_000)
        let data = try Craft.gzip(try Craft.tar([], ending: .endBlocks))
        Self.expect(control + data, .tooLarge, mentioning: "control sections decompress to more than 10485760 bytes")
    }

    @Test(arguments: ["../escape", "/etc/passwd", "usr/../../etc/shadow", "usr/bin/a\u{1}b"])
    func unsafeDataNames(_ name: String) throws {
        let data = try Craft.tar([(TarEntry(name: "usr", kind: .directory, mode: 0o755), []), (TarEntry(name: name), Array("x".utf8))],
                                 ending: .endBlocks, safeNamesOnly: false)
        Self.expect(try Craft.package(dataTar: data), .malformedPackage, mentioning: "unsafe entry name")
    }

    @Test func dataIsNotATar() throws {
        let data = Array(String(repeating: "this is not a tar archive ", count: 100).utf8)
        Self.expect(try Craft.package(dataTar: data), .malformedPackage, mentioning: "ustar")
    }

    @Test func controlWithoutPKGINFO() throws {
        let control = try Craft.gzip(try Craft.tar([(TarEntry(name: ".post-install"), Array("#!/bin/sh\n".utf8))], ending: .cut))
        let data = try Craft.gzip(try Craft.tar([], ending: .endBlocks))
        Self.expect(try Craft.signatureMember(over: control) + control + data, .malformedPackage, mentioning: "no .PKGINFO")
        // Only a signature member: nothing to verify.
        Self.expect(try Craft.signatureMember(over: control), .malformedPackage, mentioning: "only signatures")
    }

    @Test func dataBeforeTheControlSection() throws {
        let data = try Craft.gzip(try Craft.tar([(TarEntry(name: "usr/bin/x"), Array("x".utf8))], ending: .endBlocks))
        Self.expect(data, .malformedPackage, mentioning: "no .PKGINFO before the first data entry")
    }

    @Test func malformedPKGINFO() throws {
        let control = try Craft.controlMember("pkgname = a\nthis line has no separator\n")
        let data = try Craft.gzip(try Craft.tar([], ending: .endBlocks))
        Self.expect(control + data, .malformedPackageInfo, mentioning: "not 'key = value'")
    }

    /// A signature that is not 256 bytes for a 2048-bit key is a bad signature, with the reason.
    @Test func signatureOfTheWrongLength() throws {
        let package = try Craft.package(dataTar: try Craft.tar([], ending: .endBlocks))
        let members = try Craft.members(package)
        let short = try Craft.signatureMember(over: members[1]) { Array($0.dropLast()) }
        let file = try Self.read(short + members[1] + members[2])
        #expect(file.verdict == .badSignature)
        guard case .bad(_, let reason) = file.signature else {
            Issue.record("expected a bad signature, got \(file.signature)")
            return
        }
        #expect(reason.contains("255 bytes"))
        var strict = APKFile.Options(keyring: Craft.keyring)
        strict.stopsAtFirstFailure = true
        Self.expect(short + members[1] + members[2], .badSignature, mentioning: "255 bytes", options: strict)
    }

    @Test func expectedChecksumThatIsNotOne() throws {
        let package = Array(try Fixtures.data(Self.real))
        Self.expect(package, .checksumMismatch, mentioning: "not a Q1/X1 SHA-1 checksum", options: .installing(checksum: "md5:abc"))
    }
}

@Suite struct BadIndexTests {
    static func signedIndex(text: String) throws -> [UInt8] {
        let body = try Craft.gzip(try Craft.tar([(TarEntry(name: "APKINDEX"), Array(text.utf8))], ending: .endBlocks))
        return try Craft.signatureMember(over: body) + body
    }

    static func expect(_ bytes: [UInt8], _ kind: APKError.Kind, mentioning text: String, maximumSize: Int64 = APKIndexFile.defaultMaximumSize,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sourceLocation: sourceLocation) {
            try APKIndexFile.read(from: MemorySource(bytes), name: "APKINDEX.tar.gz", keyring: Craft.keyring, maximumSize: maximumSize)
        } throws: { error in
            guard let error = error as? APKError else { return false }
            return error.kind == kind && error.source == "APKINDEX.tar.gz" && error.message.contains(text)
        }
    }

    @Test(arguments: ["P:a\nA:x86_64\n\n", "V:1.0-r0\nA:x86_64\n\n", "C:Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=\nP:a\nV:1.0-r0\n\nA:x86_64\n\n"])
    func recordWithoutNameOrVersion(_ text: String) throws {
        Self.expect(try Self.signedIndex(text: text), .malformedIndex, mentioning: "has no")
    }

    @Test func unknownUppercaseFieldMakesThePackageUnusable() throws {
        let bytes = try Self.signedIndex(text: "P:a\nV:1.0-r0\nX:future\nz:ignored\n\nP:b\nV:1-r0\n\n")
        let index = try APKIndexFile.read(from: MemorySource(bytes), name: "i", keyring: Craft.keyring)
        #expect(index.packages.map(\.hasUnknownRequiredField) == [true, false])
    }

    @Test func indexBomb() throws {
        let text = String(repeating: "P:a\nV:1.0-r0\n\n", count: 200_000)
        let bytes = try Self.signedIndex(text: text)
        #expect(bytes.count < 100_000)
        Self.expect(bytes, .tooLarge, mentioning: "1000000", maximumSize: 1_000_000)
    }

    @Test func truncatedAndTrailingGarbage() throws {
        let bytes = Array(try Fixtures.data("alpine/v3.16-x86_64-main/APKINDEX.tar.gz"))
        Self.expect(Array(bytes[0..<(bytes.count - 100)]), .malformedIndex, mentioning: "input ends inside")
        Self.expect(bytes + [1, 2, 3], .malformedIndex, mentioning: "not another gzip member")
    }

    @Test func noAPKINDEXEntry() throws {
        let body = try Craft.gzip(try Craft.tar([(TarEntry(name: "DESCRIPTION"), Array("x".utf8))], ending: .endBlocks))
        Self.expect(try Craft.signatureMember(over: body) + body, .malformedIndex, mentioning: "no APKINDEX entry")
    }

    @Test func unsignedIndex() throws {
        let body = try Craft.gzip(try Craft.tar([(TarEntry(name: "APKINDEX"), Array("P:a\nV:1-r0\n\n".utf8))], ending: .endBlocks))
        Self.expect(body, .unsigned, mentioning: "not signed")
    }
}

@Suite struct KeyringTests {
    @Test func loadsTheAlpineKeys() throws {
        let keyring = try Keyring(directory: Fixtures.url("keys/alpine").path)
        #expect(keyring.names.count == 20)
        #expect(keyring.key(named: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub") != nil)
    }

    @Test func invalidPEM() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("broken.rsa.pub", text: "-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n")
        #expect { try Keyring(directory: scratch.url.path) } throws: { error in
            guard let error = error as? APKError else { return false }
            return error.kind == .keyring && error.source == scratch.path("broken.rsa.pub") && error.message.contains("not a PEM public key")
        }
        try scratch.write("garbage.rsa", text: "hello")
        #expect { try SigningKey(file: scratch.path("garbage.rsa")) } throws: { ($0 as? APKError)?.kind == .keyring }
    }

    @Test func keyOfTheWrongType() throws {
        let scratch = try ScratchDirectory()
        let ecKey = try P256PrivateKey.generate()
        try scratch.write("ec.rsa.pub", text: ecKey.publicKey.pemRepresentation)
        #expect { try Keyring(directory: scratch.url.path) } throws: { error in
            guard let error = error as? APKError else { return false }
            return error.kind == .keyring && error.message.contains("not an RSA public key")
        }
        try scratch.write("ec.rsa", text: try ecKey.pemRepresentation)
        #expect { try SigningKey(file: scratch.path("ec.rsa")) } throws: { error in
            (error as? APKError)?.message.contains("not an RSA private key") == true
        }
    }

    @Test func missingDirectory() {
        #expect { try Keyring(directory: "/nonexistent/keys") } throws: { ($0 as? APKError)?.kind == .keyring }
    }

    @Test func keyNamesFollowTheFileName() throws {
        let scratch = try ScratchDirectory()
        let files = try KeyGeneration.writeRSAKeyPair(pathPrefix: scratch.path("builder@example.com-1"), bitCount: 2048)
        #expect(files.privateKeyPath == scratch.path("builder@example.com-1.rsa"))
        let key = try SigningKey(file: files.privateKeyPath)
        #expect(key.keyName == "builder@example.com-1.rsa.pub")
        let keyring = try Keyring(directory: scratch.url.path)
        #expect(keyring.names == ["builder@example.com-1.rsa.pub"])
        #expect(keyring.key(named: key.keyName) == key.publicKey)
        let attributes = try FileManager.default.attributesOfItem(atPath: files.privateKeyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect { try KeyGeneration.writeRSAKeyPair(pathPrefix: scratch.path("builder@example.com-1"), bitCount: 2048) } throws: {
            ($0 as? APKError)?.message.contains("refusing to overwrite") == true
        }
    }
}
