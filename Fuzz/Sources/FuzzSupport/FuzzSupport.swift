import APK
import DistillCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the signature-checking fuzz targets share: a keyring that makes `.SIGN.*` entries reach
/// real RSA verification.
public enum FuzzSupport {
    /// One freshly generated key named `fuzz.rsa.pub` (so synthetic `.SIGN.RSA.fuzz.rsa.pub`
    /// entries are verified), plus every `*.rsa.pub` in the directories listed in
    /// `DISTILL_FUZZ_KEYS` (colon-separated; scripts/fuzz.sh points it at the fixtures' keys, so
    /// mutated real packages and indexes are verified too).
    public static let keyring: Keyring = {
        var keyring = Keyring()
        if let key = try? RSAPrivateKey.generate(bitCount: 2048) {
            keyring.add(key.publicKey, named: "fuzz.rsa.pub")
        }
        if let directories = environment("DISTILL_FUZZ_KEYS") {
            for directory in directories.split(separator: ":") {
                try? keyring.addKeys(inDirectory: String(directory), replacing: false)
            }
        }
        return keyring
    }()

    /// The value of an environment variable, nil when unset.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// libFuzzer's input as an array (an empty input may come with a null pointer).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
