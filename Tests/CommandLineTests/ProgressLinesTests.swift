import Foundation
import ProgressReporting
import TestSupport
import Testing

/// A workspace holding the apko test repository (both architectures) and a config building it.
enum TestRepository {
    static let architectures = ["x86_64", "aarch64"]

    /// `apko.yaml` with `packages` from `repo/` (links to the fixture files, or copies where
    /// `replacing` swaps a package's bytes) trusted with the fixture's key.
    static func workspace(packages: [String] = ["replayout"], replacing: [String: String] = [:]) throws -> ScratchDirectory {
        let scratch = try ScratchDirectory()
        for architecture in architectures {
            let directory = scratch.path("repo/\(architecture)")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.url("apko-testrepo/\(architecture)").path) {
                let source = replacing["\(architecture)/\(name)"] ?? "apko-testrepo/\(architecture)/\(name)"
                try FileManager.default.createSymbolicLink(atPath: "\(directory)/\(name)", withDestinationPath: Fixtures.url(source).path)
            }
        }
        try scratch.write("apko.yaml", text: """
            contents:
              keyring: [\(Fixtures.url("apko-testrepo/melange.rsa.pub").path)]
              repositories: [\(scratch.path("repo"))]
              packages: [\(packages.joined(separator: ", "))]
            archs: [\(architectures.joined(separator: ", "))]

            """)
        return scratch
    }

    /// The `progress:` events of a run's standard error, in order; fails on a line that looks
    /// like progress but does not parse.
    static func events(_ standardError: String) -> [ProgressEvent] {
        standardError.split(separator: "\n").filter { $0.hasPrefix("progress:") }.compactMap { line in
            let event = ProgressEvent(line: String(line))
            #expect(event != nil, "unparseable progress line: \(line)")
            return event
        }
    }
}

/// What a build prints about its progress when standard error is not a terminal (here: a file).
@Suite struct ProgressLinesTests {
    /// A two-architecture build into a layout reports every package fetched, every layer written
    /// and the output written, with `commit` right before the rename and `done` last.
    @Test func buildReportsFetchLayersAndWrite() throws {
        let scratch = try TestRepository.workspace()
        let result = try DistillBinary.run(["build", "--cache-dir", "cache", "apko.yaml", "app:1", "out/"], in: scratch)
        #expect(result.text.hasPrefix("sha256:"))
        let events = TestRepository.events(result.standardError)
        // Nothing but progress on stderr by default.
        #expect(result.standardError.split(separator: "\n").allSatisfy { $0.hasPrefix("progress: ") }, "\(result.standardError)")

        for architecture in TestRepository.architectures {
            let fetches = events.filter { $0.activity == .fetch && $0.item.hasPrefix("\(architecture)/") }
            let packages = ["pretend-baselayout-1.0.0-r0", "replayout-1.0.0-r0"]
            for package in packages {
                let item = "\(architecture)/\(package)"
                let states = fetches.filter { $0.item == item }.map(\.state)
                #expect(states == [.start, .done], "\(item): \(states)")
                // The done size is the .apk's size.
                let size = try FileManager.default.attributesOfItem(
                    atPath: Fixtures.url("apko-testrepo/\(architecture)/\(package).apk").path)[.size] as? Int
                #expect(fetches.last(where: { $0.item == item })?.completed == Int64(size ?? -1))
            }
            // The plan announces the sum of the index's S: sizes before any package starts.
            let plan = events.firstIndex { $0.activity == .fetch && $0.item == architecture && $0.state == .plan }
            let firstStart = events.firstIndex { $0.activity == .fetch && $0.item.hasPrefix("\(architecture)/") }
            #expect(plan != nil && firstStart != nil && plan! < firstStart!)
            let layer = events.filter { $0.activity == .layer && $0.item == "\(architecture)/1" }
            #expect(layer.first?.state == .start)
            #expect(layer.last?.state == .done)
            #expect((layer.last?.completed ?? 0) > 0)
            // Layers are written after that architecture's packages are fetched.
            let lastFetch = events.lastIndex { $0.activity == .fetch && $0.item.hasPrefix("\(architecture)/") }
            let layerStart = events.firstIndex { $0.activity == .layer && $0.item == "\(architecture)/1" }
            #expect(lastFetch! < layerStart!)
        }

        let writes = events.filter { $0.activity == .write }
        #expect(writes.first?.state == .start)
        #expect(writes.suffix(2).map(\.state) == [.commit, .done])
        #expect(writes.allSatisfy { $0.item == "out" })
        #expect(events.last?.activity == .write)
        // `write` totals are the bytes of every blob and manifest in the layout.
        let blobBytes = try FileManager.default.contentsOfDirectory(atPath: scratch.path("out/blobs/sha256")).reduce(0) { sum, name in
            sum + ((try FileManager.default.attributesOfItem(atPath: scratch.path("out/blobs/sha256/\(name)"))[.size] as? Int) ?? 0)
        }
        #expect(writes.last?.completed == Int64(blobBytes))
    }

