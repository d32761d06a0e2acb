import OCI

/// Everything the Signing module refuses or fails at, as one error type: a kind to match on, a
/// one-line message saying what is wrong, and where (a key file, a manifest digest, a tag).
///
/// A signature that does not verify is not an error when verifying an image: ``ImageVerifier``
/// reports it as a failed item. Errors are for inputs that cannot be used at all.
public struct SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// A key file that cannot be read, is not PEM, or holds the wrong kind of key.
        case invalidKey
        /// A simple-signing payload that breaks the rules containers/image applies.
        case invalidPayload
        /// A DSSE envelope that does not parse or has no usable signature.
        case invalidEnvelope
        /// An in-toto statement that does not parse or says something else than expected.
        case invalidStatement
        /// An SBOM that is not an SPDX 2.3 JSON document, or describes another image.
        case invalidSBOM
        /// A reference, tag or argument the operation cannot work with.
        case invalidArgument
        /// A signature or attestation manifest that is not shaped as cosign writes them.
        case invalidArtifact
        /// A size cap was exceeded (payloads, SBOMs, layers per artifact).
        case tooLarge
        /// Signing failed inside the crypto library.
        case signingFailed
        /// Reading or writing a local file failed.
        case io
        /// The image, layout or registry underneath failed (wraps the OCI module's error).
        case image
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period.
    public var message: String
    /// The file, manifest or tag the problem is about, when known.
    public var source: String?

    /// An error of `kind` with a one-line `message` about `source`.
    public init(_ kind: Kind, _ message: String, source: String? = nil) {
        self.kind = kind
        self.message = message
        self.source = source
    }

    /// `source: message`, or just the message.
    public var description: String {
        if let source { return "\(source): \(message)" }
        return message
    }

    /// The same error, attributed to `source` unless it already names one.
    public func located(at source: String) -> SigningError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }
}

extension SigningError {
    /// Any error from the layers below as a `SigningError`: the OCI module's errors become
    /// ``Kind/image`` with their message and source; a `SigningError` passes through.
    public static func wrapping(_ error: any Error, source: String? = nil) -> SigningError {
        switch error {
        case let error as SigningError:
            return source.map { error.located(at: $0) } ?? error
        case let error as OCIError:
            var message = error.message
            if let hint = error.hint { message += " (\(hint))" }
            return SigningError(.image, message, source: error.source ?? source)
        default:
            return SigningError(.image, "\(error)", source: source)
        }
    }
}
