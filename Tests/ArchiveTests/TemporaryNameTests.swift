import Archive
import Foundation
import TestSupport
import Testing

/// The temporary-name rule crash safety rests on: names carry the writer's pid, and only
/// temporaries of processes that no longer run are removed.
@Suite("Temporary names")
struct TemporaryNameTests {
    @Test("a sibling is hidden, in the same directory, and names this process")
    func sibling() {
        let name = TemporaryName.sibling(of: "/some/dir/out.tar")
        #expect(name.hasPrefix("/some/dir/.out.tar.tmp-\(getpid())-"))
        #expect(TemporaryName.writerProcess(of: (name as NSString).lastPathComponent) == getpid())
        #expect(TemporaryName.writerProcess(of: ".out.distill-42-abc") == 42)
        #expect(TemporaryName.writerProcess(of: "out.tar") == nil)
        #expect(TemporaryName.writerProcess(of: ".out.tmp-x-abc") == nil)
    }

    @Test("abandoned temporaries are removed; a running writer's, other files and other outputs' are kept")
    func removeAbandoned() throws {
        let scratch = try ScratchDirectory()
        // A pid that is certainly gone: a child that has exited and been reaped.
        let child = try ExternalTool.run("sh", ["-c", "echo $$"], in: scratch).text.trimmingCharacters(in: .whitespacesAndNewlines)
        try scratch.write(".out.tmp-\(child)-dead", text: "partial")
        try FileManager.default.createDirectory(atPath: scratch.path(".out.distill-\(child)-work/blobs"), withIntermediateDirectories: true)
        try scratch.write(".out.tmp-\(getpid())-alive", text: "in progress")
        try scratch.write(".other.tmp-\(child)-dead", text: "someone else's output")
        try scratch.write("out", text: "the output")
        let removed = TemporaryName.removeAbandoned(in: scratch.url.path) { $0 == "out" }
        #expect(removed == [".out.distill-\(child)-work", ".out.tmp-\(child)-dead"])
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.url.path).filter { !$0.hasPrefix(".std") }.sorted()
        #expect(left == [".other.tmp-\(child)-dead", ".out.tmp-\(getpid())-alive", "out"])
    }
}
