import APK
import DistillCrypto

/// The CA bundles apko appends to when they exist, and the trust stores that get a checksum
/// sidecar (reference/apko.md §1.8).
enum TrustStores {
    static let bundles = [
        "etc/ssl/certs/ca-certificates.crt",
        "var/lib/ecs/deps/execute-command/certs/tls-ca-bundle.pem",
        "kaniko/ssl/certs/ca-certificates.crt",
    ]
    static let javaTruststore = "etc/ssl/certs/java/cacerts"
    static let certificateDirectory = "usr/local/share/ca-certificates"
    static let systemCertificateDirectory = "usr/share/ca-certificates/"
    static let configuration = "etc/ca-certificates.conf"
}

/// One certificate ready to be appended: its DER (for the fingerprint) and its PEM, re-encoded
/// the way Go's `pem.Encode` writes it (64-column base64, no text around it).
struct ParsedCertificate: Sendable {
    var der: [UInt8]
    var pem: [UInt8]

    /// The SHA-256 of the DER in lowercase hex (apko's file-name fingerprint).
    var fingerprint: String { DigestAlgorithm.sha256.hash(der).hex }

    /// Exactly one `CERTIFICATE` block whose DER has an X.509 certificate's outer structure;
    /// nil for anything else (several blocks, a key, broken base64, other DER).
    init?(pem text: String) {
        let blocks = text.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("-----BEGIN ") }.count
        guard blocks == 1, let document = try? PEMDocument(pemRepresentation: text), document.label == "CERTIFICATE",
              DER.looksLikeCertificate(document.der) else { return nil }
        der = document.der
        pem = Array(document.pemRepresentation.utf8)
    }
}

/// Just enough DER to tell an X.509 certificate from other data: `SEQUENCE { SEQUENCE (tbs,
/// starting with `[0]` version or the serial INTEGER), SEQUENCE (algorithm), BIT STRING }` with
/// definite lengths that add up exactly. The signature is not checked: the image's consumers
/// decide what they trust.
enum DER {
    static func looksLikeCertificate(_ bytes: [UInt8]) -> Bool {
        guard let outer = element(bytes, at: 0), outer.tag == 0x30, outer.end == bytes.count else { return false }
        var position = outer.contentStart
        var tags: [UInt8] = []
        var tbsFirstTag: UInt8?
        while position < outer.end {
            guard let child = element(bytes, at: position), child.end <= outer.end else { return false }
            if tags.isEmpty, child.contentStart < child.end { tbsFirstTag = bytes[child.contentStart] }
            tags.append(child.tag)
            position = child.end
        }
        return tags == [0x30, 0x30, 0x03] && (tbsFirstTag == 0xA0 || tbsFirstTag == 0x02)
    }

    private static func element(_ bytes: [UInt8], at start: Int) -> (tag: UInt8, contentStart: Int, end: Int)? {
        guard start + 2 <= bytes.count else { return nil }
        let tag = bytes[start]
        let first = Int(bytes[start + 1])
        var contentStart = start + 2
        var length = first
        if first & 0x80 != 0 {
            let count = first & 0x7f
            guard count >= 1, count <= 4, contentStart + count <= bytes.count else { return nil }
            length = 0
            for index in 0..<count { length = length << 8 | Int(bytes[contentStart + index]) }
            contentStart += count
        }
        guard contentStart + length <= bytes.count else { return nil }
        return (tag, contentStart, contentStart + length)
    }
}

