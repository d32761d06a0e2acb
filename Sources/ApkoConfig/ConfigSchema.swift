/// apko's keys, section by section, in apko's field order (which is also the order show-config
/// prints them in).
enum ConfigSchema {
    static let topLevel = [
        "contents", "entrypoint", "cmd", "stop-signal", "work-dir", "accounts", "archs", "environment",
        "paths", "vcs-url", "annotations", "include", "volumes", "layering", "format", "certificates",
    ]
    static let contents = [
        "build_repositories", "runtime_repositories", "repositories", "keyring", "runtime_keyring",
        "packages", "baseimage",
    ]
    static let baseImage = ["image", "apkindex"]
    static let inlineKey = ["name", "content"]
    static let entrypoint = ["type", "command", "shell-fragment", "services"]
    static let accounts = ["run-as", "users", "groups"]
    static let user = ["username", "uid", "gid", "shell", "homedir"]
    static let group = ["groupname", "gid", "members"]
    static let path = ["path", "type", "uid", "gid", "permissions", "source", "recursive"]
    static let layering = ["strategy", "budget"]
    static let certificates = ["additional", "providers"]

    /// Top-level keys apko used to have, with what replaced them.
    static let removedTopLevel: [String: String] = [
        "options": "apko removed `options` in 2024; add packages with --package-append instead",
        "os-release": "apko removed `os-release`; /etc/os-release comes from the packages",
    ]

    /// The section a key belongs in, for keys written at the wrong level.
    static func section(holding key: String) -> String? {
        if topLevel.contains(key) { return "the top level" }
        let sections: [(String, [String])] = [
            ("contents", contents), ("entrypoint", entrypoint), ("accounts", accounts),
            ("layering", layering), ("certificates", certificates),
        ]
        return sections.first(where: { $0.1.contains(key) })?.0
    }

    /// `certificates.additional[].name` and `runtime_keyring[].name`:
    /// `^[a-zA-Z0-9_-]+[a-zA-Z0-9_.-]*$`, i.e. a file name that does not start with a dot.
    static func isValidFileName(_ name: String) -> Bool {
        guard let first = name.first, first != "." else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
    }
}
