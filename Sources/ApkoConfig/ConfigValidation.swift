import APK

/// The rules that span several values, checked once includes are merged and overrides applied.
enum ConfigValidation {
    static func validate(_ configuration: ImageConfiguration, sources: ConfigSourceMap) throws {
        func fail(_ message: String, at location: SourcePosition?) -> ConfigError {
            guard let location else { return ConfigError(.invalidValue, message) }
            return ConfigError(.invalidValue, message, at: location)
        }

        if configuration.contents.baseImage != nil {
            let offending: [(String, Bool)] = [
                ("entrypoint", !configuration.entrypoint.isEmpty),
                ("cmd", !configuration.cmd.isEmpty),
                ("stop-signal", !configuration.stopSignal.isEmpty),
                ("work-dir", !configuration.workDir.isEmpty),
                ("accounts", configuration.accounts != Accounts()),
                ("environment", !configuration.environment.isEmpty),
                ("paths", !configuration.paths.isEmpty),
                ("annotations", !configuration.annotations.isEmpty),
            ]
            if let key = offending.first(where: { $0.1 })?.0 {
                throw fail("\(key) cannot be used with contents.baseimage; a config on a base image may only set contents, archs and include",
                           at: sources.fields[key] ?? sources.fields["contents.baseimage"])
            }
        }

        if configuration.format == .erofs, configuration.layering != nil {
            throw fail("format: erofs cannot be combined with layering; remove one of them",
                       at: sources.fields["format"] ?? sources.fields["layering"])
        }

        var keyNames: [String: Int] = [:]
        for (index, key) in configuration.contents.runtimeKeyring.enumerated() {
            if let first = keyNames[key.name] {
                let firstPlace = sources.runtimeKeyring[safe: first]??.description ?? "an earlier entry"
                throw fail("runtime_keyring has two keys named \(quoted(key.name)) (the first at \(firstPlace)); each becomes /etc/apk/keys/\(key.name)",
                           at: sources.runtimeKeyring[safe: index] ?? nil)
            }
            keyNames[key.name] = index
        }

        let resolvingTags = Set((configuration.contents.repositories + configuration.contents.buildRepositories).compactMap(\.tag))
        for (index, package) in configuration.contents.packages.enumerated() {
            if let tag = package.tag, !resolvingTags.contains(tag) {
                throw fail("package \(quoted(PackageSpelling.spelling(of: package))) pins the repository tag @\(tag), but no repository is declared as \"@\(tag) URL\"",
                           at: sources.packages[safe: index] ?? nil)
            }
        }
    }

    /// Combinations apko accepts but resolves silently; each is reported, none fails the load.
    static func warnings(for configuration: ImageConfiguration, sources: ConfigSourceMap) -> [ConfigWarning] {
        var warnings: [ConfigWarning] = []
        let entrypoint = configuration.entrypoint
        let place = sources.fields["entrypoint"]
        if entrypoint.type == .serviceBundle {
            if !entrypoint.command.isEmpty && entrypoint.command != Entrypoint.serviceBundleCommand {
                warnings.append(ConfigWarning("entrypoint.command is replaced by \"\(Entrypoint.serviceBundleCommand)\" for type: service-bundle",
                                              at: sources.fields["entrypoint.command"] ?? place))
            }
            if !entrypoint.shellFragment.isEmpty {
                warnings.append(ConfigWarning("entrypoint.shell-fragment replaces the service bundle's s6-svscan entrypoint",
                                              at: sources.fields["entrypoint.shell-fragment"] ?? place))
            }
            if entrypoint.services.isEmpty {
                warnings.append(ConfigWarning("entrypoint type: service-bundle has no services", at: place))
            }
        } else {
            if !entrypoint.services.isEmpty {
                warnings.append(ConfigWarning("entrypoint.services is ignored unless entrypoint.type is service-bundle",
                                              at: sources.fields["entrypoint.services"] ?? place))
            }
            if !entrypoint.command.isEmpty && !entrypoint.shellFragment.isEmpty {
                warnings.append(ConfigWarning("entrypoint has both command and shell-fragment; shell-fragment wins and command is ignored",
                                              at: sources.fields["entrypoint.command"] ?? place))
            }
        }
        return warnings
    }
}

extension Array {
    subscript(safe index: Int) -> Element? {
        indices.contains(index) ? self[index] : nil
    }
}
