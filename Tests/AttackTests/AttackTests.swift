import Foundation
import TestSupport
import Testing

/// Hostile repositories, packages, configs, servers and registries against the real `distill`
/// binary (issue 9). The table is ``AttackTable/all``; CASES.md lists it with the expected errors.
///
/// Every failing case must exit non-zero (3 for a failed verification, 1 otherwise) with one `Error:` line naming what is wrong and where (the
/// fragment), and leave no output directory, no temporary sibling of it, and no cache entry or
/// temporary file for the hostile object. Cases that must succeed (special files kept as data,
/// dependency cycles) check what the image holds and that nothing special appeared on the host.
@Suite("Attack suite", .serialized)
struct AttackTests {
    @Test("the table has at least 40 cases with unique names")
    func tableSize() {
        #expect(AttackTable.all.count >= 40)
        #expect(Set(AttackTable.all.map(\.name)).count == AttackTable.all.count)
    }

    @Test("CASES.md lists exactly the table's cases")
    func casesDocument() throws {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Tests/AttackTests/CASES.md"), encoding: .utf8)
        let documented = text.split(separator: "\n").compactMap { line -> String? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[1].hasPrefix("`"), cells[1].hasSuffix("`") else { return nil }
            return String(cells[1].dropFirst().dropLast())
        }
        #expect(documented == AttackTable.all.map(\.name))
        #expect(text.contains("**\(AttackTable.all.count) cases.**"))
    }

    @Test(arguments: AttackTable.all)
    func attack(_ row: AttackCase) throws {
        // For working on a few cases: DISTILL_ATTACK_CASES=name,name runs only those.
        if let only = ProcessInfo.processInfo.environment["DISTILL_ATTACK_CASES"], !only.isEmpty,
           !only.split(separator: ",").contains(Substring(row.name)) {
            return
        }
        let workspace = try AttackWorkspace()
        let invocation = try row.prepare(workspace)
        let cacheBefore = Set(LayoutInspection.files(under: workspace.scratch.path("cache")))
        let started = ContinuousClock.now
        let result = try DistillBinary.run(invocation.arguments, in: workspace.scratch, expectSuccess: false)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(60), "\(row.name) took \(elapsed)")
        // Bombs end in bounded memory: the largest resident size any finished child of this
        // process reached (the binary runs as one), so every case so far stayed under it too.
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        #expect(usage.ru_maxrss < 1 << 20, "\(row.name): a child reached \(usage.ru_maxrss) KiB")

        switch row.outcome {
        case .fails(let fragment):
            // 3 when a signature, checksum or trust check failed, 1 for every other refusal.
            #expect(result.status == 1 || result.status == 3, "\(row.name): exit \(result.status)\n\(result.standardError)")
            let errorLines = result.standardError.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
            #expect(errorLines.count == 1, "\(row.name): \(result.standardError)")
            #expect(errorLines.first?.contains(fragment) == true,
                    "\(row.name): expected '\(fragment)' in: \(result.standardError)")
            print("\(row.name): exit \(result.status): \(errorLines.first ?? "")")
            if invocation.outputMustBeAbsent {
                #expect(!FileManager.default.fileExists(atPath: workspace.scratch.path(AttackWorkspace.output)))
            }
            if let registry = workspace.registry {
                #expect(try registry.tags("attack/app").isEmpty)
            }
        case .succeeds(let check):
            #expect(result.status == 0, "\(row.name): \(result.standardError)")
            if result.status == 0 { try check(workspace) }
        }

        // Nothing half-written beside the output: no `.out…` staging or working directories.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: workspace.scratch.url.path)
        #expect(siblings.filter { $0.hasPrefix(".\(AttackWorkspace.output)") } == [], "\(row.name)")
        // Nothing for the hostile object in the cache, and no temporary file anywhere in it.
        let cacheAfter = LayoutInspection.files(under: workspace.scratch.path("cache"))
        for file in cacheAfter where !cacheBefore.contains(file) {
            let name = (file as NSString).lastPathComponent
            #expect(!name.hasPrefix("."), "\(row.name): temporary file left in the cache: \(file)")
            for marker in invocation.hostileCacheNames {
                #expect(!file.contains(marker), "\(row.name): the cache kept \(file)")
            }
        }
    }
}
