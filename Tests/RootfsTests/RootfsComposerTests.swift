import APK
import Archive
import Foundation
import Rootfs
import TestSupport
import Testing

/// The incremental composer, fed one package at a time with none known up front (as a build
/// that installs packages while they download), against `Rootfs.compose` with all of them.
@Suite struct RootfsComposerTests {
    /// Every layer's bytes and the manifest.
    static func output(_ rootfs: Rootfs) throws -> [[UInt8]] {
        try rootfs.layers.indices.map { try LayerFiles.bytes(rootfs, layer: $0) }
    }

    /// The request's packages installed one by one into a composer that was told of none.
    static func streamed(_ request: RootfsRequest) throws -> Rootfs {
        var settings = request
        settings.packages = []
        settings.buildEpoch = 0
        let composer = try RootfsComposer(settings)
        for (position, package) in request.packages.enumerated() {
            #expect(composer.installedCount == position)
            try composer.install(package)
        }
        return try composer.finish(buildEpoch: request.buildEpoch)
    }

    /// The real fixture images, in one layer and in apko's origin layers: the same bytes, the same
    /// manifest, whichever way the packages arrive.
    @Test(arguments: FixtureImage.all)
    func streamedEqualsAllAtOnce(_ image: FixtureImage) throws {
        let scratch = try ScratchDirectory()
        for layering in [Layering.single, .origin(budget: 3)] {
            var request = try image.request(scratch: scratch, epoch: 1_700_000_123)
            request.layering = layering
            let whole = try Rootfs.compose(request)
            let streamed = try Self.streamed(request)
            #expect(streamed.layers == whole.layers)
            #expect("\(streamed.manifest)" == "\(whole.manifest)")
            #expect(try Self.output(streamed) == Self.output(whole))
        }
    }

    /// A package that ships `lib` as a symlink after others were installed: the composer starts
    /// again on the base without apko's `lib` directory, and comes out as if it had known.
    @Test func lateUsrMergeComesOutTheSame() throws {
        let scratch = try ScratchDirectory()
        let early = try Synthetic.package("early", items: [.directory("usr"), .directory("usr/share"), .file("usr/share/early", "e")],
                                          scratch: scratch)
        let layout = try Synthetic.package("layout", items: [.directory("usr"), .directory("usr/lib"), .symlink("lib", to: "usr/lib")],
                                           scratch: scratch)
        let library = try Synthetic.package("library", items: [.directory("lib"), .file("lib/libfoo.so.1", "elf")], scratch: scratch)
        let request = RootfsRequest(architecture: "x86_64", packages: [early, layout, library], buildEpoch: 1_700_000_000)
        let whole = try Rootfs.compose(request)
        let streamed = try Self.streamed(request)
        #expect(try Self.output(streamed) == Self.output(whole))
        #expect("\(streamed.manifest)" == "\(whole.manifest)")
        let names = try LayerFiles.entries(try LayerFiles.bytes(streamed)).map(\.entry)
        #expect(names.contains { $0.name == "lib" && $0.kind == .symbolicLink && $0.linkName == "usr/lib" })
        #expect(names.contains { $0.name == "usr/lib/libfoo.so.1" })
        #expect(names.contains { $0.name == "usr/share/early" })
    }

    /// Checks that `Rootfs.compose` makes up front come package by package, with the same message.
    @Test func packageChecksComeAsTheyArrive() throws {
        let scratch = try ScratchDirectory()
        let first = try Synthetic.package("twin", items: [.directory("usr")], scratch: scratch)
        let second = try Synthetic.package("twin", version: "2.0-r0", items: [.directory("opt")], scratch: scratch)
        let whole = #expect(throws: RootfsError.self) {
            try Rootfs.compose(RootfsRequest(architecture: "x86_64", packages: [first, second]))
        }
        let composer = try RootfsComposer(RootfsRequest(architecture: "x86_64", packages: []))
        try composer.install(first)
        let streamed = #expect(throws: RootfsError.self) { try composer.install(second) }
        #expect(streamed?.description == whole?.description)
        #expect(streamed?.description == "twin-2.0-r0 and twin-1.0-r0 are both in the package list; apk installs one package per name")
    }

    /// After a failed install the tree is half done: the composer takes nothing more and cannot
    /// be finished; a finished composer cannot be used again.
    @Test func failedOrFinishedComposerIsClosed() throws {
        let scratch = try ScratchDirectory()
        let owner = try Synthetic.package("owner", items: [.directory("etc"), .file("etc/x", "one")], scratch: scratch)
        let rival = try Synthetic.package("rival", items: [.directory("etc"), .file("etc/x", "two")], scratch: scratch)
        let other = try Synthetic.package("other", items: [.directory("opt")], scratch: scratch)
        let composer = try RootfsComposer(RootfsRequest(architecture: "x86_64", packages: []))
        try composer.install(owner)
        let conflict = #expect(throws: RootfsError.self) { try composer.install(rival) }
        #expect(conflict?.kind == .fileConflict)
        #expect(throws: RootfsError.self) { try composer.install(other) }
        #expect(throws: RootfsError.self) { _ = try composer.finish() }

        let finished = try RootfsComposer(RootfsRequest(architecture: "x86_64", packages: []))
        try finished.install(owner)
        _ = try finished.finish()
        #expect(throws: RootfsError.self) { try finished.install(other) }
        #expect(throws: RootfsError.self) { _ = try finished.finish() }
    }
}
