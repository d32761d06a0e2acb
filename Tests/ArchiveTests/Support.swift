import Archive
import Foundation
import TestSupport
import Testing

/// What a command-line tool did.
struct ToolResult {
    var status: Int32
    var output: [UInt8]
    var errorText: String

    var text: String { String(decoding: output, as: UTF8.self) }
}

/// Runs real tools (gzip, tar, python3) as test oracles, with stdin/stdout through temporary
/// files so large payloads cannot deadlock a pipe.
enum Tool {
    @discardableResult
    static func run(_ arguments: [String], input: [UInt8] = [], in directory: URL? = nil) throws -> ToolResult {
        let scratch = try Scratch()
        let inputURL = scratch.url.appendingPathComponent("stdin")
        let outputURL = scratch.url.appendingPathComponent("stdout")
        let errorURL = scratch.url.appendingPathComponent("stderr")
        try Data(input).write(to: inputURL)
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let stdin = try FileHandle(forReadingFrom: inputURL)
        let stdout = try FileHandle(forWritingTo: outputURL)
        let stderr = try FileHandle(forWritingTo: errorURL)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        try stdin.close()
        try stdout.close()
        try stderr.close()
        return ToolResult(
            status: process.terminationStatus,
            output: Array(try Data(contentsOf: outputURL)),
            errorText: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
    }

    /// Runs a tool that must succeed; returns its stdout.
    @discardableResult
    static func output(_ arguments: [String], input: [UInt8] = [], in directory: URL? = nil) throws -> [UInt8] {
        let result = try run(arguments, input: input, in: directory)
        guard result.status == 0 else {
            throw ToolFailure(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.errorText)")
        }
        return result.output
    }
}

struct ToolFailure: Error, CustomStringConvertible {
    var description: String
}

/// A temporary directory removed when the value is released.
final class Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("archive-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func write(_ bytes: [UInt8], to name: String) throws -> URL {
        let target = file(name)
        try Data(bytes).write(to: target)
        return target
    }
}

/// Deterministic test data that compresses like real files do (about 2:1 to 3:1): words from a
/// small vocabulary mixed with numbers and some random bytes.
enum TestData {
    static func semiCompressible(count: Int, seed: UInt64 = 1) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        let words = ["alpine", "wolfi", "package", "layer", "tar", "gzip", "/usr/lib/", "x86_64", "=",
                     "\n", " ", "libc.so.6", "apk", "index", "signature", "sha256:", "0", "-r1", "\t"]
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 32)
        while bytes.count < count {
            let roll = generator.next() % 10
            if roll < 7 {
                bytes.append(contentsOf: words[Int(generator.next() % UInt64(words.count))].utf8)
            } else if roll < 9 {
                bytes.append(contentsOf: String(generator.next() % 100_000).utf8)
            } else {
                for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
            }
        }
        return Array(bytes.prefix(count))
    }
}

/// Helpers over the module's own streams.
enum Streams {
    static func gzip(_ bytes: [UInt8], level: Int = 6, chunk: Int = 10_000) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try GzipWriter(sink: sink, level: level)
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + chunk)
            try writer.write(Array(bytes[offset..<end]))
            offset = end
        } while offset < bytes.count
        try writer.finish()
        return sink.bytes
    }

    static func parallelGzip(_ bytes: [UInt8], level: Int = 6, blockSize: Int = 128 * 1024, threads: Int, chunk: Int = 77_777) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = try ParallelGzipWriter(sink: sink, level: level, blockSize: blockSize, threads: threads)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try writer.write(Array(bytes[offset..<end]))
            offset = end
        }
        try writer.finish()
        return sink.bytes
    }

    static func gunzip(_ bytes: [UInt8], limit: Int64? = nil) throws -> [UInt8] {
        let reader = try GzipReader(source: MemorySource(bytes), maximumDecompressedSize: limit)
        return try reader.readAll(limit: Int.max)
    }
}

/// Expects `body` to throw an `ArchiveError` of `kind`; returns it for further checks.
@discardableResult
func expectArchiveError(_ kind: ArchiveError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> ArchiveError? {
    do {
        try body()
        Issue.record("expected ArchiveError.\(kind), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as ArchiveError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected ArchiveError.\(kind), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
