import DistillCrypto

/// A parsed image reference, `[registry/]repository[:tag][@digest]`, normalised the way docker
/// does it: no registry means Docker Hub (`docker.io`), and a one-component Docker Hub repository
/// gets the `library/` prefix (`alpine` → `docker.io/library/alpine:latest`).
///
/// The first path component is a registry when it contains a `.` or a `:` (a port), is
/// `localhost`, or is a bracketed IPv6 address; otherwise the whole name is a Docker Hub
/// repository. Repository components are lowercase `[a-z0-9]` runs joined by `.`, `_`, `__` or
/// dashes; tags are `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; the digest is `sha256:` + 64 hex digits
/// (or `sha512:` + 128).
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The registry as written, normalised (`docker.io` for Docker Hub), with its port if any.
    public let registry: String
    /// The repository path inside the registry (`library/alpine`, `team/app`).
    public let repository: String
    /// The tag; `latest` when the reference named neither a tag nor a digest.
    public let tag: String?
    /// The digest, when the reference pinned one.
    public let digest: Digest?

    /// Docker Hub's name in references.
    public static let dockerHub = "docker.io"
    /// The longest name (`registry/repository`) distribution accepts.
    public static let maximumNameLength = 255

    /// Parses `text`; throws `invalidReference` naming the part that is wrong.
    public init(parsing text: String) throws(OCIError) {
        func fail(_ why: String) -> OCIError {
            OCIError(.invalidReference, "invalid image reference \"\(text)\": \(why)")
        }
        guard !text.isEmpty else { throw fail("it is empty") }
        if let bad = text.unicodeScalars.first(where: { $0.value <= 0x20 || $0.value >= 0x7F }) {
            throw fail("it contains \(bad.value == 0x20 ? "a space" : "the character U+\(String(bad.value, radix: 16, uppercase: true))")")
        }

        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            let digestText = String(remainder[remainder.index(after: at)...])
            do {
                digest = try OCIDigest.parse(digestText)
            } catch {
                throw fail("bad digest \"\(digestText)\" (expected sha256:<64 lowercase hex digits>)")
            }
            remainder = remainder[..<at]
        }

        var tag: String?
        let lastSlash = remainder.lastIndex(of: "/")
        let tagSearchStart = lastSlash.map { remainder.index(after: $0) } ?? remainder.startIndex
        if let colon = remainder[tagSearchStart...].lastIndex(of: ":") {
            let tagText = String(remainder[remainder.index(after: colon)...])
            guard Self.isValidTag(tagText) else {
                throw fail("bad tag \"\(tagText)\" (1-128 characters of A-Z a-z 0-9 _ . -, not starting with . or -)")
            }
            tag = tagText
            remainder = remainder[..<colon]
        }
        guard !remainder.isEmpty else { throw fail("the repository name is missing") }

        var registry = Self.dockerHub
        var path = remainder
        if let slash = remainder.firstIndex(of: "/") {
            let first = remainder[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.hasPrefix("[") {
                guard Self.isValidRegistry(first) else {
                    throw fail("bad registry \"\(first)\" (expected host[:port])")
                }
                registry = String(first)
                path = remainder[remainder.index(after: slash)...]
            }
        }
        if registry == "index.docker.io" || registry == "registry-1.docker.io" { registry = Self.dockerHub }

        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        for component in components {
            if component.contains(where: { $0.isUppercase }) {
                throw fail("repository \"\(path)\" must be lowercase")
            }
            guard Self.isValidPathComponent(component) else {
                throw fail("bad repository component \"\(component)\" (lowercase letters and digits, separated by . _ __ or -)")
            }
        }
        var repository = String(path)
        if registry == Self.dockerHub && components.count == 1 { repository = "library/" + repository }
        guard registry.utf8.count + 1 + repository.utf8.count <= Self.maximumNameLength else {
            throw fail("the name is longer than \(Self.maximumNameLength) characters")
        }

        self.registry = registry
        self.repository = repository
        self.tag = tag ?? (digest == nil ? "latest" : nil)
        self.digest = digest
    }

    /// A reference from parts that are already valid (used when re-targeting a reference).
    public init(registry: String, repository: String, tag: String?, digest: Digest?) throws(OCIError) {
        var text = registry + "/" + repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        self = try ImageReference(parsing: text)
    }

    /// `registry/repository`, the name without tag or digest (what cosign signs as identity).
    public var name: String { "\(registry)/\(repository)" }

    /// `registry/repository[:tag][@digest]`.
    public var description: String {
        var text = name
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// The name as docker prints it: Docker Hub's `docker.io/` and `library/` left out
    /// (`alpine`, `team/app`, `ghcr.io/x/y`).
    public var familiarName: String {
        guard registry == Self.dockerHub else { return name }
        if repository.hasPrefix("library/"), !repository.dropFirst("library/".count).contains("/") {
            return String(repository.dropFirst("library/".count))
        }
        return repository
    }

    /// The host (and port) to send registry API requests to: Docker Hub's API lives at
    /// `registry-1.docker.io`, every other registry at its own name.
    public var apiHost: String {
        registry == Self.dockerHub ? "registry-1.docker.io" : registry
    }

    /// What a manifest request names: the digest when there is one (it pins the content), else the tag.
    public var manifestReference: String {
        digest?.description ?? tag ?? "latest"
    }

    /// Whether `tag` is a valid tag.
    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard (1...128).contains(bytes.count) else { return false }
        func isWord(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F
        }
        guard isWord(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { isWord($0) || $0 == 0x2E || $0 == 0x2D }
    }

    /// `[a-z0-9]+` runs separated by `.`, `_`, `__` or one or more `-`.
    static func isValidPathComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isAlphanumeric(bytes[index]) {
                index += 1
                continue
            }
            // A separator: `.`, `_`, `__` or a run of `-`; it must be followed by an alphanumeric.
            var end = index
            switch bytes[index] {
            case UInt8(ascii: "."):
                end = index + 1
            case UInt8(ascii: "_"):
                end = index + 1
                if end < bytes.count, bytes[end] == UInt8(ascii: "_") { end += 1 }
            case UInt8(ascii: "-"):
                while end < bytes.count, bytes[end] == UInt8(ascii: "-") { end += 1 }
            default:
                return false
            }
            guard end < bytes.count, isAlphanumeric(bytes[end]) else { return false }
            index = end
        }
        return true
    }

    /// `host[:port]` where host is DNS labels separated by dots or a bracketed IPv6 address.
    static func isValidRegistry(_ registry: Substring) -> Bool {
        var host = registry
        var port: Substring?
        if registry.hasPrefix("[") {
            guard let close = registry.firstIndex(of: "]") else { return false }
            let inside = registry[registry.index(after: registry.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            let after = registry[registry.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return false }
                port = after.dropFirst()
            }
            host = ""
        } else if let colon = registry.lastIndex(of: ":") {
            host = registry[..<colon]
            port = registry[registry.index(after: colon)...]
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber),
                  let number = Int(port), (1...65535).contains(number) else { return false }
        }
        if registry.hasPrefix("[") { return true }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { label in
            let bytes = Array(label.utf8)
            guard let first = bytes.first, let last = bytes.last else { return false }
            func isHostCharacter(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || (0x41...0x5A).contains(byte) }
            return isHostCharacter(first) && isHostCharacter(last) && bytes.allSatisfy { isHostCharacter($0) || $0 == 0x2D }
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte)
    }
}
