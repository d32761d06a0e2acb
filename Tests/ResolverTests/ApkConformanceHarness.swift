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

/// Runs an `add` test case the way apk-tools' test binary does, with the Resolver in place of
/// apk's solver, and prints what apk would print.
struct ApkAddRunner {
    struct Invocation {
        var repositories: [(tag: String?, file: String, isCache: Bool)] = []
        var installedFile: String?
        var world = ""
        var noNetwork = false
        var force = false
        var applet = ""
        var addFlags: SolverFlags = []
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
                // Before the applet these are global options of the other applets.
                if invocation.applet == "add" { invocation.addFlags.insert(.upgrade) }
            case "-l", "--latest":
                if invocation.applet == "add" { invocation.addFlags.insert(.latest) }
            case "-t", "--virtual": invocation.virtualName = try value()
            default:
                if invocation.applet.isEmpty && ["add", "del", "upgrade", "fix"].contains(argument) {
                    invocation.applet = argument
                } else if argument.hasPrefix("-") {
                    if invocation.applet == "add" { throw UsageError(description: "unsupported add option \(argument)") }
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

    /// Runs an `add` invocation; returns the lines apk would print.
    static func run(_ invocation: Invocation) throws -> [String] {
        try execute(invocation).lines
    }

    static func execute(_ invocation: Invocation) throws -> Outcome {
        var world = try Dependency.parseList(invocation.world)
        var nameFlags: [String: SolverFlags] = [:]
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
        if let virtual { local.append(virtual) }
        let installedPackages = try invocation.installedFile.map { try Self.installed(from: read($0)) } ?? []
        let index = try PackageIndex(repositories: repositories, installed: installedPackages, localPackages: local)
        let request = ResolveRequest(world: world, nameFlags: nameFlags, forceBrokenWorld: invocation.force)
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
