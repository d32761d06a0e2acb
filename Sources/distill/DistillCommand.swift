import ArgumentParser
import Foundation

/// The `distill` command line: each subcommand parses flags and calls into the library.
@main
struct DistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Build reproducible, signed OCI images from APK packages, driven by apko.yaml.",
        discussion: """
            Example:
              distill build apko.yaml registry.example/app:1.0 out/

            `distill version` (or `distill --version`) prints the version.

            Exit status:
              0  success
              1  failure: a missing file, a network error, an invalid config, a conflict, …
              2  usage: an unknown flag, a missing argument, an invalid option value
              3  verification failed: a signature, checksum or trust check did not pass
                 (an untrusted index, a tampered package; apk verify, index verify or
                 verify finding a bad file)

            Errors are one line on standard error: `Error: <where>: <what is wrong>`, often \
            ending with what to do about it (an unsatisfiable world adds one indented line per \
            problem). --log-level debug adds the steps the command was in.

            Progress (build, build-minirootfs, lock, push, publish) goes to standard error: on a terminal, one \
            redrawn line per activity with bytes, rate and ETA; otherwise one line per event:
              progress: <activity> <item> <completed>/<total> <state>
            activity: fetch (item <arch>/<name>-<version>, or a remote index's URL), layer \
            (<arch>/<n>), write (the output \
            path), push (the image reference; for publish, each registry/repository). completed and total are bytes; total is ? when \
            unknown, and for layer an estimate. state: plan (a group's expected total, item \
            <arch>), start, run (printed at most every 10 s per item), commit (the output is \
            complete and is renamed into place next), done. Spaces, control characters and % in \
            an item are written as %XX. --quiet shows no progress and no warnings.
            """,
        subcommands: [
            BuildCommand.self,
            BuildMinirootfsCommand.self,
            ShowConfigCommand.self,
            ShowPackagesCommand.self,
            LockCommand.self,
            DotCommand.self,
            APKCommand.self,
            IndexCommand.self,
            PackCommand.self,
            PublishCommand.self,
            PushCommand.self,
            KeygenCommand.self,
            SignCommand.self,
            VerifyCommand.self,
            VersionCommand.self,
        ]
    )

    /// Parses and runs the command, then exits with the documented status (ArgumentParser's own
    /// `main` would exit 64 for usage errors and 1 for everything else).
    static func main() async {
        // `distill --version` by hand rather than ArgumentParser's `version:`, which answers
        // `--version` anywhere on a command line that fails to parse (`distill pack --version
        // 1.0-r0` missing an option printed the version and exited 0), and rather than a root
        // flag, which would take `pack --version` from the subcommand.
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            print(DistillVersion.current)
            return
        }
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(usageOrHelp: error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
        } catch {
            let debug = (command as? any ConsoleCommand)?.consoleOptions.showsDebug ?? false
            exit(failure: error, debug: debug)
        }
    }

    /// Help and `--version` go out as ArgumentParser prints them (status 0); anything else the
    /// parser refused is a usage error, status 2.
    private static func exit(usageOrHelp error: any Error) -> Never {
        let code = exitCode(for: error)
        guard code == .validationFailure else { exit(withError: error) }
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(ExitStatus.usage)
    }

    private static func exit(failure error: any Error, debug: Bool) -> Never {
        if let exit = error as? ExitCode {
            Foundation.exit(exit.rawValue)
        }
        // A command without a subcommand asks for help by throwing; usage errors can come from
        // run() too (a flag value only checked there).
        let code = exitCode(for: error)
        if code == .success || code == .validationFailure {
            exit(usageOrHelp: error)
        }
        let lines = FailureText.lines(for: error, message: message(for: error), debug: debug)
        FileHandle.standardError.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        Foundation.exit(ExitStatus.code(for: error))
    }
}

/// A command that takes the shared ``ConsoleOptions`` (every leaf command does), so a failure is
/// reported at its `--log-level`.
protocol ConsoleCommand {
    /// Its `--log-level` and `--quiet`.
    var consoleOptions: ConsoleOptions { get }
}

/// The release this binary was built from.
enum DistillVersion {
    /// The version number.
    static let current = "0.1.0"
}

/// `distill version`.
struct VersionCommand: ParsableCommand, ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Distill's version.",
        discussion: "Example:\n  distill version"
    )

    @OptionGroup var consoleOptions: ConsoleOptions

    func run() {
        print("distill \(DistillVersion.current)")
    }
}