    /// A docker archive and a minirootfs tarball report their write the same way.
    @Test(arguments: [["build", "--cache-dir", "cache", "apko.yaml", "app:1", "image.tar"],
                      ["build-minirootfs", "--build-arch", "aarch64", "--cache-dir", "cache", "apko.yaml", "rootfs.tar.gz"]])
    func fileOutputsReportTheirWrite(_ arguments: [String]) throws {
        let scratch = try TestRepository.workspace()
        let result = try DistillBinary.run(arguments, in: scratch)
        let output = arguments.last!
        let writes = TestRepository.events(result.standardError).filter { $0.activity == .write }
        #expect(writes.map(\.state).first == .start)
        #expect(writes.suffix(2).map(\.state) == [.commit, .done])
        let size = try FileManager.default.attributesOfItem(atPath: scratch.path(output))[.size] as? Int
        #expect(writes.allSatisfy { $0.item == output })
        if output.hasSuffix(".tar.gz") {
            // The tarball is exactly the bytes reported.
            #expect(writes.last?.completed == Int64(size ?? -1))
        } else {
            // The archive holds the blobs plus tar headers.
            #expect((writes.last?.completed ?? 0) > 0 && Int64(size ?? 0) > writes.last!.completed)
        }
    }

    /// `lock` fetches (and verifies) every package of every architecture, and says so.
    @Test func lockReportsFetches() throws {
        let scratch = try TestRepository.workspace()
        let result = try DistillBinary.run(["lock", "--cache-dir", "cache", "apko.yaml"], in: scratch)
        let events = TestRepository.events(result.standardError)
        #expect(events.allSatisfy { $0.activity == .fetch })
        #expect(events.filter { $0.state == .plan }.map(\.item) == TestRepository.architectures)
        #expect(events.filter { $0.state == .done }.count == 4)
        #expect(FileManager.default.fileExists(atPath: scratch.path("apko.lock.json")))
    }

    /// `--quiet` prints no progress and no warnings: a successful build leaves stderr empty.
    @Test func quietBuildIsSilent() throws {
        let scratch = try TestRepository.workspace()
        // A repository without indexes gives a warning, which --quiet hides too.
        let result = try DistillBinary.run(["build", "--quiet", "--cache-dir", "cache", "-r", scratch.path("nowhere"), "apko.yaml", "app:1",
                                            "out/"], in: scratch)
        #expect(result.standardError.isEmpty, "\(result.standardError)")
        #expect(result.text.hasPrefix("sha256:"))
        let noisy = try DistillBinary.run(["build", "--cache-dir", "cache", "-r", scratch.path("nowhere"), "apko.yaml", "app:1", "out2/"],
                                          in: scratch)
        #expect(noisy.standardError.contains("warning: \(scratch.path("nowhere")): no index for x86_64"))
        #expect(noisy.text == result.text)
    }

    /// `--log-level info` adds each step as an `info:` line, between the progress lines.
    @Test func infoShowsSteps() throws {
        let scratch = try TestRepository.workspace()
        let result = try DistillBinary.run(["build", "--log-level", "info", "--cache-dir", "cache", "apko.yaml", "app:1", "out/"], in: scratch)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.contains("info: resolving apko.yaml"))
        #expect(lines.contains { $0.hasPrefix("info: x86_64: sha256:") })
        #expect(lines.allSatisfy { $0.hasPrefix("info: ") || $0.hasPrefix("progress: ") }, "\(result.standardError)")
    }
}
