import APK

/// One file's configuration, before its include is merged in.
struct DecodedConfig {
    var configuration = ImageConfiguration()
    var sources = ConfigSourceMap()
    var warnings: [ConfigWarning] = []
}

extension NodeDecoder {
    /// Decodes a whole config document. Every rule that concerns a single value is checked here,
    /// where the value's position is at hand; rules that span values run after includes merge.
    func decodeConfiguration(_ root: YAMLNode) throws -> DecodedConfig {
        var decoded = DecodedConfig()
        for pair in try fields(of: root, path: "", keys: ConfigSchema.topLevel) {
            let value = pair.value
            decoded.sources.fields[pair.key] = location(ofKey: pair)
            switch pair.key {
            case "contents": try decodeContents(value, into: &decoded)
            case "entrypoint": try decodeEntrypoint(value, into: &decoded)
            case "cmd":
                decoded.configuration.cmd = try string(value, path: "cmd") ?? ""
                try checkShellWords(decoded.configuration.cmd, node: value, field: "cmd")
            case "stop-signal": decoded.configuration.stopSignal = try string(value, path: "stop-signal") ?? ""
            case "work-dir": decoded.configuration.workDir = try string(value, path: "work-dir") ?? ""
            case "accounts": try decodeAccounts(value, into: &decoded)
            case "archs": decoded.configuration.archs = try decodeArchitectures(value)
            case "environment":
                for entry in try stringMap(value, path: "environment") {
                    if entry.key.isEmpty || entry.key.contains("=") {
                        throw ConfigError(.invalidValue, "environment variable name \(quoted(entry.key)) is empty or contains '='",
                                          at: location(ofKey: entry.pair))
                    }
                    decoded.configuration.environment[entry.key] = entry.value
                }
            case "paths":
                for (index, item) in try list(value, path: "paths").enumerated() {
                    decoded.configuration.paths.append(try decodePath(item, path: "paths[\(index)]", warnings: &decoded.warnings))
                    decoded.sources.paths.append(location(of: item))
                }
            case "vcs-url": decoded.configuration.vcsURL = try string(value, path: "vcs-url") ?? ""
            case "annotations":
                for entry in try stringMap(value, path: "annotations") {
                    if entry.key.isEmpty {
                        throw ConfigError(.invalidValue, "an annotation has an empty key", at: location(ofKey: entry.pair))
                    }
                    decoded.configuration.annotations[entry.key] = entry.value
                }
            case "include":
                decoded.configuration.include = try string(value, path: "include") ?? ""
                decoded.sources.fields["include"] = location(of: value)
            case "volumes":
                for (volume, node) in try stringList(value, path: "volumes") {
                    if volume.isEmpty { throw error(.invalidValue, "volumes has an empty entry", at: node) }
                    decoded.configuration.volumes.append(volume)
                }
            case "layering": decoded.configuration.layering = try decodeLayering(value)
            case "format":
                decoded.configuration.format = try choice(value, path: "format", as: LayerFormat.self)
            case "certificates": try decodeCertificates(value, into: &decoded)
            default: break
            }
        }
        return decoded
    }

    private func checkShellWords(_ text: String, node: YAMLNode, field: String) throws {
        do {
            _ = try ShellWords.split(text)
        } catch {
            throw relocate(error, at: node, field: field)
        }
    }

    // MARK: contents

