import APK
import Archive
import DistillCrypto
import Foundation
import Rootfs
import TestSupport
import Testing

@Suite("certificates")
struct CertificatesTests {
    /// A fresh self-signed certificate from openssl, as PEM.
    static func makeCertificate(_ name: String, in scratch: ScratchDirectory) throws -> String {
        try ExternalTool.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).pem",
                                 "-subj", "/CN=\(name)", "-days", "30", in: scratch)
        return try scratch.readText("\(name).pem")
    }

    /// `additional` and `providers` as apko does them: the additional certificate gets its file
    /// named by the SHA-256 of its DER (openssl agrees), every certificate is appended to the
    /// bundle the image has, the sidecar passes `sha256sum -c`, and touched files carry the epoch.
    @Test func additionalAndProvidersAreAppended() throws {
        let scratch = try ScratchDirectory()
        let epoch: Int64 = 1_717_171_717
        let extra = try Self.makeCertificate("extra", in: scratch)
        let bundlePackage = try Synthetic.package("ca-certificates-bundle", items: [
            .directory("etc"), .directory("etc/ssl"), .directory("etc/ssl/certs"),
            .file("etc/ssl/certs/ca-certificates.crt", "# the distribution's bundle\n"),
        ], scratch: scratch)
        let providers = try FixturePackages.fromRepository("apko-testrepo", arch: "aarch64", key: "melange.rsa.pub",
                                                           names: ["custom-ca-certs-1", "custom-ca-certs-2"], scratch: scratch)
        let request = RootfsRequest(
            architecture: "aarch64", packages: [bundlePackage] + providers,
            certificates: Certificates(additional: [AdditionalCertificate(name: "extra", content: "text before the block\n" + extra)],
                                       providerPackages: ["custom-ca-certs-2", "custom-ca-certs-1"]),
            buildEpoch: epoch)
        let rootfs = try Rootfs.compose(request)
        let layer = try LayerFiles.write(rootfs, to: "layer.tar", in: scratch)
        let entries = try layerEntries(rootfs)

        let fingerprint = try ExternalTool.run("sh", ["-c", "openssl x509 -in extra.pem -outform DER | sha256sum | cut -d' ' -f1"],
                                               in: scratch).text.trimmingCharacters(in: .whitespacesAndNewlines)
        let certificateFile = try #require(entries["usr/local/share/ca-certificates/extra-\(fingerprint).crt"])
        #expect(text(certificateFile) == extra, "re-encoded without the text around the block")
        #expect(certificateFile.entry.modificationTime == epoch && certificateFile.entry.mode == 0o644)

        var expectedBundle = "# the distribution's bundle\n" + extra + "\n"
        for name in ["cert-a", "cert-b", "cert-c", "cert-d"] {
            let shipped = try #require(try rootfs.contents(of: "usr/local/share/ca-certificates/\(name).crt"))
            expectedBundle += String(decoding: shipped, as: UTF8.self) + "\n"
        }
        let bundle = try #require(entries["etc/ssl/certs/ca-certificates.crt"])
        #expect(text(bundle) == expectedBundle)
        #expect(bundle.entry.modificationTime == epoch)
        let sidecar = try #require(entries["etc/ssl/certs/.ca-certificates.crt.sha256"])
        #expect(sidecar.entry.mode == 0o444 && sidecar.entry.modificationTime == epoch)

        try FileManager.default.createDirectory(atPath: scratch.path("root"), withIntermediateDirectories: true)
        try ExternalTool.run("tar", ["-xpf", layer, "-C", "root"], in: scratch)
        let check = try ExternalTool.run("sh", ["-c", "cd root/etc/ssl/certs && sha256sum -c .ca-certificates.crt.sha256"], in: scratch)
        #expect(check.text == "ca-certificates.crt: OK\n")
        let subjects = try ExternalTool.run("sh", ["-c", "openssl crl2pkcs7 -nocrl -certfile root/etc/ssl/certs/ca-certificates.crt | openssl pkcs7 -print_certs -noout | grep -c '^subject'"],
                                            in: scratch).text
        #expect(subjects == "5\n")
    }

    /// Without a `certificates` section the sidecar is still written for every bundle there is.
    @Test func sidecarWithoutCertificates() throws {
        let scratch = try ScratchDirectory()
        let bundlePackage = try Synthetic.package("bundle", items: [
            .directory("etc"), .directory("etc/ssl"), .directory("etc/ssl/certs"), .file("etc/ssl/certs/ca-certificates.crt", "bundle\n"),
            .directory("etc/ssl/certs/java"), .file("etc/ssl/certs/java/cacerts", "java"),
        ], scratch: scratch)
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [bundlePackage], buildEpoch: 5))
        let entries = try layerEntries(rootfs)
        #expect(text(entries["etc/ssl/certs/.ca-certificates.crt.sha256"])
                == "\(DigestText.sha256("bundle\n"))  ca-certificates.crt\n")
        #expect(text(entries["etc/ssl/certs/java/.cacerts.sha256"]) == "\(DigestText.sha256("java"))  cacerts\n")
        #expect(text(entries["etc/ssl/certs/ca-certificates.crt"]) == "bundle\n")
        #expect(entries["etc/ssl/certs/ca-certificates.crt"]?.entry.modificationTime == 1_700_000_000, "untouched")
    }

    struct BadCertificate: Sendable, CustomStringConvertible {
        var name: String
        var content: String
        var description: String { name }
    }

    @Test func refusedCertificates() throws {
        let scratch = try ScratchDirectory()
        let one = try Self.makeCertificate("one", in: scratch)
        let two = try Self.makeCertificate("two", in: scratch)
        let key = try scratch.readText("one.key")
        for bad in [BadCertificate(name: "two-blocks", content: one + two), BadCertificate(name: "a-key", content: key),
                    BadCertificate(name: "../escape", content: one), BadCertificate(name: ".hidden", content: one),
                    BadCertificate(name: "garbage", content: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")] {
            let request = RootfsRequest(architecture: "x86_64", packages: [],
                                        certificates: Certificates(additional: [AdditionalCertificate(name: bad.name, content: bad.content)]))
            let error = #expect(throws: RootfsError.self, "\(bad.name)") { try Rootfs.compose(request) }
            #expect(error?.kind == .invalidInput)
        }
    }
}

enum DigestText {
    static func sha256(_ text: String) -> String {
        DigestAlgorithm.sha256.hash(Array(text.utf8)).hex
    }
}
