import DistillCrypto
import OCI
import Testing

@Suite("Image references")
struct ReferenceTests {
    struct Valid: Sendable, CustomStringConvertible {
        let text: String
        let registry: String
        let repository: String
        let tag: String?
        var digest: String? = nil
        var familiar: String? = nil
        var description: String { text }
    }

    static let hex = String(repeating: "ab", count: 32)

    static let valid: [Valid] = [
        Valid(text: "alpine", registry: "docker.io", repository: "library/alpine", tag: "latest", familiar: "alpine"),
        Valid(text: "alpine:3.20", registry: "docker.io", repository: "library/alpine", tag: "3.20", familiar: "alpine"),
        Valid(text: "docker.io/alpine", registry: "docker.io", repository: "library/alpine", tag: "latest", familiar: "alpine"),
        Valid(text: "index.docker.io/library/alpine:edge", registry: "docker.io", repository: "library/alpine", tag: "edge"),
        Valid(text: "team/app:v1", registry: "docker.io", repository: "team/app", tag: "v1", familiar: "team/app"),
        Valid(text: "cgr.dev/chainguard/static:latest", registry: "cgr.dev", repository: "chainguard/static", tag: "latest",
              familiar: "cgr.dev/chainguard/static"),
        Valid(text: "localhost/app", registry: "localhost", repository: "app", tag: "latest"),
        Valid(text: "localhost:5000/a/b/c:1.0", registry: "localhost:5000", repository: "a/b/c", tag: "1.0"),
        Valid(text: "127.0.0.1:35000/distill/test:x86_64", registry: "127.0.0.1:35000", repository: "distill/test", tag: "x86_64"),
        Valid(text: "[::1]:5000/app:1", registry: "[::1]:5000", repository: "app", tag: "1"),
        Valid(text: "Registry.Example:443/app", registry: "Registry.Example:443", repository: "app", tag: "latest"),
        Valid(text: "ghcr.io/o/app@sha256:\(hex)", registry: "ghcr.io", repository: "o/app", tag: nil, digest: "sha256:\(hex)"),
        Valid(text: "ghcr.io/o/app:v2@sha256:\(hex)", registry: "ghcr.io", repository: "o/app", tag: "v2", digest: "sha256:\(hex)"),
        Valid(text: "a.b/x__y.z-w---v:_T.a-g", registry: "a.b", repository: "x__y.z-w---v", tag: "_T.a-g"),
        // Without a registry-looking first component, `host:5000` is a repository and a tag.
        Valid(text: "myhost:5000", registry: "docker.io", repository: "library/myhost", tag: "5000"),
    ]

    @Test("valid references parse and normalise", arguments: valid)
    func parses(_ row: Valid) throws {
        let reference = try ImageReference(parsing: row.text)
        #expect(reference.registry == row.registry)
        #expect(reference.repository == row.repository)
        #expect(reference.tag == row.tag)
        #expect(reference.digest?.description == row.digest)
        if let familiar = row.familiar { #expect(reference.familiarName == familiar) }
        // The printed form parses back to the same reference.
        #expect(try ImageReference(parsing: reference.description) == reference)
    }

    struct Invalid: Sendable, CustomStringConvertible {
        let text: String
        let complaint: String
        var description: String { text }
    }

    static let invalid: [Invalid] = [
        Invalid(text: "", complaint: "it is empty"),
        Invalid(text: "Alpine", complaint: "must be lowercase"),
        Invalid(text: "ghcr.io/Team/app", complaint: "must be lowercase"),
        Invalid(text: "app:", complaint: "bad tag \"\""),
        Invalid(text: "app:-x", complaint: "bad tag"),
        Invalid(text: "app:" + String(repeating: "t", count: 129), complaint: "bad tag"),
        Invalid(text: "app@sha256:abc", complaint: "bad digest"),
        Invalid(text: "app@md5:\(hex)", complaint: "bad digest"),
        Invalid(text: "app@sha256:\(hex.uppercased())", complaint: "bad digest"),
        Invalid(text: "app name", complaint: "a space"),
        Invalid(text: "ghcr.io//app", complaint: "bad repository component \"\""),
        Invalid(text: "ghcr.io/app-", complaint: "bad repository component"),
        Invalid(text: "ghcr.io/a..b", complaint: "bad repository component"),
        Invalid(text: "ghcr.io/a___b", complaint: "bad repository component"),
        Invalid(text: "ghcr.io/", complaint: "bad repository component"),
        Invalid(text: "host:99999/app", complaint: "bad registry"),
        Invalid(text: "-bad.host/app", complaint: "bad registry"),
        Invalid(text: "[::1/app", complaint: "bad registry"),
        Invalid(text: ":tag", complaint: "the repository name is missing"),
        Invalid(text: "r.io/" + String(repeating: "a", count: 260), complaint: "longer than 255"),
    ]

    @Test("invalid references are refused, saying what is wrong", arguments: invalid)
    func refuses(_ row: Invalid) {
        let error = #expect(throws: OCIError.self) { try ImageReference(parsing: row.text) }
        #expect(error?.kind == .invalidReference)
        #expect(error?.message.contains(row.complaint) == true, "\(error?.message ?? "no error")")
    }

    @Test("API hosts, names and manifest references")
    func derivedNames() throws {
        let hub = try ImageReference(parsing: "alpine")
        #expect(hub.apiHost == "registry-1.docker.io")
        #expect(hub.name == "docker.io/library/alpine")
        #expect(hub.description == "docker.io/library/alpine:latest")
        #expect(hub.manifestReference == "latest")
        let pinned = try ImageReference(parsing: "localhost:5000/app:1@sha256:\(Self.hex)")
        #expect(pinned.apiHost == "localhost:5000")
        #expect(pinned.manifestReference == "sha256:\(Self.hex)")
        #expect(pinned.familiarName == "localhost:5000/app")
    }
}
