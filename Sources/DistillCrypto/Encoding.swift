/// Lowercase hexadecimal, the form `sha256sum`, OCI digests and apk's `datahash` use.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Two lowercase hex digits per byte.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes hex text (either case); throws `invalidEncoding` on an odd length or a non-hex
    /// character, naming its offset.
    public static func decode(_ text: some StringProtocol) throws(CryptoError) -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else {
            throw CryptoError(.invalidEncoding, "hex text has an odd length (\(characters.count) characters)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = value(of: characters[index]) else { throw invalidCharacter(characters[index], at: index) }
            guard let low = value(of: characters[index + 1]) else {
                throw invalidCharacter(characters[index + 1], at: index + 1)
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func invalidCharacter(_ character: UInt8, at offset: Int) -> CryptoError {
        CryptoError(.invalidEncoding, "hex text has a non-hex byte 0x\(encode([character])) at offset \(offset)")
    }
}

/// Standard base64 (RFC 4648 §4: `A–Z a–z 0–9 + /`, `=` padding), as cosign's signature
/// annotations, PEM bodies and apk's `Q1` checksums use it. Written here so the module needs no
/// Foundation.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Maps an ASCII byte to its 6-bit value; 0xFF marks bytes outside the alphabet.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Encodes with padding and without line breaks.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: encodeToASCII(Array(bytes)), as: UTF8.self)
    }

    /// Encodes into ASCII bytes (for writers that assemble PEM or JSON as bytes).
    static func encodeToASCII(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(alphabet[Int(group >> 6 & 0x3F)])
            output.append(alphabet[Int(group & 0x3F)])
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let group = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(UInt8(ascii: "="))
            output.append(UInt8(ascii: "="))
        case 2:
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(alphabet[Int(group >> 6 & 0x3F)])
            output.append(UInt8(ascii: "="))
        default:
            break
        }
        return output
    }

    /// Decodes padded standard base64 strictly, as Go's `base64.StdEncoding` does for cosign:
    /// no whitespace, no URL-safe alphabet, length a multiple of 4, `=` only at the end, and the
    /// unused bits before the padding must be zero (so every byte string has one encoding, which
    /// matters when identities such as `Q1…` are compared as text).
    public static func decode(_ text: some StringProtocol) throws(CryptoError) -> [UInt8] {
        try decode(ascii: Array(text.utf8))
    }

    /// The same as ``decode(_:)`` over ASCII bytes.
    static func decode(ascii characters: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard characters.count % 4 == 0 else {
            throw CryptoError(.invalidEncoding, "base64 text length \(characters.count) is not a multiple of 4")
        }
        var padding = 0
        if characters.last == UInt8(ascii: "=") { padding += 1 }
        if characters.count >= 2 && characters[characters.count - 2] == UInt8(ascii: "=") { padding += 1 }

        var output: [UInt8] = []
        output.reserveCapacity(characters.count / 4 * 3)
        let dataCount = characters.count - padding
        var group: UInt32 = 0
        var bitsInGroup = 0
        for index in 0..<dataCount {
            let value = values[Int(characters[index])]
            guard value != 0xFF else {
                let shown = characters[index] == UInt8(ascii: "=") ? "'='" : "0x\(Hex.encode([characters[index]]))"
                throw CryptoError(.invalidEncoding, "base64 text has an invalid byte \(shown) at offset \(index)")
            }
            group = group << 6 | UInt32(value)
            bitsInGroup += 6
            if bitsInGroup >= 8 {
                bitsInGroup -= 8
                output.append(UInt8(truncatingIfNeeded: group >> UInt32(bitsInGroup)))
                group &= (1 << UInt32(bitsInGroup)) - 1
            }
        }
        guard group == 0 else {
            throw CryptoError(.invalidEncoding, "base64 text has non-zero bits before its padding (not canonical)")
        }
        return output
    }
}
