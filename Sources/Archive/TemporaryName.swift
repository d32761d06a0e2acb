import Foundation

/// The one naming rule for files and directories that are written under a temporary name and
/// renamed into place: `.<final name>.<tag>-<pid>-<random>`, in the final name's directory.
///
/// The writer's process id in the name is what lets a later run clean up after a writer that was
/// killed (`kill -9`, a power cut) before it could rename or remove its temporary: a name whose
/// process no longer runs was abandoned. A name whose process still runs is left alone, so
/// concurrent builds never remove each other's work.
public enum TemporaryName {
    /// A fresh temporary name for `path`, in the same directory. `tag` says what writes it (`tmp`
    /// for files and staging directories, `distill` for a build's working directory).
    public static func sibling(of path: String, tag: String = "tmp") -> String {
        let url = URL(fileURLWithPath: path)
        let name = ".\(url.lastPathComponent).\(tag)-\(getpid())-\(UUID().uuidString.lowercased())"
        return url.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The process id in a temporary name made by ``sibling(of:tag:)`` (or by the same rule
    /// elsewhere), or nil when `name` is not one.
    public static func writerProcess(of name: String) -> Int32? {
        guard name.hasPrefix("."), name.count > 3 else { return nil }
        // `.<final>.<tag>-<pid>-<random>`: the tag is the last dot-separated part's prefix.
        guard let lastDot = name.lastIndex(of: "."), lastDot > name.startIndex else { return nil }
        let tail = name[name.index(after: lastDot)...]
        let parts = tail.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tmp" || parts[0] == "distill", !parts[2].isEmpty,
              let pid = Int32(parts[1]), pid > 0 else { return nil }
        return pid
    }

    /// Removes the temporary files and directories in `directory` whose writer no longer runs,
    /// and returns their names. Only temporaries whose final name passes `finalName` are touched.
    /// Errors are ignored: cleaning up is a courtesy, never a reason to fail.
    @discardableResult
    public static func removeAbandoned(in directory: String, finalName: (String) -> Bool = { _ in true }) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            guard let pid = writerProcess(of: name), !isRunning(pid) else { continue }
            let inner = name.dropFirst()
            guard let lastDot = inner.lastIndex(of: "."), finalName(String(inner[..<lastDot])) else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(name) }
        }
        return removed
    }

    /// Whether process `pid` exists (a process of another user counts as running).
    static func isRunning(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
