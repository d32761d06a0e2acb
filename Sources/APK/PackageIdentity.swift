import DistillCrypto

/// apk's package identity checksum, the `C:` of an APKINDEX record: SHA-1 of the control member
/// (or of control + data for legacy packages without `datahash`), written `Q1` + base64.
public enum PackageIdentity {
    /// `Q1` + standard base64 (with padding) of a SHA-1 digest: 30 characters.
    public static func string(_ digest: Digest) -> String {
        "Q1" + digest.base64
    }

    /// The SHA-1 bytes of a checksum in either form apk reads: `Q1<base64>` or `X1<40 hex>`;
    /// nil for anything else (including MD5 identities of very old indexes, which cannot name a
    /// package we verify).
    public static func sha1Bytes(_ text: String) -> [UInt8]? {
        let body = text.dropFirst(2)
        var bytes: [UInt8]?
        if text.hasPrefix("Q1") {
            bytes = try? Base64.decode(body)
        } else if text.hasPrefix("X1") {
            bytes = try? Hex.decode(body)
        }
        guard let bytes, bytes.count == DigestAlgorithm.sha1.byteCount else { return nil }
        return bytes
    }
}
