import TestSupport
import Foundation
import Testing
import DistillCrypto

/// A cosign-like payload.
private let payload = Array(#"{"critical":{"identity":{"docker-reference":"registry.example/app"},"image":{"docker-manifest-digest":"sha256:0123"},"type":"cosign container image signature"},"optional":null}"#.utf8)

/// The raw `r‖s` form of a DER ECDSA signature, read with `openssl asn1parse` (an independent parser).
private func rawSignature(fromDERFile name: String, in scratch: ScratchDirectory) throws -> [UInt8] {
    let parsed = try ExternalTool.openssl("asn1parse", "-inform", "DER", "-in", name, in: scratch).text
    let integers = parsed.split(separator: "\n").compactMap { line -> [UInt8]? in
        guard line.contains("INTEGER"), let hex = line.split(separator: ":").last else { return nil }
        var bytes = (try? Hex.decode(hex.trimmingCharacters(in: .whitespaces))) ?? []
        while bytes.count > 32 && bytes.first == 0 { bytes.removeFirst() }
        return [UInt8](repeating: 0, count: 32 - bytes.count) + bytes
    }
    guard integers.count == 2 else { throw ExternalTool.Failure(description: "asn1parse: \(parsed)") }
    return integers[0] + integers[1]
}

@Suite struct ECDSATests {
    /// Swift signs, `openssl dgst -sha256 -verify` and `openssl pkeyutl -verify` accept.
    @Test func swiftSignaturesVerifyWithOpenSSL() throws {
        let key = try P256PrivateKey.generate()
        let scratch = try ScratchDirectory()
        try scratch.write("payload", payload)
        try scratch.write("pub.pem", text: key.publicKey.pemRepresentation)
        let signature = try key.signature(for: payload)
        try scratch.write("signature", signature)

        let verified = try ExternalTool.openssl(
            "dgst", "-sha256", "-verify", "pub.pem", "-signature", "signature", "payload", in: scratch
        )
        #expect(verified.text.contains("Verified OK"))
        try scratch.write("digest", DigestAlgorithm.sha256.hash(payload).bytes)
        let pkeyutl = try ExternalTool.openssl(
            "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-in", "digest", "-sigfile", "signature", in: scratch
        )
        #expect(pkeyutl.text.contains("Signature Verified Successfully"))

        #expect(try key.publicKey.isValidSignature(signature, for: payload))
        // Randomized: signing again gives different bytes that verify too.
        let again = try key.signature(for: payload)
        #expect(again != signature)
        #expect(try key.publicKey.isValidSignature(again, for: payload))
    }

    /// `openssl dgst -sign` signatures verify as DER and, converted to raw `r‖s`, as cosign's
    /// fallback form; tampering gives false.
    @Test(arguments: ["ec-sec1.pem", "ec.pem"])
    func opensslSignaturesVerify(_ keyFile: String) throws {
        let keys = try KeyMaterial.shared.get()
        let scratch = try ScratchDirectory()
        try scratch.write("payload", payload)
        try ExternalTool.openssl(
            "dgst", "-sha256", "-sign", keys.path(keyFile), "-out", "signature", "payload", in: scratch
        )
        let der = try scratch.read("signature")
        let raw = try rawSignature(fromDERFile: "signature", in: scratch)
        #expect(raw.count == 64)

        let publicKey = try P256PrivateKey(pemRepresentation: keys.text(keyFile)).publicKey
        #expect(try publicKey.isValidSignature(der, for: payload))
        #expect(try publicKey.isValidSignature(raw, for: payload))

        var tamperedPayload = payload
        tamperedPayload[10] ^= 0x01
        #expect(try !publicKey.isValidSignature(der, for: tamperedPayload))
        #expect(try !publicKey.isValidSignature(raw, for: tamperedPayload))
        var tamperedRaw = raw
        tamperedRaw[40] ^= 0x01
        #expect(try !publicKey.isValidSignature(tamperedRaw, for: payload))
        // The last DER byte is inside s: still DER, no longer the right value.
        var tamperedDER = der
        tamperedDER[tamperedDER.count - 1] ^= 0x01
        #expect(try !publicKey.isValidSignature(tamperedDER, for: payload))
    }

    /// Bytes that are neither DER nor 64 bytes long are `malformedSignature`; 64 bytes of
    /// anything are a raw signature that does not verify.
    @Test func malformedSignaturesAreErrors() throws {
        let key = try P256PrivateKey.generate()
        for bad: [UInt8] in [[], [0x30], [0x30, 0x02, 0x02, 0x01], [UInt8](repeating: 7, count: 63), [UInt8](repeating: 7, count: 65)] {
            let error = #expect(throws: CryptoError.self) { try key.publicKey.isValidSignature(bad, for: payload) }
            #expect(error?.kind == .malformedSignature)
        }
        #expect(try !key.publicKey.isValidSignature([UInt8](repeating: 7, count: 64), for: payload))
        #expect(try !key.publicKey.isValidSignature([UInt8](repeating: 0, count: 64), for: payload))
        // Valid DER followed by a stray byte is not strict DER.
        var trailing = try key.signature(for: payload)
        trailing.append(0)
        let error = #expect(throws: CryptoError.self) { try key.publicKey.isValidSignature(trailing, for: payload) }
        #expect(error?.kind == .malformedSignature)
    }

    /// PKCS#8 and SPKI exports are exactly what `openssl pkey` writes for the same key, and
    /// reading them back gives the same key.
    @Test func pemRoundTrips() throws {
        let key = try P256PrivateKey.generate()
        let scratch = try ScratchDirectory()
        let privatePEM = try key.pemRepresentation
        #expect(privatePEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        try scratch.write("key.pem", text: privatePEM)
        let rewritten = try ExternalTool.openssl("pkey", "-in", "key.pem", in: scratch).text
        #expect(rewritten == privatePEM)
        let publicPEM = try ExternalTool.openssl("pkey", "-in", "key.pem", "-pubout", in: scratch).text
        #expect(publicPEM == key.publicKey.pemRepresentation)

        let reloaded = try P256PrivateKey(pemRepresentation: privatePEM)
        #expect(reloaded.publicKey == key.publicKey)
        #expect(try P256PublicKey(pemRepresentation: publicPEM) == key.publicKey)
        #expect(try P256PublicKey(derRepresentation: key.publicKey.derRepresentation) == key.publicKey)
        #expect(try key.publicKey.isValidSignature(reloaded.signature(for: payload), for: payload))

        let text = try ExternalTool.openssl("pkey", "-in", "key.pem", "-text", "-noout", in: scratch).text
        #expect(text.contains("NIST CURVE: P-256"))
    }

    /// SEC 1 (`EC PRIVATE KEY`) keys from `openssl ecparam` load and match their public key.
    @Test func sec1KeysLoad() throws {
        let keys = try KeyMaterial.shared.get()
        #expect(try keys.text("ec-sec1.pem").hasPrefix("-----BEGIN EC PRIVATE KEY-----"))
        let key = try P256PrivateKey(pemRepresentation: keys.text("ec-sec1.pem"))
        #expect(key.publicKey == (try P256PublicKey(pemRepresentation: keys.text("ec-sec1-pub.pem"))))
    }

    /// Other curves and key types are `wrongKeyType`.
    @Test(arguments: ["p384.pem", "rsa.pem", "ed25519.pem"])
    func otherKeysAreRefused(_ keyFile: String) throws {
        let keys = try KeyMaterial.shared.get()
        let privateError = #expect(throws: CryptoError.self) {
            try P256PrivateKey(pemRepresentation: keys.text(keyFile))
        }
        #expect(privateError?.kind == .wrongKeyType)
        let publicFile = keyFile.replacingOccurrences(of: ".pem", with: "-pub.pem")
        let publicError = #expect(throws: CryptoError.self) {
            try P256PublicKey(pemRepresentation: keys.text(publicFile))
        }
        #expect(publicError?.kind == .wrongKeyType)
    }
}
