import Foundation
import TestSupport
import Testing

/// A workspace for `distill publish`: the two-architecture private-repository image's config,
/// a package cache, and signing keys made by `distill keygen`.
struct PublishWorkspace {
    let scratch: ScratchDirectory
    let config: String

    init() throws {
        scratch = try ScratchDirectory()
        config = try FixtureImage.privateRepo.prepare(in: scratch)
        for name in ["image", "other"] {
            try DistillBinary.run(["keygen", "--type", "ecdsa-p256", name], in: scratch)
        }
    }

    var key: String { scratch.path("image.key") }
    var publicKey: String { scratch.path("image.pub") }
    var otherPublicKey: String { scratch.path("other.pub") }

    /// `distill publish` with a fixed build time, so every run gives the same digests.
    @discardableResult
    func publish(_ references: [String], _ flags: [String] = [], environment: [String: String] = [:],
                 expectSuccess: Bool = true) throws -> ExternalTool.Output {
        try DistillBinary.run(["publish", "--cache-dir", scratch.path("cache")] + flags + [config] + references, in: scratch,
                              environment: ["SOURCE_DATE_EPOCH": "0"].merging(environment) { _, new in new },
                              expectSuccess: expectSuccess)
    }

    func cosign(_ arguments: [String]) throws -> ExternalTool.Output {
        try Cosign.run(arguments, in: scratch)
    }

    /// `cosign verify` (or `verify-attestation --type spdxjson`) of a registry image with `publicKey`.
    func cosignVerify(_ reference: String, publicKey: String, attestation: Bool = false) throws -> ExternalTool.Output {
        let command = attestation ? ["verify-attestation", "--type", "spdxjson"] : ["verify"]
        return try cosign(command + ["--key", publicKey, "--insecure-ignore-tlog", "--allow-insecure-registry", "--allow-http-registry",
                                     reference])
    }
}

/// A failed command's standard error is exactly one `Error: …` line besides its `progress:`
/// lines (printed as the build goes, since standard error is not a terminal here).
func isOneErrorLine(_ output: ExternalTool.Output) -> Bool {
    let lines = output.standardError.split(separator: "\n").filter { !$0.hasPrefix("progress: ") }
    return output.status != 0 && lines.count == 1 && lines[0].hasPrefix("Error: ")
}

/// `distill publish` end to end against a real docker-registry, judged by cosign, skopeo and the
/// registry's own access log.
@Suite("distill publish against docker-registry")
struct PublishTests {
    @Test("a signed two-arch image: cosign and distill verify pass with the key and fail with another; skopeo keeps the index digest")
    func signedTwoArchImage() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let workspace = try PublishWorkspace()
        let repository = "\(registry.host)/distill/app"
        let published = try workspace.publish(["\(repository):1.0", "\(repository):latest"],
                                              ["--sign-key", workspace.key, "--image-refs", workspace.scratch.path("refs.txt")])
        let printed = published.text.trimmingCharacters(in: .newlines)
        #expect(printed.hasPrefix("\(repository)@sha256:") && published.text.hasSuffix("\n"))
        let indexDigest = String(printed.dropFirst(repository.count + 1))
        let tags = try registry.tags("distill/app")
        #expect(tags.contains("1.0") && tags.contains("latest"))
        #expect(try registry.headManifest("distill/app", "1.0")["docker-content-digest"] == indexDigest)
        #expect(try registry.headManifest("distill/app", "latest")["docker-content-digest"] == indexDigest)
        // Progress: the build's lines, then the push to the repository, done once it is tagged.
        let progress = published.standardError.split(separator: "\n").filter { $0.hasPrefix("progress: ") }
        #expect(progress.contains { $0.hasPrefix("progress: fetch ") } && progress.contains { $0.hasPrefix("progress: layer ") })
        #expect(progress.first { $0.hasPrefix("progress: push \(repository) 0/") }?.hasSuffix(" start") == true)
        #expect(progress.last?.hasPrefix("progress: push \(repository) ") == true && progress.last?.hasSuffix(" done") == true)

        // apko's --image-refs: every platform manifest, then the index, by digest.
        let refs = try workspace.scratch.readText("refs.txt").split(separator: "\n").map(String.init)
        #expect(refs.count == 3)
        #expect(refs.last == printed)
        let platformReferences = Array(refs.dropLast())
        #expect(platformReferences.allSatisfy { $0.hasPrefix("\(repository)@sha256:") })
        #expect(tags.contains("sha256-\(indexDigest.dropFirst("sha256:".count)).sig"))

