import ArgumentParser
import HTTPTransport
import OCI

/// The flags every command that talks to a registry takes (include with `@OptionGroup`).
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"),
            help: ArgumentHelp("Registry (host or host:port) to reach over plain HTTP; repeat for several. localhost, 127.0.0.1 and [::1] always are.",
                               valueName: "host"))
    var insecureRegistries: [String] = []

    @Option(name: .customLong("registry-username"),
            help: ArgumentHelp("User name for the registry; overrides docker's config.json.", valueName: "user"))
    var username: String?

    @Option(name: .customLong("registry-password"),
            help: ArgumentHelp("Password or token for --registry-username.", valueName: "password"))
    var password: String?

    func validate() throws {
        if (username == nil) != (password == nil) {
            throw ValidationError("--registry-username and --registry-password go together")
        }
    }

    /// How to reach registries. `environment` gives `DOCKER_CONFIG` and `HOME`, read here so the
    /// library never reads the environment: credentials come from `$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json`, unless given on the command line.
    func access(environment: [String: String]) throws -> RegistryAccess {
        var dockerConfig: DockerConfigFile?
        if let directory = environment["DOCKER_CONFIG"] ?? environment["HOME"].map({ $0 + "/.docker" }) {
            dockerConfig = try DockerConfigFile(path: directory + "/config.json")
        }
        let explicit = username.flatMap { user in password.map { RegistryCredentials(username: user, password: $0) } }
        return RegistryAccess(http: URLSessionHTTPClient(), insecureRegistries: Set(insecureRegistries),
                              explicitCredentials: explicit, dockerConfig: dockerConfig)
    }
}
