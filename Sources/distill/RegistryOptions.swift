import ArgumentParser
import Foundation
import OCI

/// How the signing commands reach registries: plain HTTP hosts, and credentials from docker's
/// config file (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("insecure-registry"),
            help: ArgumentHelp("A registry (host[:port]) to reach over plain HTTP; repeatable. Loopback registries always are.",
                               valueName: "host"))
    var insecureRegistries: [String] = []

    /// The access the library uses.
    func access() throws -> RegistryAccess {
        let environment = ProcessInfo.processInfo.environment
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".docker").path
        let dockerConfig = try DockerConfigFile(path: URL(fileURLWithPath: directory).appendingPathComponent("config.json").path)
        return RegistryAccess(http: URLSessionHTTPClient(), insecureRegistries: Set(insecureRegistries), dockerConfig: dockerConfig)
    }
}