        for reference in ["\(repository):1.0", "\(repository):latest"] + platformReferences {
            let verified = try workspace.cosignVerify(reference, publicKey: workspace.publicKey)
            #expect(verified.status == 0, "\(reference): \(verified.standardError)")
            let attested = try workspace.cosignVerify(reference, publicKey: workspace.publicKey, attestation: true)
            #expect(attested.status == 0, "\(reference): \(attested.standardError)")
        }
        #expect(try workspace.cosignVerify("\(repository):1.0", publicKey: workspace.otherPublicKey).status != 0)
        #expect(try workspace.cosignVerify("\(repository):1.0", publicKey: workspace.otherPublicKey, attestation: true).status != 0)
        #expect(try workspace.cosignVerify(platformReferences[0], publicKey: workspace.otherPublicKey).status != 0)

        let good = try DistillBinary.run(["verify", "--key", workspace.publicKey, "\(repository):1.0"], in: workspace.scratch,
                                         expectSuccess: false)
        #expect(good.status == 0, "\(good.text)\(good.standardError)")
        let goodLines = good.text.split(separator: "\n")
        #expect(goodLines.count == 6 && goodLines.allSatisfy { $0.hasPrefix("OK ") }, "\(good.text)")
        let bad = try DistillBinary.run(["verify", "--key", workspace.otherPublicKey, "\(repository):latest"], in: workspace.scratch,
                                        expectSuccess: false)
        #expect(bad.status != 0)
        #expect(bad.text.split(separator: "\n").allSatisfy { $0.hasPrefix("FAIL ") }, "\(bad.text)")

