internal import COpenSSL

/// Everything DistillCrypto refuses, as one error type with a kind to match on and a one-line
/// message that says what is wrong (and, when OpenSSL was involved, what OpenSSL said).
///
/// A signature that simply does not match is not an error: verification returns `false`.
/// Errors are for input that cannot be a signature or a key at all, or for the wrong kind of key.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// Text that is not PEM, a truncated PEM block, bad base64 inside it, or an unsupported
        /// PEM label or header (for example an encrypted private key).
        case invalidPEM
        /// A key whose DER encoding OpenSSL cannot read.
        case invalidKey
        /// A readable key of another type than the operation needs (an EC key where RSA is
        /// required, a P-384 key where P-256 is required).
        case wrongKeyType
        /// A parameter outside what this module supports (an RSA size it will not generate, a
        /// digest of the wrong length for its algorithm).
        case unsupportedParameter
        /// Bytes that cannot be a signature for this key: wrong length, or neither DER nor raw
        /// `r‖s` for ECDSA. A well-formed signature that does not verify is `false`, not this.
        case malformedSignature
        /// Hex or base64 text that does not decode.
        case invalidEncoding
        /// OpenSSL failed where it should not (allocation, key generation, signing).
        case openSSLFailure
    }

    /// The category to match on.
    public var kind: Kind
    /// One line, no trailing period, e.g. "RSA signature is 255 bytes, the 2048-bit key needs 256".
    public var message: String

    /// Creates an error of `kind` with a one-line `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message, which already names the problem; the kind is for matching.
    public var description: String { message }

    /// An error whose message ends with everything on OpenSSL's thread-local error queue, which
    /// it empties so the next operation starts clean.
    static func openSSL(_ kind: Kind, _ message: String) -> CryptoError {
        let reasons = OpenSSLErrorQueue.drain()
        if reasons.isEmpty { return CryptoError(kind, message) }
        return CryptoError(kind, "\(message) (openssl: \(reasons.joined(separator: "; ")))")
    }
}

/// OpenSSL reports failures by pushing entries onto a per-thread queue. Entries left behind by
/// one failed call would be blamed on the next one, so every fallible operation clears the queue
/// before it starts and drains it when it fails (including a `false` verification).
enum OpenSSLErrorQueue {
    /// Reads and removes every queued error, oldest first, as OpenSSL's own one-line strings.
    static func drain() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            // The queue is bounded (16 entries per thread), but do not trust that blindly.
            if reasons.count == 16 { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            let text = buffer.withUnsafeMutableBufferPointer { pointer -> String in
                ERR_error_string_n(code, pointer.baseAddress, pointer.count)
                return String(cString: pointer.baseAddress!)
            }
            reasons.append(text)
        }
        return reasons
    }

    /// Discards whatever is queued, for a fresh start or after an expected failure.
    static func clear() {
        ERR_clear_error()
    }
}
