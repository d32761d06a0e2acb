import TestSupport
import Foundation
import Testing
import DistillCrypto

/// Text that must not load as a key, and the error kind it must give.
struct BadKeyText: Sendable, CustomTestStringConvertible {
    let name: String
    let kind: CryptoError.Kind
    let make: @Sendable (_ publicPEM: String, _ privatePEM: String) -> String
    let asPublicKey: Bool
    var testDescription: String { name }
}

private func dropping(lines range: Range<Int>, from text: String) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines.removeSubrange(range)
    return lines.joined(separator: "\n")
}

@Suite struct PEMTests {
    static let badTexts: [BadKeyText] = [
        BadKeyText(name: "not PEM", kind: .invalidPEM, make: { _, _ in "hello, world\n" }, asPublicKey: true),
        BadKeyText(name: "empty", kind: .invalidPEM, make: { _, _ in "" }, asPublicKey: false),
        BadKeyText(
            name: "truncated: no END line", kind: .invalidPEM,
            make: { pub, _ in String(pub.prefix(pub.count / 2)) }, asPublicKey: true
        ),
        BadKeyText(
            name: "truncated private key", kind: .invalidPEM,
            make: { _, key in String(key.prefix(300)) }, asPublicKey: false
        ),
        BadKeyText(
            name: "END label differs", kind: .invalidPEM,
            make: { pub, _ in pub.replacingOccurrences(of: "-----END PUBLIC KEY-----", with: "-----END PRIVATE KEY-----") },
            asPublicKey: true
        ),
        BadKeyText(
            name: "bad base64 in the body", kind: .invalidPEM,
            make: { pub, _ in pub.replacingOccurrences(of: "MII", with: "M*I") }, asPublicKey: true
        ),
        BadKeyText(
            name: "empty body", kind: .invalidPEM,
            make: { _, _ in "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n" }, asPublicKey: true
        ),
        BadKeyText(
            name: "body lines missing (DER cut short)", kind: .invalidKey,
            make: { pub, _ in dropping(lines: 2..<4, from: pub) }, asPublicKey: true
        ),
        BadKeyText(
            name: "private key where a public key is expected", kind: .invalidPEM,
            make: { _, key in key }, asPublicKey: true
        ),
        BadKeyText(
            name: "public key where a private key is expected", kind: .invalidPEM,
            make: { pub, _ in pub }, asPublicKey: false
        ),
        BadKeyText(
            name: "certificate label", kind: .invalidPEM,
            make: { pub, _ in pub.replacingOccurrences(of: "PUBLIC KEY", with: "CERTIFICATE") }, asPublicKey: true
        ),
        BadKeyText(
            name: "public key DER under a private key label", kind: .invalidKey,
            make: { pub, _ in pub.replacingOccurrences(of: "PUBLIC KEY", with: "PRIVATE KEY") }, asPublicKey: false
        ),
        BadKeyText(
            name: "random DER-looking bytes", kind: .invalidKey,
            make: { _, _ in PEMDocument(label: "PUBLIC KEY", der: [0x30, 0x03, 0x02, 0x01, 0x05]).pemRepresentation },
            asPublicKey: true
        ),
    ]

    /// Bad text fails with the documented kind whichever entry point reads it.
    @Test(arguments: badTexts)
    func badTextIsRefused(_ bad: BadKeyText) throws {
        let keys = try KeyMaterial.shared.get()
        let text = bad.make(try keys.text("rsa-pub.pem"), try keys.text("rsa.pem"))
        if bad.asPublicKey {
            let rsaError = #expect(throws: CryptoError.self) { try RSAPublicKey(pemRepresentation: text) }
            #expect(rsaError?.kind == bad.kind, "\(rsaError?.message ?? "")")
            let anyError = #expect(throws: CryptoError.self) { try PublicKey(pemRepresentation: text) }
            #expect(anyError?.kind == bad.kind, "\(anyError?.message ?? "")")
        } else {
            let rsaError = #expect(throws: CryptoError.self) { try RSAPrivateKey(pemRepresentation: text) }
            #expect(rsaError?.kind == bad.kind, "\(rsaError?.message ?? "")")
            let anyError = #expect(throws: CryptoError.self) { try PrivateKey(pemRepresentation: text) }
            #expect(anyError?.kind == bad.kind, "\(anyError?.message ?? "")")
        }
    }

