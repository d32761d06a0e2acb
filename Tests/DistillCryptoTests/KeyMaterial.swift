import TestSupport
import Foundation

/// Keys made by the `openssl` CLI, once per test process, in every form the tests read.
/// File names are paths inside `directory`, for handing to further `openssl` commands.
final class KeyMaterial: Sendable {
    /// Generated on first use; a failure here fails every test that needs the keys.
    static let shared = Result { try KeyMaterial() }

    let directory: ScratchDirectory

    init() throws {
        let directory = try ScratchDirectory()
        self.directory = directory
        func openssl(_ arguments: String...) throws {
            try ExternalTool.run("openssl", arguments, in: directory)
        }
        // RSA: OpenSSL 3 writes PKCS#8 from genrsa; -traditional gives PKCS#1.
        try openssl("genrsa", "-out", "rsa.pem", "2048")
        try openssl("rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa-pkcs1.pem")
        try openssl("rsa", "-in", "rsa.pem", "-pubout", "-out", "rsa-pub.pem")
        try openssl("rsa", "-in", "rsa.pem", "-RSAPublicKey_out", "-out", "rsa-pub-pkcs1.pem")
        // ECDSA P-256: ecparam writes SEC 1 (EC PRIVATE KEY); genpkey writes PKCS#8.
        try openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ec-sec1.pem")
        try openssl("ec", "-in", "ec-sec1.pem", "-pubout", "-out", "ec-sec1-pub.pem")
        try openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem")
        try openssl("pkey", "-in", "ec.pem", "-pubout", "-out", "ec-pub.pem")
        // Ed25519.
        try openssl("genpkey", "-algorithm", "ED25519", "-out", "ed25519.pem")
        try openssl("pkey", "-in", "ed25519.pem", "-pubout", "-out", "ed25519-pub.pem")
        // Types Distill does not sign with.
        try openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.pem")
        try openssl("pkey", "-in", "p384.pem", "-pubout", "-out", "p384-pub.pem")
        try openssl("genpkey", "-algorithm", "ED448", "-out", "ed448.pem")
        try openssl("pkey", "-in", "ed448.pem", "-pubout", "-out", "ed448-pub.pem")
    }

    func text(_ name: String) throws -> String {
        try directory.readText(name)
    }

    func path(_ name: String) -> String {
        directory.path(name)
    }
}
