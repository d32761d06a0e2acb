import TestSupport
import Foundation
import Testing
import DistillCrypto

private let message = Array("a cosign payload, signed as is".utf8)

@Suite struct Ed25519Tests {
    /// Swift signs, `openssl pkeyutl -verify -rawin` accepts; tampering is rejected by both.
    @Test func swiftSignaturesVerifyWithOpenSSL() throws {
        let key = try Ed25519PrivateKey.generate()
        let scratch = try ScratchDirectory()
        try scratch.write("message", message)
        try scratch.write("pub.pem", text: key.publicKey.pemRepresentation)
        let signature = try key.signature(for: message)
        #expect(signature.count == 64)
        try scratch.write("signature", signature)
        let verified = try ExternalTool.openssl(
            "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "message", "-sigfile", "signature",
            in: scratch
        )
        #expect(verified.text.contains("Signature Verified Successfully"))

        var tampered = signature
        tampered[5] ^= 0x01
        try scratch.write("tampered", tampered)
        let rejected = try ExternalTool.openssl(
            "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "message", "-sigfile", "tampered",
            in: scratch, expectSuccess: false
        )
        #expect(rejected.status != 0)
        #expect(try !key.publicKey.isValidSignature(tampered, for: message))
        #expect(try key.publicKey.isValidSignature(signature, for: message))
    }

    /// `openssl pkeyutl -sign -rawin` signatures verify in Swift, and Swift's signature of the
    /// same message with the same key is the same 64 bytes (Ed25519 is deterministic).
    @Test func opensslSignaturesVerify() throws {
        let keys = try KeyMaterial.shared.get()
        let scratch = try ScratchDirectory()
        try scratch.write("message", message)
        try ExternalTool.openssl(
            "pkeyutl", "-sign", "-inkey", keys.path("ed25519.pem"), "-rawin", "-in", "message", "-out", "signature",
            in: scratch
        )
        let signature = try scratch.read("signature")
        let publicKey = try Ed25519PublicKey(pemRepresentation: keys.text("ed25519-pub.pem"))
        #expect(try publicKey.isValidSignature(signature, for: message))
        #expect(try !publicKey.isValidSignature(signature, for: message + [0]))

        let privateKey = try Ed25519PrivateKey(pemRepresentation: keys.text("ed25519.pem"))
        #expect(privateKey.publicKey == publicKey)
        #expect(try privateKey.signature(for: message) == signature)
    }

    /// Exports equal `openssl pkey`'s, and read back as the same key.
    @Test func pemRoundTrips() throws {
        let key = try Ed25519PrivateKey.generate()
        let scratch = try ScratchDirectory()
        let privatePEM = try key.pemRepresentation
        try scratch.write("key.pem", text: privatePEM)
        #expect(try ExternalTool.openssl("pkey", "-in", "key.pem", in: scratch).text == privatePEM)
        let publicPEM = try ExternalTool.openssl("pkey", "-in", "key.pem", "-pubout", in: scratch).text
        #expect(publicPEM == key.publicKey.pemRepresentation)
        #expect(try Ed25519PrivateKey(pemRepresentation: privatePEM).publicKey == key.publicKey)
        #expect(try Ed25519PublicKey(derRepresentation: key.publicKey.derRepresentation) == key.publicKey)
    }

    /// RFC 8032 §7.1 test 1 (the empty message), with the key wrapped as RFC 8410 PKCS#8 and
    /// SubjectPublicKeyInfo: the derived public key and the signature are the published bytes.
    @Test func rfc8032TestVector1() throws {
        let seed = try Hex.decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        let publicKey = try Hex.decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        let signature = try Hex.decode(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        let pkcs8Prefix = try Hex.decode("302e020100300506032b657004220420")
        let spkiPrefix = try Hex.decode("302a300506032b6570032100")

        let key = try Ed25519PrivateKey(pemRepresentation: PEMDocument(label: "PRIVATE KEY", der: pkcs8Prefix + seed).pemRepresentation)
        #expect(key.publicKey.derRepresentation == spkiPrefix + publicKey)
        #expect(try key.signature(for: [UInt8]()) == signature)
        #expect(try key.publicKey.isValidSignature(signature, for: [UInt8]()))
        #expect(try !key.publicKey.isValidSignature(signature, for: [UInt8(0x72)]))
        #expect(try key.pemRepresentation == PEMDocument(label: "PRIVATE KEY", der: pkcs8Prefix + seed).pemRepresentation)
    }

    @Test(arguments: [0, 32, 63, 65, 128])
    func wrongLengthSignaturesAreErrors(_ length: Int) throws {
        let key = try Ed25519PrivateKey.generate()
        let error = #expect(throws: CryptoError.self) {
            try key.publicKey.isValidSignature([UInt8](repeating: 1, count: length), for: message)
        }
        #expect(error?.kind == .malformedSignature)
    }

    @Test(arguments: ["ed448.pem", "ec.pem", "rsa.pem"])
    func otherKeysAreRefused(_ keyFile: String) throws {
        let keys = try KeyMaterial.shared.get()
        let error = #expect(throws: CryptoError.self) { try Ed25519PrivateKey(pemRepresentation: keys.text(keyFile)) }
        #expect(error?.kind == .wrongKeyType)
        let publicFile = keyFile.replacingOccurrences(of: ".pem", with: "-pub.pem")
        let publicError = #expect(throws: CryptoError.self) {
            try Ed25519PublicKey(pemRepresentation: keys.text(publicFile))
        }
        #expect(publicError?.kind == .wrongKeyType)
    }
}
