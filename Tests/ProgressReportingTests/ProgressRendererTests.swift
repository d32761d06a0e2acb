import Foundation
@testable import ProgressReporting
import Testing

/// A clock the test moves by hand, and a sink collecting what the renderer writes.
final class Harness: @unchecked Sendable {
    private let lock = NSLock()
    private var time: Duration = .zero
    private var written: [String] = []

    func advance(_ duration: Duration) { lock.withLock { time += duration } }
    var now: @Sendable () -> Duration { { [self] in lock.withLock { time } } }
    var write: @Sendable (String) -> Void { { [self] text in lock.withLock { written.append(text) } } }
    var text: String { lock.withLock { written.joined() } }
    var writes: [String] { lock.withLock { written } }

    func renderer(_ mode: ProgressRenderer.Mode) -> ProgressRenderer {
        ProgressRenderer(mode: mode, now: now, write: write)
    }
}

@Suite struct ProgressEventTests {
    struct LineCase: Sendable, CustomTestStringConvertible {
        var event: ProgressEvent
        var line: String
        var testDescription: String { line }
    }

    static let lines: [LineCase] = [
        LineCase(event: ProgressEvent(.fetch, "x86_64/busybox-1.36.1-r7", completed: 0, total: 512_734, state: .start),
                 line: "progress: fetch x86_64/busybox-1.36.1-r7 0/512734 start"),
        LineCase(event: ProgressEvent(.layer, "aarch64/2", completed: 1_048_576, total: nil, state: .run),
                 line: "progress: layer aarch64/2 1048576/? run"),
        LineCase(event: ProgressEvent(.write, "my out/100%.tar", completed: 9, total: 9, state: .commit),
                 line: "progress: write my%20out/100%25.tar 9/9 commit"),
        LineCase(event: ProgressEvent(.push, "registry.example/app:1.0", completed: 7, total: 7, state: .done),
                 line: "progress: push registry.example/app:1.0 7/7 done"),
        LineCase(event: ProgressEvent(.fetch, "x86_64,aarch64", completed: 0, total: 10, state: .plan),
                 line: "progress: fetch x86_64,aarch64 0/10 plan"),
        LineCase(event: ProgressEvent(.write, "tab\there\nnewline", completed: 0, total: 1, state: .start),
                 line: "progress: write tab%09here%0Anewline 0/1 start"),
    ]

    /// Every event has exactly one line, and the line reads back as the same event.
    @Test(arguments: lines) func lineRoundTrips(_ row: LineCase) {
        #expect(row.event.line == row.line)
        #expect(ProgressEvent(line: row.line) == row.event)
        #expect(!row.line.contains("\n"))
        #expect(row.line.split(separator: " ", omittingEmptySubsequences: false).count == 5)
    }

    @Test(arguments: [
        "progress: fetch x 1/2",                  // no state
        "progress: fetch x 1/2 start extra",      // a sixth field
        "progress: copy x 1/2 start",             // unknown activity
        "progress: fetch x 1/2 begun",            // unknown state
        "progress: fetch x -1/2 start",           // negative
        "progress: fetch x 1-2 start",            // no slash
        "progress: fetch x ?/2 start",            // unknown completed
        "progress: fetch %zz 1/2 start",          // bad escape
        "progress:  fetch x 1/2 start",           // double space
        "info: fetch x 1/2 start",                // not a progress line
    ])
    func malformedLinesAreRefused(_ line: String) {
        #expect(ProgressEvent(line: line) == nil)
    }
}

