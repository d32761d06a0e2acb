import TestSupport
import Foundation
import Testing
import DistillCrypto

/// 100 kB of text-like bytes to sign.
private let message: [UInt8] = (0..<100_000).map { UInt8(ascii: "a") + UInt8(truncatingIfNeeded: ($0 * 31) % 26) }

private func flipped(_ bytes: [UInt8], at index: Int) -> [UInt8] {
    var copy = bytes
    copy[index] ^= 0x01
    return copy
}

@Suite struct RSATests {
    /// `openssl dgst -sign` signatures verify over the message and over a streamed digest; a
    /// flipped bit in the signature or the message, or another digest algorithm, gives false.
    @Test(arguments: DigestAlgorithm.allCases)
    func opensslSignaturesVerify(_ algorithm: DigestAlgorithm) throws {
        let keys = try KeyMaterial.shared.get()
        let scratch = try ScratchDirectory()
        try scratch.write("message", message)
        try ExternalTool.openssl(
            "dgst", "-\(algorithm)", "-sign", keys.path("rsa.pem"), "-out", "signature", "message",
            in: scratch
        )
        let signature = try scratch.read("signature")
        let publicKey = try RSAPublicKey(pemRepresentation: keys.text("rsa-pub.pem"))

        #expect(try publicKey.isValidSignature(signature, for: message, digest: algorithm))
        var hasher = DigestHasher(algorithm)
        for start in stride(from: 0, to: message.count, by: 7777) {
            hasher.update(message[start..<min(start + 7777, message.count)])
        }
        #expect(try publicKey.isValidSignature(signature, for: hasher.finalize()))

        #expect(try !publicKey.isValidSignature(flipped(signature, at: 100), for: message, digest: algorithm))
        #expect(try !publicKey.isValidSignature(flipped(signature, at: 0), for: algorithm.hash(message)))
        #expect(try !publicKey.isValidSignature(signature, for: flipped(message, at: 50_000), digest: algorithm))
        let other: DigestAlgorithm = algorithm == .sha256 ? .sha512 : .sha256
        #expect(try !publicKey.isValidSignature(signature, for: message, digest: other))
        #expect(try !publicKey.isValidSignature(signature, for: other.hash(message)))
    }

    /// Swift signatures (message and digest forms) are byte-identical to `openssl dgst -sign`
    /// (PKCS#1 v1.5 is deterministic) and `openssl dgst -verify` accepts them.
    @Test(arguments: DigestAlgorithm.allCases)
    func swiftSignaturesVerifyWithOpenSSL(_ algorithm: DigestAlgorithm) throws {
        let keys = try KeyMaterial.shared.get()
        let scratch = try ScratchDirectory()
        try scratch.write("message", message)
        let privateKey = try RSAPrivateKey(pemRepresentation: keys.text("rsa.pem"))

        let overMessage = try privateKey.signature(for: message, digest: algorithm)
        let overDigest = try privateKey.signature(for: algorithm.hash(message))
        #expect(overMessage.count == 256)
        #expect(overMessage == overDigest)

        try scratch.write("signature", overMessage)
        let verified = try ExternalTool.openssl(
            "dgst", "-\(algorithm)", "-verify", keys.path("rsa-pub.pem"), "-signature", "signature", "message",
            in: scratch
        )
        #expect(verified.text.contains("Verified OK"))

        try ExternalTool.openssl(
            "dgst", "-\(algorithm)", "-sign", keys.path("rsa.pem"), "-out", "openssl-signature", "message",
            in: scratch
        )
        #expect(try scratch.read("openssl-signature") == overMessage)

        try scratch.write("bad-signature", flipped(overMessage, at: 200))
        let rejected = try ExternalTool.openssl(
            "dgst", "-\(algorithm)", "-verify", keys.path("rsa-pub.pem"), "-signature", "bad-signature", "message",
            in: scratch, expectSuccess: false
        )
        #expect(rejected.status != 0)
    }

