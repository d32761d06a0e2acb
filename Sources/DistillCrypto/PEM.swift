/// One PEM block (RFC 7468): a label such as `PUBLIC KEY` and the DER bytes it wraps.
///
/// Reading follows what Go's `pem.Decode` (used by cosign and containers/image) and OpenSSL
/// accept: text before the first `-----BEGIN` line is skipped, only the first block is read, and
/// line breaks may be `\n` or `\r\n`. Blocks with RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`,
/// i.e. encrypted legacy keys) are refused rather than misread.
public struct PEMDocument: Sendable, Equatable {
    /// The label between `BEGIN ` and the closing dashes, e.g. `RSA PRIVATE KEY`.
    public var label: String
    /// The decoded body.
    public var der: [UInt8]

    /// Wraps DER bytes under a label.
    public init(label: String, der: [UInt8]) {
        self.label = label
        self.der = der
    }

    /// Reads the first PEM block of `text`; throws `invalidPEM` naming what is missing or wrong.
    public init(pemRepresentation text: String) throws(CryptoError) {
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { trimmed(Array($0)) }
        guard let beginIndex = lines.firstIndex(where: { $0.starts(with: Self.beginPrefix) }) else {
            throw CryptoError(.invalidPEM, "no '-----BEGIN' line: the text is not PEM")
        }
        let beginLine = lines[beginIndex]
        guard beginLine.count > Self.beginPrefix.count + Self.dashes.count,
            beginLine.suffix(Self.dashes.count).elementsEqual(Self.dashes)
        else {
            throw CryptoError(.invalidPEM, "malformed PEM BEGIN line on line \(beginIndex + 1)")
        }
        let labelBytes = beginLine[Self.beginPrefix.count..<(beginLine.count - Self.dashes.count)]
        let label = String(decoding: labelBytes, as: UTF8.self)
        let endLine = Self.endPrefix + Array(labelBytes) + Self.dashes

        var body: [UInt8] = []
        var lineIndex = beginIndex + 1
        var foundEnd = false
        while lineIndex < lines.count {
            let line = lines[lineIndex]
            if line == endLine {
                foundEnd = true
                break
            }
            if line.starts(with: Self.endPrefix) {
                let found = String(decoding: line, as: UTF8.self)
                throw CryptoError(.invalidPEM, "PEM block '\(label)' ends with '\(found)' on line \(lineIndex + 1)")
            }
            if line.contains(UInt8(ascii: ":")) {
                throw CryptoError(
                    .invalidPEM,
                    "PEM block '\(label)' has headers on line \(lineIndex + 1) (an encrypted key?), which are not supported"
                )
            }
            body.append(contentsOf: line.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") })
            lineIndex += 1
        }
        guard foundEnd else {
            throw CryptoError(.invalidPEM, "PEM block '\(label)' is truncated: no '-----END \(label)-----' line")
        }
        guard !body.isEmpty else {
            throw CryptoError(.invalidPEM, "PEM block '\(label)' is empty")
        }
        do {
            self.der = try Base64.decode(ascii: body)
        } catch {
            throw CryptoError(.invalidPEM, "PEM block '\(label)' has a bad body: \(error.message)")
        }
        self.label = label
    }

    /// The block as text: base64 in 64-character lines, as OpenSSL and Go write it, ending in
    /// a newline.
    public var pemRepresentation: String {
        let encoded = Base64.encodeToASCII(der)
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count + encoded.count / 64 + 2 * (label.utf8.count + 20))
        output.append(contentsOf: Self.beginPrefix + Array(label.utf8) + Self.dashes)
        output.append(UInt8(ascii: "\n"))
        var start = 0
        while start < encoded.count {
            let end = min(start + 64, encoded.count)
            output.append(contentsOf: encoded[start..<end])
            output.append(UInt8(ascii: "\n"))
            start = end
        }
        output.append(contentsOf: Self.endPrefix + Array(label.utf8) + Self.dashes)
        output.append(UInt8(ascii: "\n"))
        return String(decoding: output, as: UTF8.self)
    }

    private static let beginPrefix: [UInt8] = Array("-----BEGIN ".utf8)
    private static let endPrefix: [UInt8] = Array("-----END ".utf8)
    private static let dashes: [UInt8] = Array("-----".utf8)
}

/// Drops trailing `\r`, spaces and tabs, and leading spaces and tabs.
private func trimmed(_ line: [UInt8]) -> [UInt8] {
    func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
    guard let first = line.firstIndex(where: { !isBlank($0) }), let last = line.lastIndex(where: { !isBlank($0) })
    else { return [] }
    return Array(line[first...last])
}