    private func decodeContents(_ node: YAMLNode, into decoded: inout DecodedConfig) throws {
        for pair in try fields(of: node, path: "contents", keys: ConfigSchema.contents) {
            let path = "contents.\(pair.key)"
            decoded.sources.fields[path] = location(ofKey: pair)
            switch pair.key {
            case "repositories", "build_repositories", "runtime_repositories":
                var references: [RepositoryReference] = []
                var locations: [SourcePosition?] = []
                for (index, (text, item)) in try stringList(pair.value, path: path).enumerated() {
                    do {
                        references.append(try RepositoryReference(parsing: text))
                    } catch {
                        throw relocate(error, at: item, field: "\(path)[\(index)]")
                    }
                    locations.append(location(of: item))
                }
                switch pair.key {
                case "repositories":
                    decoded.configuration.contents.repositories = references
                    decoded.sources.repositories = locations
                case "build_repositories":
                    decoded.configuration.contents.buildRepositories = references
                    decoded.sources.buildRepositories = locations
                default:
                    decoded.configuration.contents.runtimeRepositories = references
                    decoded.sources.runtimeRepositories = locations
                }
            case "keyring":
                for (index, (text, item)) in try stringList(pair.value, path: path).enumerated() {
                    if text.trimmingSpaces.isEmpty {
                        throw error(.invalidValue, "\(path)[\(index)] is empty; give a key file path or an https:// URL", at: item)
                    }
                    decoded.configuration.contents.keyring.append(text)
                    decoded.sources.keyring.append(location(of: item))
                }
            case "runtime_keyring":
                for (index, item) in try list(pair.value, path: path).enumerated() {
                    let key = try decodeInlineKey(item, path: "\(path)[\(index)]", what: "key")
                    decoded.configuration.contents.runtimeKeyring.append(key)
                    decoded.sources.runtimeKeyring.append(location(of: item))
                }
            case "packages":
                for (index, (text, item)) in try stringList(pair.value, path: path).enumerated() {
                    do {
                        decoded.configuration.contents.packages.append(try PackageSpelling.parse(text))
                    } catch {
                        throw relocate(error, at: item, field: "\(path)[\(index)]")
                    }
                    decoded.sources.packages.append(location(of: item))
                }
            case "baseimage":
                if pair.value.isNull { continue }
                var image = ""
                var apkIndex = ""
                for field in try fields(of: pair.value, path: path, keys: ConfigSchema.baseImage) {
                    let text = try string(field.value, path: "\(path).\(field.key)") ?? ""
                    if field.key == "image" { image = text } else { apkIndex = text }
                }
                if image.isEmpty || apkIndex.isEmpty {
                    throw error(.invalidValue, "\(path) needs both \"image\" (a local OCI layout) and \"apkindex\" (a directory with <arch>/APKINDEX)", at: pair.value)
                }
                decoded.configuration.contents.baseImage = BaseImage(image: image, apkIndex: apkIndex)
            default: break
            }
        }
    }

    /// A `{name, content}` entry of `runtime_keyring` or `certificates.additional`.
    private func decodeInlineKey(_ node: YAMLNode, path: String, what: String) throws -> InlineKey {
        var name = ""
        var content = ""
        for pair in try fields(of: node, path: path, keys: ConfigSchema.inlineKey) {
            let text = try string(pair.value, path: "\(path).\(pair.key)") ?? ""
            if pair.key == "name" {
                if !ConfigSchema.isValidFileName(text) {
                    throw error(.invalidValue, "\(path).name \(quoted(text)) must be a file name of letters, digits, '_', '-' and '.', not starting with '.'", at: pair.value)
                }
                name = text
            } else {
                content = text
            }
        }
        if name.isEmpty {
            throw error(.invalidValue, "\(path) has no name", at: node)
        }
        if content.trimmingSpaces.isEmpty {
            throw error(.invalidValue, "\(path) (\(name)) has no content; give the PEM text of the \(what)", at: node)
        }
        return InlineKey(name: name, content: content)
    }

    // MARK: entrypoint

    private func decodeEntrypoint(_ node: YAMLNode, into decoded: inout DecodedConfig) throws {
        var entrypoint = Entrypoint()
        for pair in try fields(of: node, path: "entrypoint", keys: ConfigSchema.entrypoint) {
            let path = "entrypoint.\(pair.key)"
            decoded.sources.fields[path] = location(ofKey: pair)
            switch pair.key {
            case "type":
                entrypoint.type = try choice(pair.value, path: path, as: EntrypointType.self)
            case "command":
                entrypoint.command = try string(pair.value, path: path) ?? ""
                try checkShellWords(entrypoint.command, node: pair.value, field: path)
            case "shell-fragment":
                entrypoint.shellFragment = try string(pair.value, path: path) ?? ""
            case "services":
                for entry in try stringMap(pair.value, path: path) {
                    if entry.key.isEmpty || entry.key.contains("/") || entry.key == "." || entry.key == ".." {
                        throw ConfigError(.invalidValue, "service name \(quoted(entry.key)) must be a plain directory name under /sv",
                                          at: location(ofKey: entry.pair))
                    }
                    entrypoint.services[entry.key] = entry.value
                }
            default: break
            }
        }
        decoded.configuration.entrypoint = entrypoint
    }

    // MARK: accounts