    /// Bytes of the wrong length cannot be a signature by this key: a `malformedSignature`
    /// error (documented on `isValidSignature`), in both forms.
    @Test(arguments: [0, 1, 255, 257, 512])
    func wrongLengthSignaturesAreErrors(_ length: Int) throws {
        let keys = try KeyMaterial.shared.get()
        let publicKey = try RSAPublicKey(pemRepresentation: keys.text("rsa-pub.pem"))
        #expect(publicKey.signatureByteCount == 256)
        let signature = [UInt8](repeating: 0x42, count: length)
        let overMessage = #expect(throws: CryptoError.self) {
            try publicKey.isValidSignature(signature, for: message, digest: .sha256)
        }
        #expect(overMessage?.kind == .malformedSignature)
        #expect(overMessage?.message.contains("\(length) bytes") == true)
        let overDigest = #expect(throws: CryptoError.self) {
            try publicKey.isValidSignature(signature, for: DigestAlgorithm.sha1.hash(message))
        }
        #expect(overDigest?.kind == .malformedSignature)
    }

    /// A right-length signature of garbage is simply false.
    @Test func garbageOfTheRightLengthIsFalse() throws {
        let keys = try KeyMaterial.shared.get()
        let publicKey = try RSAPublicKey(pemRepresentation: keys.text("rsa-pub.pem"))
        let garbage = [UInt8](repeating: 0x42, count: 256)
        #expect(try !publicKey.isValidSignature(garbage, for: message, digest: .sha1))
        #expect(try !publicKey.isValidSignature(garbage, for: DigestAlgorithm.sha1.hash(message)))
    }

    /// `PUBLIC KEY` (PKIX, `-pubout`) and `RSA PUBLIC KEY` (PKCS#1, `-RSAPublicKey_out`) give the
    /// same key, whose export is exactly what `openssl rsa -pubout` writes.
    @Test func bothPublicKeyFormsLoad() throws {
        let keys = try KeyMaterial.shared.get()
        let pkix = try RSAPublicKey(pemRepresentation: keys.text("rsa-pub.pem"))
        let pkcs1 = try RSAPublicKey(pemRepresentation: keys.text("rsa-pub-pkcs1.pem"))
        #expect(try keys.text("rsa-pub-pkcs1.pem").hasPrefix("-----BEGIN RSA PUBLIC KEY-----"))
        #expect(pkix == pkcs1)
        #expect(pkix.bitCount == 2048)
        #expect(pkcs1.pemRepresentation == (try keys.text("rsa-pub.pem")))
        #expect(try RSAPublicKey(derRepresentation: pkix.derRepresentation) == pkix)
    }

    /// PKCS#1 (`RSA PRIVATE KEY`) and PKCS#8 (`PRIVATE KEY`) private keys load as the same key;
    /// the PKCS#8 export is byte-identical to OpenSSL's.
    @Test func bothPrivateKeyFormsLoad() throws {
        let keys = try KeyMaterial.shared.get()
        #expect(try keys.text("rsa-pkcs1.pem").hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(try keys.text("rsa.pem").hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let pkcs8 = try RSAPrivateKey(pemRepresentation: keys.text("rsa.pem"))
        let pkcs1 = try RSAPrivateKey(pemRepresentation: keys.text("rsa-pkcs1.pem"))
        let expectedPublic = try RSAPublicKey(pemRepresentation: keys.text("rsa-pub.pem"))
        #expect(pkcs8.publicKey == expectedPublic)
        #expect(pkcs1.publicKey == expectedPublic)
        #expect(try pkcs1.pemRepresentation == keys.text("rsa.pem"))
        #expect(try pkcs8.pemRepresentation == keys.text("rsa.pem"))
    }

    /// Generated keys are valid for OpenSSL, of the requested size, and sign for it.
    @Test(arguments: [2048, 4096])
    func generatedKeysWorkWithOpenSSL(_ bitCount: Int) throws {
        let key = try RSAPrivateKey.generate(bitCount: bitCount)
        #expect(key.bitCount == bitCount)
        #expect(key.publicKey.signatureByteCount == bitCount / 8)
        let scratch = try ScratchDirectory()
        try scratch.write("key.pem", text: key.pemRepresentation)
        try scratch.write("pub.pem", text: key.publicKey.pemRepresentation)
        let check = try ExternalTool.openssl("pkey", "-in", "key.pem", "-check", "-noout", in: scratch)
        #expect(check.text.contains("Key is valid"))
        let text = try ExternalTool.openssl("pkey", "-in", "key.pem", "-text", "-noout", in: scratch)
        #expect(text.text.contains("Private-Key: (\(bitCount) bit"))
        let derivedPublic = try ExternalTool.openssl("pkey", "-in", "key.pem", "-pubout", in: scratch)
        #expect(derivedPublic.text == key.publicKey.pemRepresentation)

        try scratch.write("message", message)
        try scratch.write("signature", key.signature(for: message, digest: .sha256))
        let verified = try ExternalTool.openssl(
            "dgst", "-sha256", "-verify", "pub.pem", "-signature", "signature", "message", in: scratch
        )
        #expect(verified.text.contains("Verified OK"))
    }

    @Test(arguments: [512, 1024, 2047, 8192])
    func unsupportedSizesAreRefused(_ bitCount: Int) {
        let error = #expect(throws: CryptoError.self) { try RSAPrivateKey.generate(bitCount: bitCount) }
        #expect(error?.kind == .unsupportedParameter)
    }

    /// An EC or Ed25519 key where RSA is required is a `wrongKeyType` error that names the key.
    @Test func otherKeyTypesAreRefused() throws {
        let keys = try KeyMaterial.shared.get()
        let publicError = #expect(throws: CryptoError.self) {
            try RSAPublicKey(pemRepresentation: keys.text("ec-pub.pem"))
        }
        #expect(publicError?.kind == .wrongKeyType)
        #expect(publicError?.message == "expected an RSA public key, got EC prime256v1")
        let privateError = #expect(throws: CryptoError.self) {
            try RSAPrivateKey(pemRepresentation: keys.text("ec-sec1.pem"))
        }
        #expect(privateError?.kind == .wrongKeyType)
        let edError = #expect(throws: CryptoError.self) {
            try RSAPrivateKey(pemRepresentation: keys.text("ed25519.pem"))
        }
        #expect(edError?.kind == .wrongKeyType)
    }
}
