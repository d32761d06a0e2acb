import TestSupport
import Foundation
import Testing
import DistillCrypto

struct Base64Vector: Sendable, CustomTestStringConvertible {
    let plain: String
    let encoded: String
    var testDescription: String { "\"\(plain)\" ↔ \"\(encoded)\"" }

    /// RFC 4648 §10.
    static let rfc4648: [Base64Vector] = [
        Base64Vector(plain: "", encoded: ""),
        Base64Vector(plain: "f", encoded: "Zg=="),
        Base64Vector(plain: "fo", encoded: "Zm8="),
        Base64Vector(plain: "foo", encoded: "Zm9v"),
        Base64Vector(plain: "foob", encoded: "Zm9vYg=="),
        Base64Vector(plain: "fooba", encoded: "Zm9vYmE="),
        Base64Vector(plain: "foobar", encoded: "Zm9vYmFy"),
    ]
}

struct RejectedText: Sendable, CustomTestStringConvertible {
    let text: String
    let why: String
    var testDescription: String { "\(why): \"\(text)\"" }
}

@Suite struct EncodingTests {
    @Test(arguments: Base64Vector.rfc4648)
    func base64KnownAnswers(_ vector: Base64Vector) throws {
        #expect(Base64.encode(Array(vector.plain.utf8)) == vector.encoded)
        #expect(try Base64.decode(vector.encoded) == Array(vector.plain.utf8))
    }

    @Test(arguments: [
        RejectedText(text: "Zg=", why: "length not a multiple of 4"),
        RejectedText(text: "Zm9v\nYmFy", why: "line break"),
        RejectedText(text: "Zm9v YmFy", why: "space"),
        RejectedText(text: "-_8=", why: "URL-safe alphabet"),
        RejectedText(text: "Zg==Zg==", why: "padding in the middle"),
        RejectedText(text: "Z===", why: "three padding characters"),
        RejectedText(text: "Zh==", why: "non-zero bits before the padding"),
        RejectedText(text: "Zm9=", why: "non-zero bits before one padding character"),
        RejectedText(text: "Zm9v√", why: "non-ASCII"),
    ])
    func base64RejectsNonStandardText(_ rejected: RejectedText) {
        let error = #expect(throws: CryptoError.self) { try Base64.decode(rejected.text) }
        #expect(error?.kind == .invalidEncoding)
    }

    /// Every length from 0 to 300 (all three padding cases, many times over) matches OpenSSL's
    /// encoder, and decodes back.
    @Test func base64MatchesOpenSSL() throws {
        let scratch = try ScratchDirectory()
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 2, 3, 4, 5, 31, 32, 33, 64, 65, 255, 256, 257, 300] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try scratch.write("in", bytes)
            let expected = try ExternalTool.openssl("base64", "-A", "-in", "in", in: scratch).text
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let encoded = Base64.encode(bytes)
            #expect(encoded == expected, "length \(length)")
            #expect(try Base64.decode(encoded) == bytes)
        }
    }

    @Test func hexRoundTripsAndIsLowercase() throws {
        let bytes: [UInt8] = Array(0...255)
        let text = Hex.encode(bytes)
        #expect(text.count == 512)
        #expect(text.hasPrefix("000102"))
        #expect(text.hasSuffix("fdfeff"))
        #expect(text == text.lowercased())
        #expect(try Hex.decode(text) == bytes)
        #expect(try Hex.decode(text.uppercased()) == bytes)
        #expect(try Hex.decode("") == [])
    }

    @Test(arguments: [
        RejectedText(text: "abc", why: "odd length"),
        RejectedText(text: "zz", why: "not hex"),
        RejectedText(text: "0x12", why: "prefix"),
        RejectedText(text: "12 34", why: "space"),
    ])
    func hexRejectsBadText(_ rejected: RejectedText) {
        let error = #expect(throws: CryptoError.self) { try Hex.decode(rejected.text) }
        #expect(error?.kind == .invalidEncoding)
    }
}