    /// OpenSSL's reasons reach the message, and nothing stale accumulates: the same failure
    /// twice reports the same reasons.
    @Test func openSSLReasonsAreDrainedIntoTheError() throws {
        let garbage = PEMDocument(label: "PUBLIC KEY", der: [0x30, 0x03, 0x02, 0x01, 0x05]).pemRepresentation
        let first = try #require(throws: CryptoError.self) { try PublicKey(pemRepresentation: garbage) }
        #expect(first.message.contains("(openssl: error:"))
        let second = try #require(throws: CryptoError.self) { try PublicKey(pemRepresentation: garbage) }
        #expect(second.message == first.message)
    }

    /// Encrypted keys, in both the PKCS#8 and the legacy header form, are refused clearly.
    @Test func encryptedKeysAreRefused() throws {
        let scratch = try ScratchDirectory()
        try ExternalTool.openssl("genrsa", "-aes128", "-passout", "pass:secret", "-out", "pkcs8.pem", "2048", in: scratch)
        try ExternalTool.openssl(
            "rsa", "-in", "pkcs8.pem", "-passin", "pass:secret", "-aes128", "-passout", "pass:secret",
            "-traditional", "-out", "legacy.pem",
            in: scratch
        )
        let pkcs8 = try scratch.readText("pkcs8.pem")
        let legacy = try scratch.readText("legacy.pem")
        #expect(pkcs8.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect(legacy.contains("Proc-Type: 4,ENCRYPTED"))
        let pkcs8Error = #expect(throws: CryptoError.self) { try PrivateKey(pemRepresentation: pkcs8) }
        #expect(pkcs8Error?.kind == .invalidPEM)
        #expect(pkcs8Error?.message.contains("encrypted") == true)
        let legacyError = #expect(throws: CryptoError.self) { try RSAPrivateKey(pemRepresentation: legacy) }
        #expect(legacyError?.kind == .invalidPEM)
        #expect(legacyError?.message.contains("headers") == true)
    }

    /// Text around the block, CRLF line ends and indentation are tolerated, as OpenSSL and Go do.
    @Test func lenientFramingIsAccepted() throws {
        let keys = try KeyMaterial.shared.get()
        let pem = try keys.text("rsa-pub.pem")
        let expected = try RSAPublicKey(pemRepresentation: pem)
        let framed = "A comment before the key\n" + pem.replacingOccurrences(of: "\n", with: "\r\n") + "trailing text\n"
        #expect(try RSAPublicKey(pemRepresentation: framed) == expected)
        // Only the first block counts.
        let twoBlocks = pem + (try keys.text("ec-pub.pem"))
        #expect(try PublicKey(pemRepresentation: twoBlocks).algorithm == .rsa)
    }

    /// Our writer produces what OpenSSL produces: 64-column base64 and a final newline.
    @Test func documentsRoundTrip() throws {
        let keys = try KeyMaterial.shared.get()
        for name in ["rsa.pem", "rsa-pkcs1.pem", "rsa-pub.pem", "rsa-pub-pkcs1.pem", "ec-sec1.pem", "ed25519.pem"] {
            let text = try keys.text(name)
            let document = try PEMDocument(pemRepresentation: text)
            #expect(document.pemRepresentation == text, "\(name)")
        }
        let short = PEMDocument(label: "TEST", der: [1, 2, 3])
        #expect(short.pemRepresentation == "-----BEGIN TEST-----\nAQID\n-----END TEST-----\n")
        #expect(try PEMDocument(pemRepresentation: short.pemRepresentation) == short)
    }
}
