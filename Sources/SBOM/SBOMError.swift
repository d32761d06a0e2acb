/// Everything the SBOM module refuses, as one error type with a kind to match on and a one-line
/// message that says what is wrong and where.
public struct SBOMError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// A string that is not a valid SPDX license expression.
        case invalidLicenseExpression
        /// An input value the generator cannot describe (a malformed digest, a dependency edge to
        /// a package that is not installed, a timestamp outside what SPDX can write).
        case invalidInput
        /// Bytes that are not the JSON they should be (an embedded SBOM, most often).
        case malformedJSON
        /// An embedded SBOM that is valid JSON but not an SPDX 2 document this module can merge.
        case malformedEmbeddedSBOM
        /// A size or nesting cap was exceeded.
        case tooLarge
        /// Writing a file failed.
        case io
    }

    /// The kind of failure.
    public var kind: Kind
    /// One line, no trailing period, e.g. "unknown license identifier 'GPL2'".
    public var message: String
    /// The file or input field the problem is in, when known.
    public var source: String?

    /// An error of `kind` saying `message`, found in `source` when given.
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
    public func located(at source: String) -> SBOMError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }
}
