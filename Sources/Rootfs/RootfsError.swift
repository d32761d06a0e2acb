/// Everything the Rootfs module refuses, as one error type: a kind to match on, a one-line
/// message that names the package(s) and the path, and those as fields for callers.
public struct RootfsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; callers and tests match on this, not on the message text.
    public enum Kind: String, Sendable, Equatable {
        /// A name that is absolute, has `.`/`..` components or control characters, or that would
        /// leave the root through a symlink.
        case unsafePath
        /// Two packages ship the same path and apk's rules allow neither to overwrite the other.
        case fileConflict
        /// A file, directory or link where the tree already has something of another kind.
        case typeConflict
        /// A package file whose directory has no entry of its own earlier in the package
        /// (apk: "no dirent in archive").
        case missingDirectory
        /// A hard link whose target is not an earlier file of the same package.
        case hardLinkTarget
        /// A request value that cannot be used (a key or service name, a path mutation, a
        /// certificate, a package without its `C:` checksum).
        case invalidInput
        /// Reading a package's expanded data failed or it was shorter than its entries say.
        case io
        /// A file read into memory (account files, configuration lists) exceeds its cap.
        case tooLarge
    }

    /// What went wrong.
    public var kind: Kind
    /// One line, no trailing period, naming the package(s) and the path.
    public var message: String
    /// The path inside the rootfs the problem is about, when there is one.
    public var path: String?
    /// The packages involved (`name-version`), the installing one first.
    public var packages: [String]

    /// An error of `kind` described by `message`.
    public init(_ kind: Kind, _ message: String, path: String? = nil, packages: [String] = []) {
        self.kind = kind
        self.message = message
        self.path = path
        self.packages = packages
    }

    /// The message: it already names what and where.
    public var description: String { message }
}

/// A name in quotes with control characters escaped and long names shortened, safe to print on
/// one line.
func quoted(_ name: String) -> String {
    var text = "'"
    for (index, scalar) in name.unicodeScalars.enumerated() {
        if index == 200 {
            text += "..."
            break
        }
        if scalar.value < 0x20 || scalar.value == 0x7f {
            text += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
        } else {
            text.unicodeScalars.append(scalar)
        }
    }
    return text + "'"
}
