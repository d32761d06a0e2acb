import Foundation

/// A server a test runs in the background (a registry, a proxy, a file server), stopped by its
/// PID when ``stop()`` is called or the last reference goes away.
///
/// It is started through Python in a new session with no file descriptor but its log:
/// Foundation's `Process` learns that a child ended when a descriptor it shares with it closes,
/// so a server holding an inherited copy would keep ``ExternalTool`` waiting forever; and the
/// ``ExternalTool`` launcher gives it a default signal mask instead of the test runner's.
final class BackgroundProcess: @unchecked Sendable {
    // @unchecked: `stopped` is only touched under `lock`; everything else is set once in init.
    /// The server's process ID.
    let pid: Int32
    /// Where its standard output and error go.
    let logPath: String
    private let lock = NSLock()
    private var stopped = false

    private static let launcher = """
        import subprocess, sys
        log = open(sys.argv[1], "ab")
        child = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 close_fds=True, start_new_session=True)
        print(child.pid)
        """

    /// Starts `arguments` (the first looked up on PATH) in `directory`, logging to `logName` there.
    init(_ arguments: [String], in directory: ScratchDirectory, logName: String) throws {
        logPath = directory.path(logName)
        let started = try ExternalTool.run("python3", ["-c", Self.launcher, logPath] + arguments, in: directory)
        guard let pid = Int32(started.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ExternalTool.Failure(description: "\(arguments.joined(separator: " ")) did not start: \(started.text)\(started.standardError)")
        }
        self.pid = pid
    }

    deinit {
        stop()
    }

    /// Whether the process still runs (a zombie waiting to be reaped counts as ended).
    var isRunning: Bool {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // The state follows the command name, which is in parentheses and may hold spaces.
        guard let close = stat.lastIndex(of: ")") else { return true }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
        #else
        return kill(pid, 0) == 0
        #endif
    }

    /// Sends SIGTERM, waits up to 5 s, then SIGKILL. Calling it again does nothing.
    func stop() {
        let first = lock.withLock {
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        kill(pid, SIGTERM)
        for _ in 0..<50 where isRunning {
            Thread.sleep(forTimeInterval: 0.1)
        }
        if isRunning { kill(pid, SIGKILL) }
    }

    /// Everything the process has written so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Waits until `ready` holds, checking every 0.05 s, while the process runs and for at most
    /// `timeout`; false when it ended or the time ran out.
    func wait(upTo timeout: Duration = .seconds(20), until ready: () throws -> Bool) rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try ready() { return true }
            guard isRunning else { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}
