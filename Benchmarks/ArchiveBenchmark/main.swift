import Archive
import Foundation

// Measures gzip throughput of GzipWriter and ParallelGzipWriter on a file held in memory, so the
// numbers compare with `gzip -6 -c FILE > /dev/null` on the same machine. Not a test: timings
// depend on the machine and its load.
//
//   swift run -c release archive-benchmark FILE [level] [threads] [blockKiB] [both|serial|parallel]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: archive-benchmark FILE [level=6] [threads=all] [blockKiB=128] [both|serial|parallel]")
    exit(2)
}
let input = Array(try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
let level = arguments.count > 2 ? Int(arguments[2]) ?? 6 : 6
let threads = arguments.count > 3 ? Int(arguments[3]) ?? ParallelGzipWriter.defaultThreadCount : ParallelGzipWriter.defaultThreadCount
let blockSize = (arguments.count > 4 ? Int(arguments[4]) ?? 128 : 128) * 1024
let which = arguments.count > 5 ? arguments[5] : "both"
let megabytes = Double(input.count) / 1_000_000

/// CPU seconds (user + system) this process has used so far, over all threads.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// Feeds the input in 1 MiB writes, as a tar writer would, and reports size and speed.
func measure(_ name: String, _ makeWriter: (any ByteSink) throws -> (any ByteSink, () throws -> Void)) throws {
    let counter = CountingSink()
    let cpuStart = cpuSeconds()
    let start = DispatchTime.now()
    let (writer, finish) = try makeWriter(counter)
    try input.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            let end = min(all.count, offset + (1 << 20))
            try writer.write(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
            offset = end
        }
    }
    try finish()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let cpu = cpuSeconds() - cpuStart
    let rate = megabytes / seconds
    print("\(name): \(input.count) -> \(counter.count) bytes in \(String(format: "%.2f", seconds)) s wall, \(String(format: "%.2f", cpu)) s CPU, \(String(format: "%.1f", rate)) MB/s")
}

if which != "parallel" {
    try measure("GzipWriter level \(level)") { sink in
        let writer = try GzipWriter(sink: sink, level: level)
        return (writer, writer.finish)
    }
}
if which != "serial" {
    try measure("ParallelGzipWriter level \(level), \(threads) threads, \(blockSize / 1024) KiB blocks") { sink in
        let writer = try ParallelGzipWriter(sink: sink, level: level, blockSize: blockSize, threads: threads)
        return (writer, writer.finish)
    }
}
