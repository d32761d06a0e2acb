import APK
import ArgumentParser
import DistillCrypto
import Signing

/// `distill keygen NAME`: a signing key pair.
struct KeygenCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a signing key pair.",
        discussion: """
            Without --type it makes an apk signing key like abuild-keygen: NAME.rsa (private, \
            mode 0600) and NAME.rsa.pub (RSA, --bits). Install NAME.rsa.pub under that very name in \
            a keyring (/etc/apk/keys): signatures name the key by its file name.

            With --type ecdsa-p256|rsa|ed25519 it makes an image signing key: NAME.key (PKCS#8 PEM, \
            mode 0600) for distill sign, and NAME.pub (PEM public key) for distill verify, \
            cosign verify --key and containers-policy.json's keyPath. ecdsa-p256 is what every \
            cosign verifier must support.

            Existing files are not overwritten.

            Examples:
              distill keygen keys/builder@example.com-1
              distill keygen --type ecdsa-p256 keys/image-signing
            """
    )

    /// The image signing key types (`--type`); without it, an apk RSA key is made.
    enum KeyType: String, ExpressibleByArgument, CaseIterable {
        /// ECDSA on P-256 with SHA-256, cosign's default.
        case ecdsaP256 = "ecdsa-p256"
        /// RSA with PKCS#1 v1.5 and SHA-256.
        case rsa
        /// Pure Ed25519.
        case ed25519

        var algorithm: KeyAlgorithm {
            switch self {
            case .ecdsaP256: .ecdsaP256
            case .rsa: .rsa
            case .ed25519: .ed25519
            }
        }
    }

    @Option(help: "Make an image signing key of this type (NAME.key, NAME.pub) instead of an apk key.")
    var type: KeyType?

    @Option(help: "RSA modulus size: 2048, 3072 or 4096.")
    var bits: Int = 4096

    @Argument(help: "The key's name, optionally with a directory: NAME.rsa and NAME.rsa.pub (apk) or NAME.key and NAME.pub (--type) are written.")
    var name: String

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() throws {
        guard let type else {
            let files = try KeyGeneration.writeRSAKeyPair(pathPrefix: name, bitCount: bits)
            print("private key: \(files.privateKeyPath)")
            print("public key: \(files.publicKeyPath)")
            return
        }
        let files = try SigningKeyFile.generate(type.algorithm, pathPrefix: name, rsaBitCount: bits)
        print("private key: \(files.privateKeyPath)")
        print("public key: \(files.publicKeyPath)")
    }
}
