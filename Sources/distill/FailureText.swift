import APK
import ArgumentParser
import Distill
import OCI
import Repository

/// The documented exit statuses (listed in `distill --help`).
enum ExitStatus {
    /// Anything that is neither a usage error nor a failed verification.
    static let failure: Int32 = 1
    /// The command line itself is wrong.
    static let usage: Int32 = 2
    /// A signature, checksum or trust check did not pass.
    static let verificationFailed: Int32 = 3

    /// The status a command that threw `error` exits with.
    static func code(for error: any Error) -> Int32 {
        if let exit = error as? ExitCode { return exit.rawValue }
        return isVerificationFailure(error) ? verificationFailed : failure
    }

    /// Whether `error` says that something is not what its signature or checksum claims.
    static func isVerificationFailure(_ error: any Error) -> Bool {
        switch error {
        case let error as DistillError:
            return error.failedVerification
        case let error as RepositoryError:
            return error.kind == .verificationFailed || error.kind == .untrustedIndex
        case let error as APKError:
            return [.untrusted, .unsigned, .badSignature, .badDataHash, .checksumMismatch].contains(error.kind)
        case let error as OCIError:
            return error.kind == .digestMismatch || error.kind == .sizeMismatch
        default:
            return false
        }
    }
}

/// How a failure reads on standard error.
enum FailureText {
    /// `Error: <message>`, then (for a resolution failure) one indented line per problem; with
    /// `debug`, the steps the command was in and the error's type and kind.
    static func lines(for error: any Error, message: String, debug: Bool) -> [String] {
        var lines: [String]
        if let error = error as? DistillError {
            lines = ["Error: \(error.message)"] + error.details.map { "  \($0)" }
            if debug {
                lines += error.context.map { "  while \($0)" }
                lines.append("  (\(error.kind.rawValue) error)")
            }
        } else {
            lines = ["Error: \(message)"]
            if debug { lines.append("  (\(typeAndKind(of: error)))") }
        }
        return lines
    }

    /// `OCIError.transport`: the error's type and, when it has one, its `kind`.
    static func typeAndKind(of error: any Error) -> String {
        let name = String(describing: type(of: error))
        guard let kind = Mirror(reflecting: error).children.first(where: { $0.label == "kind" })?.value else { return name }
        return "\(name).\(kind)"
    }
}
