import TestSupport
import Foundation
import Testing
import DistillCrypto

private let payload = Array(#"{"critical":{"type":"cosign container image signature"}}"#.utf8)

/// A key file made by openssl and the type it must be detected as.
struct DetectedKey: Sendable, CustomTestStringConvertible {
    let privateFile: String
    let publicFile: String
    let algorithm: KeyAlgorithm
    var testDescription: String { "\(privateFile) → \(algorithm)" }

    static let all: [DetectedKey] = [
        DetectedKey(privateFile: "rsa.pem", publicFile: "rsa-pub.pem", algorithm: .rsa),
        DetectedKey(privateFile: "rsa-pkcs1.pem", publicFile: "rsa-pub-pkcs1.pem", algorithm: .rsa),
        DetectedKey(privateFile: "ec.pem", publicFile: "ec-pub.pem", algorithm: .ecdsaP256),
        DetectedKey(privateFile: "ec-sec1.pem", publicFile: "ec-sec1-pub.pem", algorithm: .ecdsaP256),
        DetectedKey(privateFile: "ed25519.pem", publicFile: "ed25519-pub.pem", algorithm: .ed25519),
    ]
}

@Suite struct KeysTests {
    /// Any supported PEM loads as the right type; the pair signs and verifies; the public
    /// export equals `openssl pkey -pubout`.
    @Test(arguments: DetectedKey.all)
    func typesAreDetected(_ detected: DetectedKey) throws {
        let keys = try KeyMaterial.shared.get()
        let privateKey = try PrivateKey(pemRepresentation: keys.text(detected.privateFile))
        let publicKey = try PublicKey(pemRepresentation: keys.text(detected.publicFile))
        #expect(privateKey.algorithm == detected.algorithm)
        #expect(publicKey.algorithm == detected.algorithm)
        #expect(privateKey.publicKey == publicKey)
        #expect((privateKey.rsa != nil) == (detected.algorithm == .rsa))
        #expect((publicKey.rsa != nil) == (detected.algorithm == .rsa))

        let signature = try privateKey.signature(for: payload)
        #expect(try publicKey.isValidSignature(signature, for: payload))
        #expect(try !publicKey.isValidSignature(signature, for: payload + [0x0A]))

        let scratch = try ScratchDirectory()
        let expectedPublic = try ExternalTool.openssl("pkey", "-in", keys.path(detected.privateFile), "-pubout", in: scratch)
        #expect(publicKey.pemRepresentation == expectedPublic.text)
        #expect(try PublicKey(derRepresentation: publicKey.derRepresentation) == publicKey)
    }

    /// The type-detecting signature is what cosign verifies for each type, checked by openssl:
    /// RSA PKCS#1 v1.5 and ECDSA over SHA-256, Ed25519 over the message itself.
    @Test(arguments: KeyAlgorithm.allCases)
    func generatedKeysSignTheCosignWay(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        let scratch = try ScratchDirectory()
        try scratch.write("payload", payload)
        try scratch.write("pub.pem", text: key.publicKey.pemRepresentation)
        try scratch.write("signature", key.signature(for: payload))
        let verified: ExternalTool.Output
        switch algorithm {
        case .rsa, .ecdsaP256:
            verified = try ExternalTool.openssl(
                "dgst", "-sha256", "-verify", "pub.pem", "-signature", "signature", "payload", in: scratch
            )
            #expect(verified.text.contains("Verified OK"))
        case .ed25519:
            verified = try ExternalTool.openssl(
                "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "payload", "-sigfile", "signature",
                in: scratch
            )
            #expect(verified.text.contains("Signature Verified Successfully"))
        }

        let reloaded = try PrivateKey(pemRepresentation: key.pemRepresentation)
        #expect(reloaded.algorithm == algorithm)
        #expect(reloaded.publicKey == key.publicKey)
    }

    /// An empty message is a message like any other (OpenSSL may see a null pointer for it).
    /// Ed25519's empty message is RFC 8032's test 1, in ``Ed25519Tests``: `openssl pkeyutl
    /// -rawin` cannot read an empty file.
    @Test(arguments: [KeyAlgorithm.rsa, .ecdsaP256])
    func emptyMessagesSignAndVerify(_ algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let signature = try key.signature(for: [UInt8]())
        #expect(try key.publicKey.isValidSignature(signature, for: [UInt8]()))
        #expect(try !key.publicKey.isValidSignature(signature, for: [UInt8(0)]))
        let scratch = try ScratchDirectory()
        try scratch.write("empty", [UInt8]())
        try scratch.write("pub.pem", text: key.publicKey.pemRepresentation)
        try scratch.write("signature", signature)
        let verified = try ExternalTool.openssl(
            "dgst", "-sha256", "-verify", "pub.pem", "-signature", "signature", "empty", in: scratch
        )
        #expect(verified.text.contains("Verified OK"))
    }

    /// Keys Distill does not sign with are `wrongKeyType`, naming what they are.
    @Test(arguments: [("p384.pem", "secp384r1"), ("ed448.pem", "ED448")])
    func unsupportedTypesAreRefused(_ keyFile: String, _ named: String) throws {
        let keys = try KeyMaterial.shared.get()
        let privateError = #expect(throws: CryptoError.self) { try PrivateKey(pemRepresentation: keys.text(keyFile)) }
        #expect(privateError?.kind == .wrongKeyType)
        #expect(privateError?.message.contains(named) == true)
        let publicFile = keyFile.replacingOccurrences(of: ".pem", with: "-pub.pem")
        let publicError = #expect(throws: CryptoError.self) { try PublicKey(pemRepresentation: keys.text(publicFile)) }
        #expect(publicError?.kind == .wrongKeyType)
    }

    /// Keys are shared across tasks and used concurrently (each operation makes its own contexts).
    @Test func keysAreUsableFromManyTasksAtOnce() async throws {
        let key = try PrivateKey.generate(.ecdsaP256)
        let publicKey = key.publicKey
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let message = payload + [UInt8(index)]
                    return try publicKey.isValidSignature(key.signature(for: message), for: message)
                }
            }
            var all: [Bool] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results == [Bool](repeating: true, count: 16))
    }
}