    private func decodeAccounts(_ node: YAMLNode, into decoded: inout DecodedConfig) throws {
        for pair in try fields(of: node, path: "accounts", keys: ConfigSchema.accounts) {
            let path = "accounts.\(pair.key)"
            decoded.sources.fields[path] = location(ofKey: pair)
            switch pair.key {
            case "run-as":
                decoded.configuration.accounts.runAs = try string(pair.value, path: path) ?? ""
            case "users":
                for (index, item) in try list(pair.value, path: path).enumerated() {
                    decoded.configuration.accounts.users.append(try decodeUser(item, path: "\(path)[\(index)]"))
                    decoded.sources.users.append(location(of: item))
                }
            case "groups":
                for (index, item) in try list(pair.value, path: path).enumerated() {
                    decoded.configuration.accounts.groups.append(try decodeGroup(item, path: "\(path)[\(index)]"))
                    decoded.sources.groups.append(location(of: item))
                }
            default: break
            }
        }
    }

    /// Text that goes into a colon-separated `/etc/passwd` or `/etc/group` field.
    private func accountField(_ node: YAMLNode, path: String) throws -> String {
        let text = try string(node, path: path) ?? ""
        if text.contains(":") || text.contains(where: \.isNewline) {
            throw error(.invalidValue, "\(path) \(quoted(text)) cannot contain ':' or a line break (it goes into /etc/passwd)", at: node)
        }
        return text
    }

    private func decodeUser(_ node: YAMLNode, path: String) throws -> User {
        var username = ""
        var uid: UInt32?
        var user = User(username: "", uid: 0)
        for pair in try fields(of: node, path: path, keys: ConfigSchema.user) {
            let field = "\(path).\(pair.key)"
            switch pair.key {
            case "username": username = try accountField(pair.value, path: field)
            case "uid":
                uid = try uint32(pair.value, path: field)
                if uid == 0 {
                    throw error(.invalidValue, "\(field) is 0: a configured user cannot be root (to run as root, use `run-as: 0`)", at: pair.value)
                }
            case "gid": user.gid = try uint32(pair.value, path: field)
            case "shell": user.shell = try accountField(pair.value, path: field)
            case "homedir": user.homeDirectory = try accountField(pair.value, path: field)
            default: break
            }
        }
        if username.isEmpty {
            throw error(.invalidValue, "\(path) has no username", at: node)
        }
        guard let uid else {
            throw error(.invalidValue, "\(path) (\(username)) has no uid", at: node)
        }
        user.username = username
        user.uid = uid
        return user
    }

    private func decodeGroup(_ node: YAMLNode, path: String) throws -> Group {
        var group = Group(groupname: "", gid: 0)
        for pair in try fields(of: node, path: path, keys: ConfigSchema.group) {
            let field = "\(path).\(pair.key)"
            switch pair.key {
            case "groupname": group.groupname = try accountField(pair.value, path: field)
            case "gid": group.gid = try uint32(pair.value, path: field) ?? 0
            case "members":
                for (index, item) in try list(pair.value, path: field).enumerated() {
                    let member = try accountField(item, path: "\(field)[\(index)]")
                    if member.isEmpty || member.contains(",") {
                        throw error(.invalidValue, "\(field)[\(index)] must be a user name without ','", at: item)
                    }
                    group.members.append(member)
                }
            default: break
            }
        }
        if group.groupname.isEmpty {
            throw error(.invalidValue, "\(path) has no groupname", at: node)
        }
        return group
    }

    // MARK: archs

    private func decodeArchitectures(_ node: YAMLNode) throws -> [Architecture] {
        var names: [String] = []
        for (index, (name, item)) in try stringList(node, path: "archs").enumerated() {
            if Architecture.parseList([name]).unknown.isEmpty == false {
                var message = "archs[\(index)] \(quoted(name)) is not an architecture; use one of \(Architecture.acceptedNames)"
                let known = Architecture.all.flatMap { [$0.apkName, $0.ociName] }
                if let suggestion = closestKey(to: name, among: known) {
                    message = "archs[\(index)] \(quoted(name)) is not an architecture (did you mean \(quoted(suggestion))?)"
                }
                throw error(.invalidValue, message, at: item)
            }
            names.append(name)
        }
        return Architecture.parseList(names).architectures
    }

    // MARK: paths

