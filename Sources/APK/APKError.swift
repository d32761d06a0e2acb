/// Everything the APK module refuses, as one error type with a kind to match on and a one-line
/// message that says what is wrong and where.
public struct APKError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// A dependency, provide or world entry that apk-tools would not parse.
        case invalidDependency
        /// A version string where a valid one is required.
        case invalidVersion
        /// APKINDEX text that cannot be read (a record without `P:` or `V:`, a bad line).
        case malformedIndex
        /// A `.PKGINFO` that cannot be read.
        case malformedPackageInfo
        /// An `.apk` or signed index whose structure is wrong (members, tar entries, names).
        case malformedPackage
        /// Signed by a key that is not in the keyring.
        case untrusted
        /// No signature at all.
        case unsigned
        /// A signature that does not verify against the key it names.
        case badSignature
        /// The data section does not hash to `.PKGINFO`'s `datahash`.
        case badDataHash
        /// The control section does not hash to the expected `C:` identity.
        case checksumMismatch
        /// A size cap was exceeded (control section, index, decompressed stream, line length).
        case tooLarge
        /// A keyring or key file problem.
        case keyring
        /// Reading or writing a file failed.
        case io
    }

    public var kind: Kind
    /// One line, no trailing period, e.g. "record 12 has no P: line".
    public var message: String
    /// The file, URL or repository the problem is in, when known.
    public var source: String?

    public init(_ kind: Kind, _ message: String, source: String? = nil) {
        self.kind = kind
        self.message = message
        self.source = source
    }

    public var description: String {
        if let source { return "\(source): \(message)" }
        return message
    }

    /// The same error, attributed to `source` unless it already names one.
    public func located(at source: String) -> APKError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }

    static func invalidDependency(_ text: String, _ reason: String) -> APKError {
        APKError(.invalidDependency, "invalid dependency '\(text)': \(reason)")
    }
}
