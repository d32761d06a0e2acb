import Foundation
import Testing
import TestSupport
import DistillCrypto

/// A signed index from the fixtures and the folder holding the keys it names.
struct SignedIndex: Sendable, CustomTestStringConvertible {
    let index: String
    let keyFolder: String
    var testDescription: String { index }

    static let all: [SignedIndex] = [
        SignedIndex(index: "alpine/v3.16-x86_64-main/APKINDEX.tar.gz", keyFolder: "keys/alpine"),
        SignedIndex(index: "alpine/v3.4-x86_64-main/APKINDEX.tar.gz", keyFolder: "keys/alpine"),
        SignedIndex(index: "alpine/v3.14-armv7-main/APKINDEX.tar.gz", keyFolder: "keys/alpine"),
        SignedIndex(index: "alpine/v3.14-armv7-community/APKINDEX.tar.gz", keyFolder: "keys/alpine"),
        SignedIndex(index: "alpine/v3.17-aarch64-main/APKINDEX.tar.gz", keyFolder: "keys/alpine"),
        SignedIndex(index: "alpine/v3.18-aarch64-main/APKINDEX.tar.gz", keyFolder: "keys/alpine"),
        SignedIndex(index: "rsa256-test/APKINDEX.tar.gz", keyFolder: "rsa256-test"),
        SignedIndex(index: "chainguard-multisig-rsa256/APKINDEX.tar.gz", keyFolder: "chainguard-multisig-rsa256/keys"),
    ]
}

/// What the independent splitter found in an index's first gzip member.
private struct SignatureMember: Decodable {
    struct Entry: Decodable {
        let name: String
        let signature: String
    }
    /// Offset of the first byte after the signature member: the signed data starts here.
    let end: Int
    let entries: [Entry]
}

/// Splits off the first gzip member with Python's zlib (this module has no gzip reader) and
/// lists the tar entries inside it, with their contents in base64.
private let splitter = """
    import base64, json, sys, zlib
    data = open(sys.argv[1], "rb").read()
    stream = zlib.decompressobj(wbits=31)
    tar = stream.decompress(data) + stream.flush()
    if not stream.eof:
        sys.exit("the first gzip member is truncated")
    entries, offset = [], 0
    while offset + 512 <= len(tar) and tar[offset:offset + 512].strip(b"\\0"):
        header = tar[offset:offset + 512]
        name = header[0:100].rstrip(b"\\0").decode()
        size = int(header[124:136].strip(b"\\0 ") or b"0", 8)
        body = tar[offset + 512:offset + 512 + size]
        entries.append({"name": name, "signature": base64.b64encode(body).decode()})
        offset += 512 + (size + 511) // 512 * 512
    print(json.dumps({"end": len(data) - len(stream.unused_data), "entries": entries}))
    """

@Suite struct APKIndexSignatureTests {
    /// Every signature in every fixture index verifies, over the rest of the file hashed as a
    /// stream and over the bytes directly; one changed byte in the signed data or the
    /// signature makes it false.
    @Test(arguments: SignedIndex.all)
    func realIndexSignaturesVerify(_ fixture: SignedIndex) throws {
        let scratch = try ScratchDirectory()
        let output = try ExternalTool.run("python3", ["-c", splitter, Fixtures.url(fixture.index).path], in: scratch)
        let member = try JSONDecoder().decode(SignatureMember.self, from: output.standardOutput)
        try #require(!member.entries.isEmpty)
        let file = [UInt8](try Fixtures.data(fixture.index))
        try #require(member.end > 0 && member.end < file.count)
        let signed = file[member.end...]

        for entry in member.entries {
            let algorithm: DigestAlgorithm
            let keyName: String
            if entry.name.hasPrefix(".SIGN.RSA.") {
                (algorithm, keyName) = (.sha1, String(entry.name.dropFirst(".SIGN.RSA.".count)))
            } else if entry.name.hasPrefix(".SIGN.RSA256.") {
                (algorithm, keyName) = (.sha256, String(entry.name.dropFirst(".SIGN.RSA256.".count)))
            } else {
                Issue.record("unexpected signature entry \(entry.name)")
                continue
            }
            let keyText = String(decoding: try Fixtures.data("\(fixture.keyFolder)/\(keyName)"), as: UTF8.self)
            let key = try RSAPublicKey(pemRepresentation: keyText)
            let signature = try Base64.decode(entry.signature)

            // As the APK reader will do it: hash while streaming, then verify the digest.
            var hasher = DigestHasher(algorithm)
            file.withUnsafeBytes { buffer in
                var offset = member.end
                while offset < buffer.count {
                    let next = min(offset + 65_536, buffer.count)
                    hasher.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<next]))
                    offset = next
                }
            }
            let digest = hasher.finalize()
            #expect(try key.isValidSignature(signature, for: digest), "\(entry.name)")
            #expect(try key.isValidSignature(signature, for: signed, digest: algorithm), "\(entry.name)")

            var tampered = Array(signed)
            tampered[tampered.count / 2] ^= 0x20
            #expect(try !key.isValidSignature(signature, for: tampered, digest: algorithm))
            #expect(try !key.isValidSignature(signature, for: algorithm.hash(tampered)))
            var badSignature = signature
            badSignature[badSignature.count - 1] ^= 0x01
            #expect(try !key.isValidSignature(badSignature, for: digest))
        }
    }

    /// The v3.16 index is signed by 6165ee59; every other Alpine key must reject it.
    @Test func otherAlpineKeysReject() throws {
        let scratch = try ScratchDirectory()
        let fixture = SignedIndex.all[0]
        let output = try ExternalTool.run("python3", ["-c", splitter, Fixtures.url(fixture.index).path], in: scratch)
        let member = try JSONDecoder().decode(SignatureMember.self, from: output.standardOutput)
        let entry = try #require(member.entries.first)
        #expect(entry.name == ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub")
        let signature = try Base64.decode(entry.signature)
        let digest = DigestAlgorithm.sha1.hash(try Fixtures.data(fixture.index)[member.end...])

        let keyNames = try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("keys/alpine").path).sorted()
        #expect(keyNames.count == 20)
        var accepted: [String] = []
        for name in keyNames {
            let key = try RSAPublicKey(pemRepresentation: String(decoding: try Fixtures.data("keys/alpine/\(name)"), as: UTF8.self))
            // Keys of another size cannot take this signature at all; that is the documented error.
            guard key.signatureByteCount == signature.count else {
                #expect(throws: CryptoError.self) { try key.isValidSignature(signature, for: digest) }
                continue
            }
            if try key.isValidSignature(signature, for: digest) { accepted.append(name) }
        }
        #expect(accepted == ["alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub"])
    }
}
