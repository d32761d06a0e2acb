import APK
import ArgumentParser

/// `distill keygen NAME`: a signing key pair.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate a signing key pair.",
        discussion: """
            --type rsa (the default) makes an apk signing key like abuild-keygen: NAME.rsa (private, \
            mode 0600) and NAME.rsa.pub. Install NAME.rsa.pub under that very name in a keyring \
            (/etc/apk/keys): signatures name the key by its file name. Existing files are not overwritten.

            Example:
              distill keygen keys/builder@example.com-1
            """
    )

    /// The kinds of key this command makes.
    enum KeyType: String, ExpressibleByArgument, CaseIterable {
        /// An RSA key for signing packages and indexes.
        case rsa
    }

    @Option(help: "The key type.")
    var type: KeyType = .rsa

    @Option(help: "RSA modulus size: 2048, 3072 or 4096.")
    var bits: Int = 4096

    @Argument(help: "The key's name, optionally with a directory: NAME.rsa and NAME.rsa.pub are written.")
    var name: String

    func run() throws {
        switch type {
        case .rsa:
            let files = try KeyGeneration.writeRSAKeyPair(pathPrefix: name, bitCount: bits)
            print("private key: \(files.privateKeyPath)")
            print("public key: \(files.publicKeyPath)")
        }
    }
}
