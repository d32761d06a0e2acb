import Foundation

/// cosign 2.5 from Debian trixie, unpacked by scripts/oracles.sh into
/// `$DISTILL_ORACLES/cosign` (default `$TMPDIR/distill-oracles/cosign`), installed there on
/// first use when `make test` has not done it yet.
public enum Cosign {
    /// The binary, installed on first use.
    public static let path: Result<String, any Error> = Result {
        let binary = "\(Oracles.root)/cosign/usr/bin/cosign"
        if !FileManager.default.isExecutableFile(atPath: binary) {
            try Oracles.run(["ensure_cosign"])
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ExternalTool.Failure(description: "scripts/oracles.sh ensure_cosign did not install \(binary)")
        }
        return binary
    }

    /// Runs cosign offline (no TUF, no Rekor: key-based verification with the tlog ignored).
    @discardableResult
    public static func run(_ arguments: [String], in scratch: ScratchDirectory, environment: [String: String] = [:]) throws -> ExternalTool.Output {
        let binary = try path.get()
        let settings = ["COSIGN_EXPERIMENTAL": "0", "SIGSTORE_NO_CACHE": "1", "TUF_ROOT": scratch.path("tuf"),
                        "HOME": scratch.url.path].merging(environment) { _, new in new }
        let assignments = settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return try ExternalTool.run("env", assignments + [binary] + arguments, in: scratch, expectSuccess: false)
    }
}
