import APK
import Foundation
import Resolver
import TestSupport

/// One apk-tools solver test (`test/*.test` of apk-tools 2.14.10): the `@ARGS` block as tokens
/// (the way `xargs` splits it) and the `@EXPECT` block as lines.
struct ApkTestCase: Sendable, CustomStringConvertible {
    var name: String
    var arguments: [String]
    var expected: [String]

    var description: String { name }

    static let folder = "apk-tools-tests"

    /// Every `*.test` file, sorted by name.
    static func all() throws -> [ApkTestCase] {
        let directory = Fixtures.url(folder)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".test") }
            .sorted()
        return try files.map { file in
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            return try parse(name: String(file.dropLast(".test".count)), text: text)
        }
    }

    static func parse(name: String, text: String) throws -> ApkTestCase {
        var section = ""
        var argumentText = ""
        var expected: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "@ARGS" || line == "@EXPECT" {
                section = String(line)
                continue
            }
            switch section {
            case "@ARGS": argumentText += line + "\n"
            case "@EXPECT": expected.append(String(line))
            default: break
            }
        }
        while expected.last == "" { expected.removeLast() }
        return ApkTestCase(name: name, arguments: try tokenize(argumentText), expected: expected)
    }

    struct TokenizeError: Error, CustomStringConvertible {
        var description: String
    }

    /// Splits like `xargs`: blanks separate, single and double quotes group.
    static func tokenize(_ text: String) throws -> [String] {
        var tokens: [String] = []
        var current = ""
        var inToken = false
        var quote: Character? = nil
        for character in text {
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
                continue
            }
            if character == "\"" || character == "'" {
                quote = character
                inToken = true
            } else if character == " " || character == "\n" || character == "\t" {
                if inToken { tokens.append(current) }
                current = ""
                inToken = false
            } else {
                current.append(character)
                inToken = true
            }
        }
        if quote != nil { throw TokenizeError(description: "unterminated quote in @ARGS") }
        if inToken { tokens.append(current) }
        return tokens
    }
}

/// Runs a test case the way apk-tools' test binary does — `add`, `del`, `upgrade` or `fix` on the
/// given repositories, installed db and world — with the Resolver in place of apk's solver, and
/// prints what apk would print.
struct ApkRunner {
    struct Invocation {
        var repositories: [(tag: String?, file: String, isCache: Bool)] = []
        var installedFile: String?
        var world = ""
        var noNetwork = false
        var force = false
        var applet = ""
        var addFlags: SolverFlags = []
        /// `apk upgrade`'s flags (`-a`, `--latest`).
        var upgradeFlags: SolverFlags = []
        /// `apk upgrade --ignore`: the arguments are held back rather than upgraded.
        var ignore = false
        /// `apk --upgrade fix`, `apk --depends fix`.
        var fixUpgrade = false
        var fixDepends = false
        /// `apk upgrade --self-upgrade-only`, `apk --prune upgrade`.
        var selfUpgradeOnly = false
        var prune = false
        var virtualName: String?
        var arguments: [String] = []
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ arguments: [String]) throws -> Invocation {
        var invocation = Invocation()
        var position = 0
        func value() throws -> String {
            position += 1
            guard position < arguments.count else { throw UsageError(description: "\(arguments[position - 1]) needs a value") }
            return arguments[position]
        }
        while position < arguments.count {
            let argument = arguments[position]
            switch argument {
            case "--test-repo":
                var spec = try value()
                var isCache = false
                if spec.hasPrefix("!") {
                    isCache = true
                    spec.removeFirst()
                }
                if let colon = spec.firstIndex(of: ":") {
                    invocation.repositories.append((String(spec[..<colon]), String(spec[spec.index(after: colon)...]), isCache))
                } else {
                    invocation.repositories.append((nil, spec, isCache))
                }
            case "--test-instdb": invocation.installedFile = try value()
            case "--test-world": invocation.world = try value()
            case "--no-network": invocation.noNetwork = true
            case "--force", "-f": invocation.force = true
            case "-u", "--upgrade":
                if invocation.applet == "add" { invocation.addFlags.insert(.upgrade) }
                if invocation.applet.isEmpty || invocation.applet == "fix" { invocation.fixUpgrade = true }
            case "-d", "--depends": invocation.fixDepends = true
            case "--ignore": invocation.ignore = true
            case "--self-upgrade-only": invocation.selfUpgradeOnly = true
            case "--prune": invocation.prune = true
            case "-l", "--latest":
                if invocation.applet == "add" { invocation.addFlags.insert(.latest) }
                if invocation.applet.isEmpty || invocation.applet == "upgrade" { invocation.upgradeFlags.insert(.latest) }
            case "-a", "--available":
                if invocation.applet == "upgrade" { invocation.upgradeFlags.insert(.available) }
            case "-t", "--virtual": invocation.virtualName = try value()
            default:
                if invocation.applet.isEmpty && ["add", "del", "upgrade", "fix"].contains(argument) {
                    invocation.applet = argument
                } else if argument.hasPrefix("-") {
                    if ["add", "del", "upgrade"].contains(invocation.applet) {
                        throw UsageError(description: "unsupported \(invocation.applet) option \(argument)")
                    }
                } else {
                    invocation.arguments.append(argument)
                }
            }
            position += 1
        }
        return invocation
    }