@Suite struct ProgressRendererTests {
    /// Plain mode: one line per plan, start, commit and done; `run` lines only when the item has
    /// been quiet for the plain interval.
    @Test func plainLinesAreTheGrammar() {
        let harness = Harness()
        let renderer = harness.renderer(.plain)
        let progress = renderer.reporter
        progress.plan(.layer, "x86_64", total: 300)
        progress.start(.layer, "x86_64/1", total: 300)
        progress.advance(.layer, "x86_64/1", completed: 100, total: 300)   // too soon after start
        harness.advance(.seconds(11))
        progress.advance(.layer, "x86_64/1", completed: 200, total: 300)   // quiet for 11 s: shown
        harness.advance(.seconds(1))
        progress.advance(.layer, "x86_64/1", completed: 250, total: 300)   // 1 s later: not shown
        progress.finish(.layer, "x86_64/1", bytes: 310)
        progress.start(.write, "out", total: 5)
        progress.commit(.write, "out", bytes: 5)
        progress.finish(.write, "out", bytes: 5)
        renderer.log("warning: something")
        renderer.finish()
        #expect(harness.text == """
            progress: layer x86_64 0/300 plan
            progress: layer x86_64/1 0/300 start
            progress: layer x86_64/1 200/300 run
            progress: layer x86_64/1 310/310 done
            progress: write out 0/5 start
            progress: write out 5/5 commit
            progress: write out 5/5 done
            warning: something

            """)
        // Every progress line parses back.
        let lines = harness.text.split(separator: "\n").filter { $0.hasPrefix("progress: ") }
        #expect(lines.count == 7)
        #expect(lines.allSatisfy { ProgressEvent(line: String($0)) != nil })
    }

    /// Quiet mode writes nothing and hands producers a disabled reporter, but log lines still pass.
    @Test func quietShowsNoProgress() {
        let harness = Harness()
        let renderer = harness.renderer(.quiet)
        #expect(!renderer.reporter.isEnabled)
        renderer.receive(ProgressEvent(.fetch, "x86_64/a-1", completed: 0, total: 1, state: .start))
        renderer.reporter.finish(.fetch, "x86_64/a-1", bytes: 1)
        renderer.finish()
        #expect(harness.text.isEmpty)
        renderer.log("error: it broke")
        #expect(harness.text == "error: it broke\n")
    }

    /// Terminal mode: one line per activity, redrawn in place, with bytes, rate and ETA from the
    /// plan; redraws are throttled; a log line goes above the block, which is drawn again.
    @Test func terminalLinesUpdateInPlace() {
        let harness = Harness()
        let renderer = harness.renderer(.terminal(width: 120))
        let progress = renderer.reporter
        progress.plan(.fetch, "x86_64", total: 4 << 20)
        #expect(harness.writes.count == 1)                      // a new activity draws at once
        progress.start(.fetch, "x86_64/a-1", total: 1 << 20)
        progress.start(.fetch, "x86_64/b-1", total: 3 << 20)
        #expect(harness.writes.count == 1)                      // within 100 ms: no redraw
        harness.advance(.seconds(1))
        progress.finish(.fetch, "x86_64/a-1", bytes: 1 << 20)    // 1 MiB in 1 s, 3 MiB to go
        let block = harness.writes.last ?? ""
        #expect(block.hasPrefix("\u{1B}[1F\r\u{1B}[2K"))        // back up over the one drawn line
        #expect(block.contains("fetch   1 done, 1 running  1.0 MiB / 4.0 MiB  1.0 MiB/s  ETA 3s  x86_64/a-1"))

        harness.advance(.seconds(1))
        progress.start(.layer, "x86_64/1", total: nil)         // a second activity: a second line
        #expect(harness.writes.last?.components(separatedBy: "\n").count == 3)

        let before = harness.writes.count
        renderer.log("warning: slow mirror")
        let logged = harness.writes.dropFirst(before).joined()
        #expect(logged.hasPrefix("\u{1B}[2F\u{1B}[Jwarning: slow mirror\n"))
        #expect(logged.contains("fetch ") && logged.contains("layer "))

        harness.advance(.seconds(2))
        progress.finish(.fetch, "x86_64/b-1", bytes: 3 << 20)
        progress.finish(.layer, "x86_64/1", bytes: 2048)
        renderer.finish()
        let final = harness.writes.last ?? ""
        #expect(final.contains("fetch   2 done  4.0 MiB in 4s  1.0 MiB/s"))
        #expect(final.contains("layer   1 done  2.0 KiB in 2s"))
        // A finished activity keeps the rate it finished at.
        harness.advance(.seconds(10))
        renderer.finish()
        #expect(harness.writes.last?.contains("fetch   2 done  4.0 MiB in 4s  1.0 MiB/s") == true)
        #expect(!harness.text.contains("progress: "))          // never the plain grammar on a terminal
    }

    /// Lines never wrap: a line longer than the terminal is cut, since a wrapped line would break
    /// the cursor arithmetic.
    @Test func terminalLinesFitTheWidth() {
        let harness = Harness()
        let renderer = harness.renderer(.terminal(width: 40))
        renderer.reporter.start(.fetch, "x86_64/" + String(repeating: "very-long-name-", count: 10) + "1.0-r0", total: 10)
        let lines = harness.text.components(separatedBy: "\n").map { $0.replacingOccurrences(of: "\r\u{1B}[2K", with: "") }
        #expect(lines.allSatisfy { $0.count <= 39 })
        #expect(lines.first?.hasSuffix("…") == true)
    }

    /// Events from many threads at once come out as whole lines, none lost.
    @Test func concurrentEventsStayWholeLines() async {
        let harness = Harness()
        let renderer = harness.renderer(.plain)
        let progress = renderer.reporter
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for item in 0..<50 {
                        progress.start(.fetch, "x86_64/p\(task)-\(item)", total: 10)
                        progress.finish(.fetch, "x86_64/p\(task)-\(item)", bytes: 10)
                    }
                }
            }
        }
        let lines = harness.text.split(separator: "\n")
        #expect(lines.count == 800)
        #expect(lines.allSatisfy { ProgressEvent(line: String($0)) != nil })
    }

    /// Sizes in binary units with one decimal, durations rounded to whole seconds.
    @Test func unitsReadNaturally() {
        #expect(ByteCount.text(512) == "512 B")
        #expect(ByteCount.text(1536) == "1.5 KiB")
        #expect(ByteCount.text(3 << 20 + 400 << 10) == "3.4 MiB")
        #expect(ByteCount.text(5 << 30) == "5.0 GiB")
        #expect(ByteCount.duration(0.2) == "<1s")
        #expect(ByteCount.duration(41.6) == "42s")
        #expect(ByteCount.duration(185) == "3m05s")
        #expect(ByteCount.duration(3720) == "1h02m")
        #expect(ByteCount.duration(.infinity) == "277777h46m")
    }

    /// ByteProgress reports a run each time another step of bytes is done, not per write.
    @Test func byteProgressReportsEachStep() {
        let harness = Harness()
        let renderer = ProgressRenderer(mode: .plain, plainInterval: .zero, now: harness.now, write: harness.write)
        let counter = ByteProgress(renderer.reporter, .layer, "x86_64/1", total: nil, step: 100)
        for _ in 0..<25 { counter.add(10) }                       // 250 bytes in 10-byte writes
        counter.finish()
        #expect(harness.text == """
            progress: layer x86_64/1 0/? start
            progress: layer x86_64/1 100/? run
            progress: layer x86_64/1 200/? run
            progress: layer x86_64/1 250/250 done

            """)
    }
}
