import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

struct BudgetCase: Sendable, CustomStringConvertible {
    var budget: Int
    /// The package names of each package layer, in order (the top layer follows).
    var layers: [[String]]
    var description: String { "budget \(budget)" }
}

@Suite("origin layering")
struct LayeringTests {
    /// Six packages in five origins; `replacer` replaces `tiny`, which merges their groups.
    /// Installed sizes: big 5000 + big-doc 100, mid 3000, small 1000, replacer 50 + tiny 10.
    static func packages(_ scratch: ScratchDirectory) throws -> [RootfsPackage] {
        func package(_ name: String, origin: String, size: UInt64, replaces: [String] = []) throws -> RootfsPackage {
            try Synthetic.package(name, origin: origin, replaces: replaces, installedSize: size, items: [
                .directory("usr"), .directory("usr/share"), .directory("usr/share/\(name)", time: 1_700_000_000 + Int64(size)),
                .file("usr/share/\(name)/data", String(repeating: name, count: 10), time: 1_700_000_000 + Int64(size)),
                .directory("opt"), .file("opt/\(name).conf", "\(name)\n"),
            ], scratch: scratch)
        }
        return [
            try package("big", origin: "big", size: 5000), try package("big-doc", origin: "big", size: 100),
            try package("mid", origin: "mid", size: 3000), try package("small", origin: "small", size: 1000),
            try package("tiny", origin: "tiny", size: 10), try package("replacer", origin: "rep", size: 50, replaces: ["tiny"]),
        ]
    }

    static let cases = [
        BudgetCase(budget: 10, layers: [["big", "big-doc"], ["mid"], ["small"], ["replacer", "tiny"]]),
        BudgetCase(budget: 4, layers: [["big", "big-doc"], ["mid"], ["small"], ["replacer", "tiny"]]),
        BudgetCase(budget: 2, layers: [["big", "big-doc"], ["mid", "replacer", "small", "tiny"]]),
        BudgetCase(budget: 1, layers: [["big", "big-doc", "mid", "replacer", "small", "tiny"]]),
        BudgetCase(budget: 0, layers: [["big", "big-doc", "mid", "replacer", "small", "tiny"]]),
    ]

    @Test(arguments: cases)
    func apkoOriginAlgorithm(_ budgetCase: BudgetCase) throws {
        let scratch = try ScratchDirectory()
        let packages = try Self.packages(scratch)
        let paths = [PathMutation(path: "/opt/mid.conf", kind: .permissions, permissions: 0o600)]
        let single = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: packages, paths: paths))
        let layered = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: packages, paths: paths,
                                                       layering: .origin(budget: budgetCase.budget)))
        #expect(single.layers.map(\.kind) == [.complete])
        #expect(layered.layers.map(\.kind) == Array(repeating: .packages, count: budgetCase.layers.count) + [.top])
        #expect(layered.layers.dropLast().map(\.packages) == budgetCase.layers)

        let layers = try layered.layers.indices.map { try LayerFiles.entries(try LayerFiles.bytes(layered, layer: $0)) }
        for (index, names) in budgetCase.layers.enumerated() {
            let layer = layers[index]
            // Each package layer has its packages' files and a partial db listing just them.
            for name in names {
                #expect(layer.contains { $0.entry.name == "usr/share/\(name)/data" }, "layer \(index) lacks \(name)")
            }
            let database = try #require(layer.first { $0.entry.name == "usr/lib/apk/db/installed" })
            #expect(InstalledDatabaseText(String(decoding: database.content, as: UTF8.self)).records.map(\.name) == names)
            // Missing parents are there, parents first, dated like the child that needed them.
            let parents = layer.filter { ["usr", "usr/lib", "usr/lib/apk", "usr/lib/apk/db"].contains($0.entry.name) }
            #expect(parents.map(\.entry.name) == ["usr", "usr/lib", "usr/lib/apk", "usr/lib/apk/db"])
            #expect(!layer.contains { $0.entry.name.hasPrefix("dev/") || $0.entry.name == "etc/apk/world" })
            // Files the configuration changed left their package's layer for the top.
            #expect(!layer.contains { $0.entry.name == "opt/mid.conf" })
            var seen = Set<String>()
            for item in layer {
                let parent = (item.entry.name as NSString).deletingLastPathComponent
                #expect(parent.isEmpty || seen.contains(parent), "\(item.entry.name) comes before its parent in layer \(index)")
                seen.insert(item.entry.name)
            }
        }
        let top = try #require(layers.last)
        #expect(top.contains { $0.entry.name == "dev/null" } && top.contains { $0.entry.name == "etc/apk/world" })
        #expect(top.first { $0.entry.name == "opt/mid.conf" }?.entry.mode == 0o600)
        let fullDatabase = try #require(top.first { $0.entry.name == "usr/lib/apk/db/installed" })
        #expect(fullDatabase.content == (try single.contents(of: "usr/lib/apk/db/installed")))

        // Extracted in order, the layers give the single-layer rootfs; only directory mtimes
        // may differ, as in apko (a package layer dates a shared parent like its own child).
        var union: [String: LayerEntry] = [:]
        for layer in layers { for item in layer { union[item.entry.name] = item } }
        let whole = try LayerFiles.entries(try LayerFiles.bytes(single))
        #expect(Set(union.keys) == Set(whole.map(\.entry.name)))
        for item in whole {
            var expected = item.entry
            var actual = try #require(union[item.entry.name]).entry
            if expected.kind == .directory { actual.modificationTime = expected.modificationTime }
            expected.headerOffset = 0; expected.contentOffset = 0
            actual.headerOffset = 0; actual.contentOffset = 0
            #expect(actual == expected, "\(item.entry.name)")
            #expect(union[item.entry.name]?.content == item.content, "\(item.entry.name)")
        }
    }

    /// Equal sizes are ordered by the largest package name in each group, ascending.
    @Test func equalSizesOrderByName() throws {
        let scratch = try ScratchDirectory()
        let packages = try ["zeta", "alpha", "mu"].map { name in
            try Synthetic.package(name, installedSize: 100, items: [.directory("opt"), .file("opt/\(name)", name)], scratch: scratch)
        }
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: packages, layering: .origin(budget: 10)))
        #expect(rootfs.layers.map(\.packages) == [["alpha"], ["mu"], ["zeta"], []])
        #expect(rootfs.layers.map(\.installedSize) == [100, 100, 100, 0])
    }

    @Test func layerIndexOutOfRange() throws {
        let rootfs = try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: []))
        let error = #expect(throws: RootfsError.self) { try rootfs.writeLayer(1, to: MemorySink()) }
        #expect(error?.kind == .invalidInput)
    }
}
