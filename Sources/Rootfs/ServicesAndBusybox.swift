extension Composition {
    /// The s6 service bundle (reference/apko.md §1.3): `/sv/<name>/run` holding
    /// `#!/bin/execlineb\n<command>\n`, mode 0755, services in name order. The directories are
    /// 0755; apko makes them 0777, which lets any user replace a service's run script.
    func writeServices() throws(RootfsError) {
        for service in request.services.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            let script = "#!/bin/execlineb\n\(service.command)\n"
            try writeFile("sv/\(service.name)/run", .bytes(Array(script.utf8)), mode: 0o755, what: "service \(service.name)")
        }
    }

    /// Busybox applet links without running busybox (apko's emulation of `busybox --install -s`):
    /// when `/bin/busybox` is a file, every path listed in the files of `/etc/busybox-paths.d/`
    /// (one per line, with or without a leading `/`; blank lines and `#` comments skipped)
    /// becomes a symlink to `/bin/busybox`, unless something is already there.
    ///
    /// Only the paths.d lists are used. apko falls back to a table of applets per busybox
    /// version; reading the applet names out of the binary is not robust (the install locations
    /// sit in a packed array the compiler may place anywhere), so an image whose busybox ships no
    /// paths.d list gets no links.
    func installBusyboxLinks() throws(RootfsError) {
        guard lookup("bin/busybox")?.node.kind == .regular,
              let directory = try? tree.resolveDirectory("etc/busybox-paths.d") else { return }
        var links: [String] = []
        for name in tree.sortedChildren(of: directory) {
            guard let bytes = try readFile(Paths.join(directory, name), limit: 1 << 20) else { continue }
            for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let trimmed = line.trimmingCharacters(in: [" ", "\t", "\r"])
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                let path = try configured("busybox link", String(trimmed)) { () throws(PathProblem) -> String in
                    try Paths.normalize(String(trimmed))
                }
                links.append(path)
            }
        }
        for link in links {
            let target = try configured("busybox link", link) { () throws(PathProblem) -> String? in
                let resolved = try tree.resolve(link, followLast: false)
                if resolved.exists { return nil }
                let parent = try tree.makeDirectories(Paths.parent(link))
                return Paths.join(parent, Paths.baseName(link))
            }
            guard let target, tree[target] == nil else { continue }
            tree.set(.symlink("/bin/busybox"), at: target)
        }
    }
}

extension Substring {
    /// The text without the given characters at either end.
    func trimmingCharacters(in set: Set<Character>) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return text
    }
}