extension Composition {
    /// `certificates` (reference/apko.md §1.8): each `additional` certificate is written to
    /// `usr/local/share/ca-certificates/<name>-<fingerprint>.crt`; the `.crt`/`.pem` files of the
    /// provider packages (sorted by path; files that are not exactly one certificate skipped, as
    /// apko does) are collected, and those under `usr/share/ca-certificates/` registered in
    /// `etc/ca-certificates.conf`; then every certificate, followed by a newline, is appended to
    /// each CA bundle that exists. Touched files are dated with the build epoch. The Java
    /// truststore is not updated.
    func installCertificates() throws(RootfsError) {
        let epoch = request.buildEpoch
        var certificates: [ParsedCertificate] = []
        for additional in request.certificates.additional {
            guard Self.isCertificateName(additional.name) else {
                throw RootfsError(.invalidInput, "certificates: name \(quoted(additional.name)) does not match ^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$")
            }
            guard let certificate = ParsedCertificate(pem: additional.content) else {
                throw RootfsError(.invalidInput, "certificates: \(quoted(additional.name)) is not exactly one PEM CERTIFICATE")
            }
            try writeFile(Paths.join(TrustStores.certificateDirectory, "\(additional.name)-\(certificate.fingerprint).crt"),
                          .bytes(certificate.pem), modificationTime: epoch, what: "certificates")
            certificates.append(certificate)
        }

        var providedFiles: [String] = []
        for name in request.certificates.providerPackages {
            guard let record = records.first(where: { $0.info.name == name }) else {
                throw RootfsError(.invalidInput, "certificates: provider package \(quoted(name)) is not installed")
            }
            providedFiles += record.filePaths.filter { $0.hasSuffix(".crt") || $0.hasSuffix(".pem") }
        }
        var registered: [String] = []
        for path in providedFiles.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            guard let bytes = try readFile(path), let certificate = ParsedCertificate(pem: String(decoding: bytes, as: UTF8.self)) else {
                continue
            }
            certificates.append(certificate)
            if path.hasPrefix(TrustStores.systemCertificateDirectory) {
                registered.append(String(path.dropFirst(TrustStores.systemCertificateDirectory.count)))
            }
        }
        if !registered.isEmpty {
            let lines = Array(registered.map { $0 + "\n" }.joined().utf8)
            if let found = lookup(TrustStores.configuration), found.node.kind == .regular {
                let path = found.path
                modify(path) { node in
                    node.content = node.content.appending(lines)
                    node.modificationTime = epoch
                }
            } else {
                try writeFile(TrustStores.configuration, .bytes(lines), modificationTime: epoch, what: "certificates")
            }
        }

        guard !certificates.isEmpty else { return }
        let appended = certificates.flatMap { $0.pem + [UInt8(ascii: "\n")] }
        for bundle in TrustStores.bundles {
            guard let found = lookup(bundle), found.node.kind == .regular else { continue }
            let path = found.path
            modify(path) { node in
                node.content = node.content.appending(appended)
                node.modificationTime = epoch
            }
        }
    }

    /// Every trust store that exists gets `.<name>.sha256` beside it: `<sha256 hex>  <name>\n`
    /// (`sha256sum -c` from that directory), mode 0444, dated with the build epoch.
    func writeTrustStoreChecksums() throws(RootfsError) {
        for store in TrustStores.bundles + [TrustStores.javaTruststore] {
            guard let found = lookup(store), found.node.kind == .regular else { continue }
            let (path, node) = found
            var hasher = DigestHasher(.sha256)
            do {
                try reader.copy(node.content) { hasher.update($0) }
            } catch let error as RootfsError {
                throw error
            } catch {
                throw RootfsError(.io, "cannot hash /\(path): \(error)", path: path)
            }
            let name = Paths.baseName(store)
            let line = "\(hasher.finalize().hex)  \(name)\n"
            try writeFile(Paths.join(Paths.parent(store), ".\(name).sha256"), .bytes(Array(line.utf8)), mode: 0o444,
                          modificationTime: request.buildEpoch, what: "certificate checksums")
        }
    }

    /// apko's rule for certificate and runtime key names: `^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$`.
    static func isCertificateName(_ name: String) -> Bool {
        func allowed(_ scalar: Unicode.Scalar, dot: Bool) -> Bool {
            (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
                || scalar == "_" || scalar == "-" || (dot && scalar == ".")
        }
        guard let first = name.unicodeScalars.first, allowed(first, dot: false) else { return false }
        return name.unicodeScalars.allSatisfy { allowed($0, dot: true) }
    }
}