    private func decodePath(_ node: YAMLNode, path: String, warnings: inout [ConfigWarning]) throws -> PathMutation {
        var target = ""
        var kind: PathMutation.Kind?
        var mutation = PathMutation(path: "", type: .directory)
        for pair in try fields(of: node, path: path, keys: ConfigSchema.path) {
            let field = "\(path).\(pair.key)"
            switch pair.key {
            case "path": target = try string(pair.value, path: field) ?? ""
            case "type": kind = try choice(pair.value, path: field, as: PathMutation.Kind.self)
            case "uid": mutation.uid = try uint32(pair.value, path: field)
            case "gid": mutation.gid = try uint32(pair.value, path: field)
            case "permissions":
                let mode = try uint32(pair.value, path: field)
                if let mode, mode > 0o7777 {
                    throw error(.invalidValue, "\(field) is 0o\(String(mode, radix: 8)); a mode has at most four octal digits (0o7777)", at: pair.value)
                }
                if let mode, case .scalar(let scalar) = pair.value.content, scalar.style == .plain,
                   scalar.text.count >= 3, scalar.text.first != "0",
                   scalar.text.allSatisfy({ ("0"..."7").contains($0) }) {
                    warnings.append(ConfigWarning(
                        "\(field) is the decimal number \(scalar.text), which is mode 0o\(String(mode, radix: 8)); did you mean 0o\(scalar.text)?",
                        at: location(of: pair.value)))
                }
                mutation.permissions = mode
            case "source": mutation.source = try string(pair.value, path: field) ?? ""
            case "recursive": mutation.recursive = try bool(pair.value, path: field) ?? false
            default: break
            }
        }
        if target.isEmpty {
            throw error(.invalidValue, "\(path) has no path", at: node)
        }
        guard let kind else {
            let allowed = PathMutation.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(.invalidValue, "\(path) (\(target)) has no type; use one of \(allowed)", at: node)
        }
        if (kind == .hardlink || kind == .symlink) && mutation.source.isEmpty {
            throw error(.invalidValue, "\(path) (\(target)) is a \(kind.rawValue) without a source", at: node)
        }
        if mutation.recursive && kind != .directory && kind != .permissions {
            warnings.append(ConfigWarning("\(path) (\(target)): recursive only applies to directory and permissions; it is ignored for \(kind.rawValue)",
                                          at: location(of: node)))
        }
        mutation.path = target
        mutation.type = kind
        return mutation
    }

    // MARK: layering, certificates

    private func decodeLayering(_ node: YAMLNode) throws -> Layering? {
        let pairs = try fields(of: node, path: "layering", keys: ConfigSchema.layering)
        if pairs.isEmpty { return nil }
        var strategy: Layering.Strategy?
        var budget = 0
        for pair in pairs {
            if pair.key == "strategy" {
                strategy = try choice(pair.value, path: "layering.strategy", as: Layering.Strategy.self)
            } else {
                budget = try int(pair.value, path: "layering.budget") ?? 0
                if budget < 0 {
                    throw error(.invalidValue, "layering.budget is \(budget); it must be 0 or more", at: pair.value)
                }
            }
        }
        guard let strategy else {
            throw error(.invalidValue, "layering has no strategy; the only strategy is \"origin\" (write `layering: {}` or leave it out for one layer)", at: node)
        }
        return Layering(strategy: strategy, budget: budget)
    }

    private func decodeCertificates(_ node: YAMLNode, into decoded: inout DecodedConfig) throws {
        for pair in try fields(of: node, path: "certificates", keys: ConfigSchema.certificates) {
            let path = "certificates.\(pair.key)"
            if pair.key == "additional" {
                for (index, item) in try list(pair.value, path: path).enumerated() {
                    let certificate = try decodeInlineKey(item, path: "\(path)[\(index)]", what: "certificate")
                    let count = certificate.content.splitting(on: "-----BEGIN CERTIFICATE-----").count - 1
                    if count != 1 {
                        throw error(.invalidValue, "\(path)[\(index)] (\(certificate.name)) must contain exactly one PEM certificate, found \(count)", at: item)
                    }
                    decoded.configuration.certificates.additional.append(certificate)
                    decoded.sources.certificates.append(location(of: item))
                }
            } else {
                for (index, (name, item)) in try stringList(pair.value, path: path).enumerated() {
                    if name.isEmpty { throw error(.invalidValue, "\(path)[\(index)] is empty", at: item) }
                    decoded.configuration.certificates.providers.append(name)
                }
            }
        }
    }
}

extension String {
    /// The text without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        var text = Substring(self)
        while let first = text.first, isSpace(first) { text = text.dropFirst() }
        while let last = text.last, isSpace(last) { text = text.dropLast() }
        return text
    }

    /// The pieces between occurrences of `separator`, without Foundation.
    func splitting(on separator: String) -> [Substring] {
        var parts: [Substring] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        parts.append(rest)
        return parts
    }
}
