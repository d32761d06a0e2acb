import APK

extension Entrypoint {
    /// What apko runs for `type: service-bundle`.
    public static let serviceBundleCommand = "/bin/s6-svscan /sv"
}

extension ImageConfiguration {
    /// apko's default `PATH`.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/bin:/usr/sbin:/sbin:/bin"
    /// apko's default `SSL_CERT_FILE`.
    public static let defaultCertificateFile = "/etc/ssl/certs/ca-certificates.crt"

    /// The configuration with apko's defaults filled in, as a build uses it:
    /// `PATH` and `SSL_CERT_FILE` when absent (not on a base image); each user's gid (its uid), shell (`/bin/sh`) and
    /// home (`/home/<name>`); `run-as` naming a configured user becomes that user's uid; and for
    /// `type: service-bundle` the s6 command and the `s6` package. Applying it twice changes nothing.
    public func withDefaults() -> ImageConfiguration {
        var result = self
        // On a base image the environment is the base image's; apko allows no `environment:` there.
        if result.contents.baseImage == nil {
            if result.environment["PATH"] == nil { result.environment["PATH"] = Self.defaultPath }
            if result.environment["SSL_CERT_FILE"] == nil { result.environment["SSL_CERT_FILE"] = Self.defaultCertificateFile }
        }
        for index in result.accounts.users.indices {
            var user = result.accounts.users[index]
            if user.gid == nil { user.gid = user.uid }
            if user.shell.isEmpty { user.shell = "/bin/sh" }
            if user.homeDirectory.isEmpty { user.homeDirectory = "/home/" + user.username }
            result.accounts.users[index] = user
        }
        if let user = result.accounts.users.first(where: { $0.username == result.accounts.runAs }) {
            result.accounts.runAs = String(user.uid)
        }
        if result.entrypoint.type == .serviceBundle {
            if result.entrypoint.command.isEmpty { result.entrypoint.command = Entrypoint.serviceBundleCommand }
            if !result.contents.packages.contains(where: { $0.name == "s6" && !$0.isConflict }) {
                result.contents.packages.append(Dependency(name: "s6"))
            }
        }
        return result
    }

    /// The OCI `Entrypoint`: `/bin/sh -c <shell-fragment>`, the s6 supervisor for a service bundle,
    /// or the shell-split `command`; empty when none is set.
    public func ociEntrypoint() throws -> [String] {
        if !entrypoint.shellFragment.isEmpty { return ["/bin/sh", "-c", entrypoint.shellFragment] }
        if entrypoint.type == .serviceBundle { return try ShellWords.split(Entrypoint.serviceBundleCommand) }
        return try ShellWords.split(entrypoint.command)
    }

    /// The OCI `Cmd`: `cmd` shell-split.
    public func ociCmd() throws -> [String] {
        try ShellWords.split(cmd)
    }

    /// The OCI `Env`: `K=V`, sorted, defaults included.
    public func ociEnvironment() -> [String] {
        withDefaults().environment.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// The architectures to build: `archs:` when set, otherwise only the host's. (apko builds all
    /// nine when nothing is set; Distill builds what it can run, and says so.)
    public func architecturesToBuild() -> (architectures: [Architecture], isHostDefault: Bool) {
        archs.isEmpty ? ([Architecture.host], true) : (archs, false)
    }
}
