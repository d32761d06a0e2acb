extension Composition {
    /// The configured accounts merged into what the packages ship (reference/apko.md §1.4):
    /// `/etc/passwd` always exists afterwards (`name:x:uid:gid:Account created by apko:home:shell`),
    /// `/etc/group` is written when groups are configured (`name:x:gid:member,…`), `/etc/shadow`
    /// when users are (`name:!:::::::`, locked). Lines the packages ship are kept byte for byte;
    /// a configured account whose name is already listed replaces that line instead of adding a
    /// second one (apko appends a duplicate). Missing home directories of configured users are
    /// created 0700 and owned by the user, parents 0755; `/dev/null` homes are skipped. apko
    /// also creates homes for the package-shipped users; we leave those alone, since their
    /// "homes" are often system directories (`/sbin`, `/var/spool/lpd`).
    func applyAccounts() throws(RootfsError) {
        let users = request.accounts.users
        let groups = request.accounts.groups
        for user in users {
            try Self.requireAccountField(user.name, "user name", allowEmpty: false)
            try Self.requireAccountField(user.home, "home of user \(user.name)", allowEmpty: false)
            try Self.requireAccountField(user.shell, "shell of user \(user.name)", allowEmpty: true)
        }
        for group in groups {
            try Self.requireAccountField(group.name, "group name", allowEmpty: false)
            for member in group.members { try Self.requireAccountField(member, "member of group \(group.name)", allowEmpty: false) }
        }
        try mergeAccountFile("etc/passwd", users.map { user in
            (user.name, "\(user.name):x:\(user.uid):\(user.gid):Account created by apko:\(user.home):\(user.shell)")
        }, createMode: 0o644, alwaysCreate: true)
        if !groups.isEmpty {
            try mergeAccountFile("etc/group", groups.map { group in
                (group.name, "\(group.name):x:\(group.gid):\(group.members.joined(separator: ","))")
            }, createMode: 0o644, alwaysCreate: true)
        }
        if !users.isEmpty {
            try mergeAccountFile("etc/shadow", users.map { ($0.name, "\($0.name):!:::::::") }, createMode: 0o640, alwaysCreate: true)
        }
        for user in users where user.home != "/dev/null" {
            let home = try configured("home directory of \(user.name)", user.home) { () throws(PathProblem) -> String in
                try Paths.normalize(user.home)
            }
            if lookup(home) != nil { continue }
            var homeNode = Node.directory(mode: 0o700, uid: Int(user.uid), gid: Int(user.gid))
            homeNode.owner = nil
            _ = try configured("home directory of \(user.name)", user.home) { () throws(PathProblem) -> String in
                try tree.makeDirectories(home, lastTemplate: homeNode)
            }
        }
    }

    /// A field of an account line may not contain `:` or a line break (it would forge fields or
    /// lines).
    static func requireAccountField(_ value: String, _ what: String, allowEmpty: Bool) throws(RootfsError) {
        guard allowEmpty || !value.isEmpty, !value.contains(":"), !value.contains(where: \.isNewline) else {
            throw RootfsError(.invalidInput, "accounts: \(what) \(quoted(value)) is empty or contains ':' or a line break")
        }
    }

    /// Replaces or appends `entries` (name, line) in the colon-separated file at `path`.
    private func mergeAccountFile(_ path: String, _ entries: [(String, String)], createMode: UInt32,
                                  alwaysCreate: Bool) throws(RootfsError) {
        let resolved = try configured("accounts", path) { () throws(PathProblem) -> (path: String, exists: Bool) in
            try tree.resolve(path, followLast: true)
        }
        if resolved.exists {
            guard let node = tree[resolved.path], node.kind == .regular else {
                throw RootfsError(.typeConflict, "accounts: /\(resolved.path) is not a regular file", path: resolved.path)
            }
            guard !entries.isEmpty else { return }
            let text = String(decoding: try reader.bytes(of: node.content, limit: 16 << 20, path: resolved.path), as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            for (name, line) in entries {
                if let index = lines.firstIndex(where: { $0.split(separator: ":", maxSplits: 1).first.map(String.init) == name }) {
                    lines[index] = line
                } else {
                    lines.append(line)
                }
            }
            let merged = lines.map { $0 + "\n" }.joined()
            modify(resolved.path) { $0.content = .bytes(Array(merged.utf8)) }
        } else if alwaysCreate {
            let text = entries.map { $0.1 + "\n" }.joined()
            try writeFile(resolved.path, .bytes(Array(text.utf8)), mode: createMode, what: "accounts")
        }
    }
}
