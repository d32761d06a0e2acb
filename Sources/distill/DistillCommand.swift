import ArgumentParser

/// The `distill` command line: each subcommand parses flags and calls into the library.
@main
struct DistillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Build reproducible, signed OCI images from APK packages, driven by apko.yaml.",
        discussion: """
            Example:
              distill build apko.yaml registry.example/app:1.0 out/
            """,
        version: DistillVersion.current,
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
}

/// The release this binary was built from.
enum DistillVersion {
    static let current = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Distill's version.",
        discussion: "Example:\n  distill version"
    )

    func run() {
        print("distill \(DistillVersion.current)")
    }
}
