import APK
import Archive
import DistillCrypto
import Testing

/// What `APKFile` refuses while reading, before a byte of data reaches the cache (issue 9): link
/// escapes within one package, too many entries, and a control section that is not the one asked
/// for.
@Suite("Hostile packages while reading")
struct HostilePackageTests {
    static func read(_ entries: [(TarEntry, [UInt8])], options: APKFile.Options = APKFile.Options(requiresSignature: false))
        throws -> APKFile {
        let bytes = try Craft.package(dataTar: try Craft.tar(entries, ending: .endBlocks))
        return try APKFile.read(from: MemorySource(bytes), name: "hostile.apk", options: options)
    }

    static let directory = (TarEntry(name: "etc/", kind: .directory, mode: 0o755), [UInt8]())

    @Test("a file under the package's own symlink is refused, naming both")
    func writeThroughOwnSymlink() throws {
        #expect {
            _ = try Self.read([Self.directory, (TarEntry(name: "etc/out", kind: .symbolicLink, linkName: "/etc"), []),
                               (TarEntry(name: "etc/out/passwd"), Array("x\n".utf8))])
        } throws: { error in
            (error as? APKError)?.message.contains("'etc/out/passwd' lies under 'etc/out', a symbolic link of the same package") == true
        }
    }

    @Test("a hard link to a file the package does not have is refused; to an earlier one it is fine")
    func hardLinks() throws {
        #expect {
            _ = try Self.read([Self.directory, (TarEntry(name: "etc/copy", kind: .hardLink, linkName: "etc/shadow"), [])])
        } throws: { error in
            (error as? APKError)?.message.contains("which is not an earlier file of the same package") == true
        }
        let file = try Self.read([Self.directory, (TarEntry(name: "etc/original"), Array("x\n".utf8)),
                                  (TarEntry(name: "etc/copy", kind: .hardLink, linkName: "etc/original"), [])])
        #expect(file.dataEntries.map(\.path) == ["etc", "etc/original", "etc/copy"])
    }

    @Test("refusesLinkEscapes off lets the rootfs decide")
    func linkChecksCanBeLeftToTheRootfs() throws {
        let file = try Self.read([Self.directory, (TarEntry(name: "etc/copy", kind: .hardLink, linkName: "etc/shadow"), [])],
                                 options: APKFile.Options(requiresSignature: false, refusesLinkEscapes: false))
        #expect(file.dataEntries.count == 2)
    }

    @Test("more entries than maximumEntryCount are refused")
    func entryCap() throws {
        let entries = [Self.directory] + (0..<20).map { (TarEntry(name: "etc/f\($0)"), [UInt8]()) }
        #expect {
            _ = try Self.read(entries, options: APKFile.Options(requiresSignature: false, maximumEntryCount: 10))
        } throws: { error in
            (error as? APKError)?.kind == .tooLarge && (error as? APKError)?.message.contains("more than 10 entries") == true
        }
        #expect(try Self.read(entries, options: APKFile.Options(requiresSignature: false, maximumEntryCount: 30)).dataEntries.count == 21)
    }

    @Test("stopsAtIdentityMismatch throws at the end of the control section, naming both checksums")
    func identityMismatchStopsEarly() throws {
        let expected = "Q1" + String(repeating: "A", count: 27) + "="
        #expect {
            _ = try Self.read([Self.directory], options: APKFile.Options(requiresSignature: false, expectedChecksum: expected,
                                                                         stopsAtIdentityMismatch: true))
        } throws: { error in
            guard let error = error as? APKError else { return false }
            return error.kind == .checksumMismatch && error.message.hasPrefix("its C: is Q1") && error.message.hasSuffix("the index says \(expected)")
        }
    }
}