        try ExternalTool.run("skopeo", ["copy", "-q", "--all", "--src-tls-verify=false", "docker://\(repository):1.0",
                                        "oci:\(workspace.scratch.path("copy")):1.0"], in: workspace.scratch)
        let copied = try JSONSerialization.jsonObject(with: Data(try workspace.scratch.read("copy/index.json"))) as! [String: Any]
        let entries = copied["manifests"] as! [[String: Any]]
        #expect(entries.map { $0["digest"] as? String } == [indexDigest])
    }

    @Test("publishing the same image again uploads no blob and writes nothing; the digest is the same")
    func secondPublishUploadsNothing() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let workspace = try PublishWorkspace()
        let reference = "\(registry.host)/distill/again:1.0"
        let first = try workspace.publish([reference], ["--sign-key", workspace.key])
        let afterFirst = registry.requests()
        #expect(afterFirst.contains { $0.isBlobUpload })
        let second = try workspace.publish([reference], ["--sign-key", workspace.key])
        #expect(second.text == first.text)
        let requests = registry.requests()
        #expect(requests.count > afterFirst.count)
        let secondRun = requests.dropFirst(afterFirst.count)
        #expect(!secondRun.contains { $0.isBlobUpload }, "\(secondRun.filter { $0.isBlobUpload })")
        #expect(!secondRun.contains { $0.isWrite }, "\(secondRun.filter { $0.isWrite })")
    }

    @Test("references in two repositories each get the whole image, signed with their own identity; the first is printed")
    func twoRepositories() throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let workspace = try PublishWorkspace()
        let published = try workspace.publish(["\(registry.host)/team/one:1", "\(registry.host)/team/two:2"], ["--sign-key", workspace.key])
        let printed = published.text.trimmingCharacters(in: .newlines)
        #expect(printed.hasPrefix("\(registry.host)/team/one@sha256:"))
        let digest = String(printed.split(separator: "@")[1])
        #expect(try registry.headManifest("team/two", "2")["docker-content-digest"] == digest)
        let verified = try workspace.cosignVerify("\(registry.host)/team/two:2", publicKey: workspace.publicKey)
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.text.contains("\"docker-reference\":\"\(registry.host)/team/two:2\""))
    }

    @Test("htpasswd basic auth: --registry-username/--registry-password and docker's config.json work; a wrong password fails with no tag")
    func basicAuthentication() throws {
        let registry = try LocalRegistry(user: "ci", password: "s3cret")
        defer { registry.stop() }
        let workspace = try PublishWorkspace()
        let repository = "\(registry.host)/distill/private"

        let denied = try workspace.publish(["\(repository):1.0"], ["--registry-username", "ci", "--registry-password", "wrong"],
                                           expectSuccess: false)
        #expect(isOneErrorLine(denied), "\(denied.standardError)")
        #expect(denied.standardError.contains("401"), "\(denied.standardError)")
        #expect(try registry.tags("distill/private").isEmpty)

        let anonymous = try workspace.publish(["\(repository):1.0"], environment: ["DOCKER_CONFIG": workspace.scratch.path("nowhere")],
                                              expectSuccess: false)
        #expect(isOneErrorLine(anonymous), "\(anonymous.standardError)")
        #expect(anonymous.standardError.contains("needs credentials"), "\(anonymous.standardError)")

        let explicit = try workspace.publish(["\(repository):1.0"], ["--registry-username", "ci", "--registry-password", "s3cret"])
        #expect(explicit.text.hasPrefix("\(repository)@sha256:"))
        #expect(try registry.tags("distill/private") == ["1.0"])

        try FileManager.default.createDirectory(atPath: workspace.scratch.path("docker"), withIntermediateDirectories: true)
        try workspace.scratch.write("docker/config.json",
                                    text: "{\"auths\":{\"\(registry.host)\":{\"auth\":\"\(Data("ci:s3cret".utf8).base64EncodedString())\"}}}")
        let configured = try workspace.publish(["\(repository):2.0"], environment: ["DOCKER_CONFIG": workspace.scratch.path("docker")])
        #expect(configured.text == explicit.text)
        #expect(try registry.tags("distill/private").sorted() == ["1.0", "2.0"])
    }

    /// A registry that misbehaves behind the test proxy.
    struct FaultCase: Sendable, CustomStringConvertible {
        let fault: RegistryProxy.Fault
        /// What the error line must say.
        let complaint: String
        var description: String { fault.rawValue }
    }

    @Test("an upload cut mid-stream, a registry lying about blobs, a rejected index or signature: one error line, exit non-zero, no tag", arguments: [
        FaultCase(fault: .cutUploads, complaint: "/blobs/uploads/"),
        // The client checks the size the registry claims before it trusts the blob is there.
        FaultCase(fault: .claimBlobs, complaint: "with 0 bytes, expected"),
        FaultCase(fault: .rejectIndex, complaint: "MANIFEST_INVALID"),
        // Everything of the image is stored by then; only the tag must not follow.
        FaultCase(fault: .rejectSignatures, complaint: "MANIFEST_INVALID"),
    ])
    func registryFaults(_ fault: FaultCase) throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let proxy = try RegistryProxy(in: registry, fault: fault.fault)
        defer { proxy.stop() }
        let workspace = try PublishWorkspace()
        let failed = try workspace.publish(["\(proxy.host)/distill/faulty:1.0"], ["--sign-key", workspace.key], expectSuccess: false)
        #expect(isOneErrorLine(failed), "\(failed.standardError)")
        #expect(failed.standardError.contains(fault.complaint), "\(failed.standardError)")
        #expect(try registry.tags("distill/faulty").isEmpty, "\(proxy.log)")
    }

    @Test("a reference pinning a digest, or none at all, is refused before anything is built or pushed")
    func badReferences() throws {
        let workspace = try PublishWorkspace()
        let digest = "registry.example/app@sha256:" + String(repeating: "a", count: 64)
        // At --log-level info a build would announce its first step on standard error.
        let pinned = try workspace.publish([digest], ["--log-level", "info"], expectSuccess: false)
        #expect(isOneErrorLine(pinned), "\(pinned.standardError)")
        #expect(pinned.standardError == "Error: \(digest): publish sets tags, so each reference needs a tag, not a digest\n")
        let invalid = try workspace.publish(["registry.example/App:1"], ["--log-level", "info"], expectSuccess: false)
        #expect(isOneErrorLine(invalid), "\(invalid.standardError)")
        #expect(invalid.standardError.contains("must be lowercase"))
        let none = try DistillBinary.run(["publish", workspace.config], in: workspace.scratch, expectSuccess: false)
        #expect(none.status != 0)
    }

    @Test("a signing key that is a public key or not PEM at all is refused before anything is pushed", arguments: ["image.pub", "apko.yaml"])
    func badSigningKey(_ keyFile: String) throws {
        let registry = try LocalRegistry()
        defer { registry.stop() }
        let workspace = try PublishWorkspace()
        let failed = try workspace.publish(["\(registry.host)/distill/unsigned:1.0"], ["--sign-key", workspace.scratch.path(keyFile)],
                                           expectSuccess: false)
        #expect(isOneErrorLine(failed), "\(failed.standardError)")
        #expect(failed.standardError.contains(keyFile), "\(failed.standardError)")
        #expect(!registry.requests().contains { $0.isWrite })
        #expect(try registry.tags("distill/unsigned").isEmpty)
    }

    @Test("cosign verify --local-image passes on a layout distill build signed, and fails with another key")
    func buildSignedLayout() throws {
        let workspace = try PublishWorkspace()
        let layout = workspace.scratch.path("out") + "/"
        try DistillBinary.run(["build", "--cache-dir", workspace.scratch.path("cache"), "--sign-key", workspace.key, workspace.config,
                               FixtureImage.tag, layout], in: workspace.scratch, environment: ["SOURCE_DATE_EPOCH": "0"])
        let verified = try workspace.cosign(["verify", "--key", workspace.publicKey, "--insecure-ignore-tlog", "--local-image", layout])
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.text.contains("\"docker-reference\":\"\(FixtureImage.tag)\""))
        let attested = try workspace.cosign(["verify-attestation", "--type", "spdxjson", "--key", workspace.publicKey,
                                             "--insecure-ignore-tlog", "--local-image", layout])
        #expect(attested.status == 0, "\(attested.standardError)")
        let wrong = try workspace.cosign(["verify", "--key", workspace.otherPublicKey, "--insecure-ignore-tlog", "--local-image", layout])
        #expect(wrong.status != 0)
    }
}
