import ArgumentParser
import Foundation
import Logging
import ProgressReporting

/// `--log-level`: how much a command tells on standard error.
enum LogLevel: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, warning, error

    /// Also takes `warn`, the spelling earlier versions (and apko) use.
    init?(argument: String) {
        self.init(rawValue: argument == "warn" ? "warning" : argument)
    }

    /// swift-log's level.
    var level: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        case .error: .error
        }
    }
}

/// The flags every command takes: how much it logs, and whether it shows progress.
struct ConsoleOptions: ParsableArguments {
    @Option(name: .customLong("log-level"),
            help: ArgumentHelp("How much to tell on standard error: info adds each step, debug also the steps behind an error.",
                               valueName: "level"))
    var logLevel = LogLevel.warning

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No progress and no warnings: only errors and the command's output.")
    var quiet = false

    /// Whether failures show the steps behind them (`debug` and `trace`).
    var showsDebug: Bool { !quiet && (logLevel == .debug || logLevel == .trace) }

    /// The console these flags ask for, writing to standard error.
    func console() -> Console {
        Console(level: quiet ? .error : logLevel.level, renderer: ProgressRenderer(mode: progressMode(), write: Console.standardError))
    }

    /// Redrawn lines on a terminal, plain `progress:` lines otherwise, nothing with --quiet.
    private func progressMode() -> ProgressRenderer.Mode {
        if quiet { return .quiet }
        guard isatty(STDERR_FILENO) == 1 else { return .plain }
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return .terminal(width: columns)
    }
}

/// Standard error for one command: log lines at or above a level, and progress, through one
/// renderer so log lines never tear a redrawn progress block.
final class Console: Sendable {
    /// The least severe level printed.
    let level: Logger.Level
    /// Shows progress events.
    let renderer: ProgressRenderer
    /// The logger library code and commands log through.
    let logger: Logger

    init(level: Logger.Level, renderer: ProgressRenderer) {
        self.level = level
        self.renderer = renderer
        var logger = Logger(label: "distill") { _ in ConsoleLogHandler(renderer: renderer) }
        logger.logLevel = level
        self.logger = logger
    }

    /// Writes text to standard error unbuffered, as it comes.
    static let standardError: @Sendable (String) -> Void = { text in
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Where byte-level progress goes.
    var events: ProgressReporter { renderer.reporter }

    /// Step lines (`info: resolving apko.yaml`) for library code that reports them as text.
    var steps: @Sendable (String) -> Void {
        let logger = logger
        return { logger.info("\($0)") }
    }

    /// Whether `level` is printed.
    func shows(_ level: Logger.Level) -> Bool { level >= self.level }

    /// One `warning: <line>` line each.
    func warn(_ lines: [String]) {
        for line in lines { logger.warning("\(line)") }
    }

    /// Warnings that carry their own prefix (config warnings: `apko.yaml:4:46: warning: …`), as
    /// they are.
    func warnVerbatim(_ lines: [String]) {
        guard shows(.warning) else { return }
        for line in lines { renderer.log(line) }
    }

    /// Draws the final progress state; call when the command's work is over.
    func finish() { renderer.finish() }
}

/// swift-log handler writing `<level>: <message>` lines through a ``ProgressRenderer``.
struct ConsoleLogHandler: LogHandler {
    let renderer: ProgressRenderer
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        renderer.log("\(event.level.rawValue): \(event.message)")
    }
}