    /// Installed-db text: `IndexText` records plus the `s:` repository tag apk keeps per package.
    static func installed(from text: String) throws -> [InstalledPackage] {
        let infos = try IndexText.parse(Array(text.utf8), source: "installed")
        var tags: [String?] = []
        var currentTag: String? = nil
        var inRecord = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                if inRecord { tags.append(currentTag) }
                currentTag = nil
                inRecord = false
            } else {
                inRecord = true
                if line.hasPrefix("s:") { currentTag = String(line.dropFirst(2)) }
            }
        }
        if inRecord { tags.append(currentTag) }
        return zip(infos, tags).map { InstalledPackage(info: $0, tag: $1) }
    }

    static func read(_ file: String) throws -> String {
        try String(contentsOf: Fixtures.url("\(ApkTestCase.folder)/\(file)"), encoding: .utf8)
    }

    /// The fixed clock of apk's test build (2019-06-03 13:14:26 UTC) names virtual packages.
    static let virtualVersion = "20190603.131426"

    /// What one invocation printed, and the structured failure behind an error block.
    struct Outcome {
        var lines: [String]
        var failure: ResolverError? = nil
    }

    /// Runs an invocation; returns the lines apk would print.
    static func run(_ invocation: Invocation) throws -> [String] {
        try execute(invocation).lines
    }

    static func execute(_ invocation: Invocation) throws -> Outcome {
        var world = try Dependency.parseList(invocation.world)
        var nameFlags: [String: SolverFlags] = [:]
        var globalFlags: SolverFlags = []
        switch invocation.applet {
        case "del":
            // apk del: the names leave the world, their packages are marked for removal, and the
            // rest is solved again.
            world.removeAll { invocation.arguments.contains($0.name) }
            for name in invocation.arguments { nameFlags[name] = .remove }
            return try solve(invocation, world: world, flags: [], nameFlags: nameFlags, local: [], lines: [],
                             inheritable: false)
        case "fix":
            // apk fix: the names are reinstalled (upgraded with --upgrade), their dependencies too
            // with --depends.
            var flags: SolverFlags = .reinstall
            if invocation.fixUpgrade { flags.insert(.upgrade) }
            for name in invocation.arguments { nameFlags[name] = flags }
            return try solve(invocation, world: world, flags: [], nameFlags: nameFlags, local: [], lines: [],
                             inheritable: invocation.fixDepends)
        case "upgrade" where invocation.selfUpgradeOnly:
            return try selfUpgrade(invocation, world: world)
        case "upgrade":
            if invocation.prune {
                // World entries whose installed package is in no repository are dropped.
                let available = Set(try repositoryPackages(invocation).compactMap(\.checksum))
                let installed = try installedPackages(invocation)
                world.removeAll { entry in
                    guard let package = installed.first(where: { $0.info.name == entry.name }) else { return false }
                    return !available.contains(package.info.checksum ?? "")
                }
            }
            // apk upgrade: installed versions lose their preference — for every world entry, or
            // only for the names given; --ignore holds the given names at their installed versions.
            if invocation.ignore {
                globalFlags = invocation.upgradeFlags.union(.upgrade)
                for name in invocation.arguments { nameFlags[name] = .installed }
            } else if invocation.arguments.isEmpty {
                globalFlags = invocation.upgradeFlags.union(.upgrade)
            } else {
                globalFlags = invocation.upgradeFlags
                for name in invocation.arguments { nameFlags[name] = invocation.upgradeFlags.union(.upgrade) }
            }
            return try solve(invocation, world: world, flags: globalFlags, nameFlags: nameFlags, local: [], lines: [])
        default:
            break
        }
        var lines: [String] = []
        var virtual: PackageInfo?
        var virtualDependency: Dependency?

        if let spec = invocation.virtualName {
            let parsed = try? Dependency(parsing: spec)
            guard var dependency = parsed, !dependency.isConflict, dependency.tag == nil,
                  dependency.op == .any || dependency.op == .equal
            else {
                return Outcome(lines: ["ERROR: \(spec): bad package specifier"])
            }
            if dependency.version == nil {
                dependency = Dependency(name: dependency.name, op: .equal, version: virtualVersion)
            }
            virtualDependency = dependency
            virtual = PackageInfo(name: dependency.name, version: dependency.version!, arch: "noarch",
                                  checksum: "virtual:\(dependency.name)", installedSize: 0,
                                  description: "virtual meta package")
            if invocation.arguments.isEmpty { lines.append("WARNING: creating empty virtual package") }
        }
        for argument in invocation.arguments {
            let parsed = try? Dependency(parsing: argument)
            guard let dependency = parsed, !(virtual != nil && dependency.tag != nil) else {
                if virtual == nil {
                    return Outcome(lines: lines + ["ERROR: '\(argument)' is not a valid world dependency, format is name(@tag)([<>~=]version)"])
                }
                return Outcome(lines: lines + ["ERROR: '\(argument)' is not a valid child dependency, format is name([<>~=]version)"])
            }
            if virtual != nil {
                replaceOrAppend(dependency, in: &virtual!.depends)
            } else {
                replaceOrAppend(dependency, in: &world)
                nameFlags[dependency.name, default: []].formUnion(invocation.addFlags)
            }
        }
        if let virtualDependency {
            replaceOrAppend(virtualDependency, in: &world)
            nameFlags[virtualDependency.name, default: []].formUnion(invocation.addFlags)
        }

        return try solve(invocation, world: world, flags: globalFlags, nameFlags: nameFlags,
                         local: virtual.map { [$0] } ?? [], lines: lines)
    }

    static func repositoryPackages(_ invocation: Invocation) throws -> [PackageInfo] {
        try invocation.repositories.filter { !$0.isCache }.flatMap {
            try IndexText.parse(Array(read($0.file).utf8), source: $0.file)
        }
    }

    static func installedPackages(_ invocation: Invocation) throws -> [InstalledPackage] {
        try invocation.installedFile.map { try installed(from: read($0)) } ?? []
    }

    /// apk's self-upgrade: when a newer apk-tools is available, upgrade it (and what it needs)
    /// first, keeping everything else as installed.
    static func selfUpgrade(_ invocation: Invocation, world: [Dependency]) throws -> Outcome {
        guard let current = try installedPackages(invocation).first(where: { $0.info.name == "apk-tools" }),
              try repositoryPackages(invocation).contains(where: {
                  $0.name == "apk-tools" && APKVersion.compare(APKVersion($0.version), current.info.apkVersion) == .greater
              })
        else { return Outcome(lines: []) }
        var outcome = try solve(invocation, world: world, flags: [], nameFlags: ["apk-tools": .upgrade], local: [],
                                lines: [], inheritable: false, selfUpgrade: true)
        guard outcome.failure == nil, outcome.lines.count > 1 else { return Outcome(lines: []) }
        // The pass prints its changes under a heading and no summary line.
        outcome.lines.removeLast()
        return Outcome(lines: ["Upgrading critical system libraries and apk-tools:"] + outcome.lines)
    }

    static func solve(_ invocation: Invocation, world: [Dependency], flags: SolverFlags, nameFlags: [String: SolverFlags],
                      local extraLocal: [PackageInfo], lines printed: [String], inheritable: Bool = true,
                      selfUpgrade: Bool = false) throws -> Outcome {
        var lines = printed
        var repositories: [Repository] = []
        var local: [PackageInfo] = []
        for repository in invocation.repositories {
            let packages = try IndexText.parse(Array(read(repository.file).utf8), source: repository.file)
            if repository.isCache {
                local += packages
            } else {
                repositories.append(Repository(name: repository.file, packages: packages, tag: repository.tag,
                                               unavailableReason: invocation.noNetwork ? "--no-network" : nil))
            }
        }
        local += extraLocal
        let installedPackages = try Self.installedPackages(invocation)
        let index = try PackageIndex(repositories: repositories, installed: installedPackages, localPackages: local)
        var request = ResolveRequest(world: world, flags: flags, nameFlags: nameFlags, forceBrokenWorld: invocation.force)
        if !inheritable { request.inheritableNameFlags = [:] }
        request.selfUpgrade = selfUpgrade
        do {
            let resolution = try Resolver(index: index).resolve(request)
            lines += resolution.apkTranscript().split(separator: "\n").map(String.init)
            return Outcome(lines: lines)
        } catch {
            guard error.kind == .unsatisfiable else { throw error }
            lines += (error.apkReport ?? error.message).split(separator: "\n").map(String.init)
            return Outcome(lines: lines, failure: error)
        }
    }

    /// apk's `apk_deps_add`: an entry for a name already listed replaces it in place.
    static func replaceOrAppend(_ dependency: Dependency, in list: inout [Dependency]) {
        if let found = list.firstIndex(where: { $0.name == dependency.name }) {
            list[found] = dependency
        } else {
            list.append(dependency)
        }
    }

    /// The package and name references in an apk error explanation, without its fixed words, so
    /// two explanations can be compared by what they name.
    static func namesMentioned(in lines: [String]) -> Set<String> {
        let vocabulary: Set<String> = [
            "ERROR:", "unable", "to", "select", "packages:", "breaks:", "satisfies:", "conflicts:", "masked",
            "in:", "required", "by:", "provided", "note:", "please", "one", "of", "the", "'provided", "by'",
            "packages", "explicitly", "(virtual):", "(no", "such", "package):",
        ]
        var names = Set<String>()
        for line in lines {
            for token in line.split(separator: " ") where !vocabulary.contains(String(token)) {
                var text = String(token)
                if text.hasSuffix(":") { text.removeLast() }
                names.insert(text)
            }
        }
        return names
    }
}
