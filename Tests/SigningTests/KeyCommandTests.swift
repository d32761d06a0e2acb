import DistillCrypto
import Foundation
import OCI
import Signing
import TestSupport
import Testing

/// One `distill keygen --type` case and what openssl must say the key is.
struct KeygenCase: Sendable, CustomTestStringConvertible {
    let type: String
    let arguments: [String]
    let opensslDescription: String
    var testDescription: String { type }
}

/// A key file `distill sign` or `distill verify` must refuse, and the one-line complaint.
struct BadKeyCase: Sendable, CustomTestStringConvertible {
    let name: String
    let command: String
    let make: @Sendable (ScratchDirectory) throws -> Void
    let complaint: String
    var testDescription: String { name }
}

@Suite("distill keygen, sign and verify on bad keys")
struct KeyCommandTests {
    static let keygenCases: [KeygenCase] = [
        KeygenCase(type: "ecdsa-p256", arguments: [], opensslDescription: "ASN1 OID: prime256v1"),
        KeygenCase(type: "rsa", arguments: ["--bits", "2048"], opensslDescription: "Private-Key: (2048 bit, 2 primes)"),
        KeygenCase(type: "ed25519", arguments: [], opensslDescription: "ED25519 Private-Key:"),
    ]

    @Test("keygen --type writes NAME.key (0600, PKCS#8) and NAME.pub (its SubjectPublicKeyInfo), as openssl reads them",
          arguments: keygenCases)
    func keygenWritesImageKeys(_ keyCase: KeygenCase) throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path("keys"), withIntermediateDirectories: true)
        let output = try DistillBinary.run(["keygen", "--type", keyCase.type] + keyCase.arguments + ["keys/image"], in: scratch)
        #expect(output.text == "private key: keys/image.key\npublic key: keys/image.pub\n")
        let privateMode = try FileManager.default.attributesOfItem(atPath: scratch.path("keys/image.key"))[.posixPermissions] as? Int
        #expect(privateMode == 0o600)
        #expect(try scratch.readText("keys/image.key").hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(try scratch.readText("keys/image.pub").hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        let described = try ExternalTool.openssl("pkey", "-in", "keys/image.key", "-noout", "-text", in: scratch)
        #expect(described.text.contains(keyCase.opensslDescription), "\(described.text.prefix(200))")
        let derived = try ExternalTool.openssl("pkey", "-in", "keys/image.key", "-pubout", in: scratch)
        #expect(derived.text == (try scratch.readText("keys/image.pub")))

        let again = try DistillBinary.run(["keygen", "--type", keyCase.type, "keys/image"], in: scratch, expectSuccess: false)
        #expect(again.status != 0)
        #expect(again.standardError.contains("keys/image.key: refusing to overwrite an existing key file"))
    }

    @Test("keygen without --type still makes an apk key, NAME.rsa and NAME.rsa.pub")
    func keygenKeepsApkKeys() throws {
        let scratch = try ScratchDirectory()
        let output = try DistillBinary.run(["keygen", "--bits", "2048", "builder"], in: scratch)
        #expect(output.text == "private key: builder.rsa\npublic key: builder.rsa.pub\n")
        #expect(try ExternalTool.openssl("rsa", "-in", "builder.rsa", "-check", "-noout", in: scratch).status == 0)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("builder.key")))
    }

    static let badKeys: [BadKeyCase] = [
        BadKeyCase(name: "not PEM", command: "sign", make: { try $0.write("k", text: "this is no key\n") },
                   complaint: "k: not a PEM key file: no '-----BEGIN' line: the text is not PEM"),
        BadKeyCase(name: "binary", command: "sign", make: { try $0.write("k", [0xFF, 0xFE, 0x00, 0x80]) },
                   complaint: "k: not a PEM key file (not text)"),
        BadKeyCase(name: "P-384", command: "sign", make: { scratch in
            try ExternalTool.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "k", in: scratch)
        }, complaint: "k: EC secp384r1 keys are not supported (supported: RSA, ECDSA P-256, Ed25519)"),
        BadKeyCase(name: "public key to sign", command: "sign", make: { scratch in
            try ExternalTool.openssl("genpkey", "-algorithm", "ED25519", "-out", "private.pem", in: scratch)
            try ExternalTool.openssl("pkey", "-in", "private.pem", "-pubout", "-out", "k", in: scratch)
        }, complaint: "k: this is a public key; signing needs the private key (NAME.key)"),
        BadKeyCase(name: "cosign's encrypted key", command: "sign", make: { scratch in
            try scratch.write("k", text: "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
        }, complaint: "k: cosign's encrypted key format is not supported"),
        BadKeyCase(name: "private key to verify", command: "verify", make: { scratch in
            try ExternalTool.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k", in: scratch)
        }, complaint: "k: this is a private key; verification takes the public key (NAME.pub)"),
        BadKeyCase(name: "missing file", command: "verify", make: { _ in }, complaint: "k: cannot read the key file"),
    ]

    @Test("bad key files fail with one line naming the file and the problem", arguments: badKeys)
    func badKeyFiles(_ row: BadKeyCase) async throws {
        let layout = try await SignedLayout()
        try row.make(layout.scratch)
        let output = try DistillBinary.run([row.command, "--key", "k", layout.directory], in: layout.scratch, expectSuccess: false)
        #expect(output.status != 0)
        let lines = output.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(output.standardError)")
        #expect(output.standardError.contains(row.complaint), "\(output.standardError)")
        #expect(output.text.isEmpty)
    }

    @Test("sign refuses an SBOM directory that lacks a file, a stale SBOM, and an unnamed layout image without --identity")
    func badSigningInputs() async throws {
        let layout = try await SignedLayout()
        let arm = layout.fixture.image.images[1].manifest.descriptor.digest
        let amd = layout.fixture.image.images[0].manifest.descriptor.digest
        try FileManager.default.removeItem(atPath: layout.scratch.path("sboms/sbom-aarch64.spdx.json"))
        let missing = try DistillBinary.run(["sign", "--key", layout.key.privatePath, "--sbom-path", layout.sbomDirectory, layout.directory],
                                            in: layout.scratch, expectSuccess: false)
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("sboms/sbom-aarch64.spdx.json: missing: no SBOM for \(arm) (linux/arm64)"), "\(missing.standardError)")

        try FileManager.default.copyItem(atPath: layout.scratch.path("sboms/sbom-x86_64.spdx.json"), toPath: layout.scratch.path("sboms/sbom-aarch64.spdx.json"))
        let stale = try DistillBinary.run(["sign", "--key", layout.key.privatePath, "--sbom-path", layout.sbomDirectory, layout.directory],
                                          in: layout.scratch, expectSuccess: false)
        #expect(stale.status != 0)
        #expect(stale.standardError.contains("SBOM for \(arm) (linux/arm64): the SBOM describes \(amd), not \(arm)"), "\(stale.standardError)")
        // Nothing was signed: every SBOM is checked before the first artifact is written.
        #expect(try layout.indexEntries().count == 1)

        let renamed = try await SignedLayout()
        let writer = try OCILayoutWriter(directory: renamed.directory, indexMode: .update)
        let entry = try #require(await writer.indexEntries.first)
        try await writer.removeIndexEntries { _ in true }
        try await writer.setTag("1.0", to: RawManifest(mediaType: entry.mediaType, bytes: try renamed.scratch.read("layout/blobs/sha256/\(entry.digest.hex)")))
        try await writer.commit()
        let unnamed = try DistillBinary.run(["sign", "--key", renamed.key.privatePath, renamed.directory], in: renamed.scratch, expectSuccess: false)
        #expect(unnamed.status != 0)
        #expect(unnamed.standardError.contains("the layout's image is named \"1.0\", which is not a full reference; pass --identity"), "\(unnamed.standardError)")
        let named = try DistillBinary.run(["sign", "--key", renamed.key.privatePath, "--identity", "registry.example/app:1.0", renamed.directory],
                                          in: renamed.scratch, expectSuccess: false)
        #expect(named.status == 0, "\(named.standardError)")
        let verified = try Cosign.run(["verify", "--key", renamed.key.publicPath, "--insecure-ignore-tlog", "--local-image", renamed.directory],
                                      in: renamed.scratch)
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.text.contains("\"docker-reference\":\"registry.example/app:1.0\""))
    }
}
