import APK
import Foundation
import Testing
import TestSupport
@testable import Repository

/// Keyrings and signed indexes read from local repositories laid out as `<repo>/<arch>/APKINDEX.tar.gz`.
@Suite struct IndexTests {
    @Test func keyringFromFilesAndDirectories() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let loaded = try await client.loadKeyring([Fixtures.url("keys/alpine").path, Fixtures.url("apko-testrepo/melange.rsa.pub").path])
        #expect(loaded.keyring.names.count == 21)
        #expect(loaded.keyring.key(named: "melange.rsa.pub") != nil)
        #expect(loaded.keyring.key(named: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub") != nil)
        #expect(loaded.files.count == 21)
        let melange = try #require(loaded.files.last)
        #expect(melange.name == "melange.rsa.pub")
        #expect(melange.bytes == [UInt8](try Fixtures.data("apko-testrepo/melange.rsa.pub")))
    }

    @Test func keyringErrorsNameTheEntry() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        await #expect {
            _ = try await client.loadKeyring([scratch.path("missing.rsa.pub")])
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .keyring && error.source == scratch.path("missing.rsa.pub") && error.message.contains("does not exist")
        }
        try scratch.write("bad.rsa.pub", text: "not a key\n")
        await #expect {
            _ = try await client.loadKeyring([scratch.path("bad.rsa.pub")])
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .keyring && error.message.contains("not a PEM public key")
        }
    }

    @Test func loadsTheTestRepositoryForBothArchitectures() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let keyring = try await Scratch.testRepoKeyring(client)
        let source = try RepositorySource(location: Fixtures.url("apko-testrepo").path)
        for arch in ["x86_64", "aarch64"] {
            let loaded = try #require(try await client.loadIndex(source, architecture: arch, keyring: keyring))
            #expect(loaded.index.packages.map(\.name).sorted() == ["custom-ca-certs-1", "custom-ca-certs-2", "pretend-baselayout", "replayout"])
            #expect(loaded.index.signature == .verified([Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256)]))
            #expect(loaded.url == source.base + "/\(arch)/APKINDEX.tar.gz")
        }
        // No index for the architecture: apko warns and skips such a repository.
        #expect(try await client.loadIndex(source, architecture: "s390x", keyring: keyring) == nil)
        // Nothing of a local repository lands in the cache.
        #expect(!FileManager.default.fileExists(atPath: scratch.path("cache")))
    }

    /// The refusal names the repository, the index and the key the index was signed with.
    @Test func untrustedIndexIsRefused() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let wrongKeys = try await client.loadKeyring([Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub").path]).keyring
        let source = try RepositorySource(location: Fixtures.url("apko-testrepo").path)
        await #expect {
            _ = try await client.loadIndex(source, architecture: "x86_64", keyring: wrongKeys)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .untrustedIndex && error.source == source.description
                && error.message.contains("is signed with melange.rsa.pub, which is not in the keyring (the keyring has private_pkg_key.rsa.pub)")
                && error.message.contains("x86_64/APKINDEX.tar.gz")
        }
        await #expect {
            _ = try await client.loadIndex(source, architecture: "x86_64", keyring: Keyring())
        } throws: { error in
            (error as! RepositoryError).message.contains("the keyring is empty")
        }
    }

    /// A key with the right name but other bits: the signature check itself fails.
    @Test func badSignatureIsRefused() async throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.copyItem(atPath: Fixtures.url("apko-private-repo/private_pkg_key.rsa.pub").path,
                                         toPath: scratch.path("melange.rsa.pub"))
        let client = Scratch.client(scratch)
        let impostor = try await client.loadKeyring([scratch.path("melange.rsa.pub")]).keyring
        let source = try RepositorySource(location: Fixtures.url("apko-testrepo").path)
        await #expect {
            _ = try await client.loadIndex(source, architecture: "aarch64", keyring: impostor)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .untrustedIndex && error.message.contains("BAD signature (melange.rsa.pub:")
        }
    }

    @Test func indexSizeCapNamesTheRepository() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch, limits: RepositoryLimits(maximumIndexSize: 4096))
        let keyring = try await client.loadKeyring([Fixtures.url("keys/alpine").path]).keyring
        let repo = try Scratch.linkRepository(scratch, arch: "x86_64", fixture: "alpine/v3.16-x86_64-main")
        let source = try RepositorySource(location: repo)
        await #expect {
            _ = try await client.loadIndex(source, architecture: "x86_64", keyring: keyring)
        } throws: { error in
            let error = error as! RepositoryError
            return error.kind == .tooLarge && error.source == repo && error.message.contains("4096")
        }
    }

    /// The real Alpine v3.16 index, through the local source and the Alpine keyring.
    @Test func realAlpineIndex() async throws {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let keyring = try await client.loadKeyring([Fixtures.url("keys/alpine").path]).keyring
        let repo = try Scratch.linkRepository(scratch, arch: "x86_64", fixture: "alpine/v3.16-x86_64-main")
        let loaded = try #require(try await client.loadIndex(try RepositorySource(location: "file://" + repo), architecture: "x86_64",
                                                             keyring: keyring))
        #expect(loaded.index.packages.count == 4929)
        #expect(loaded.index.description == "v3.16.3-13-g4d933a1fa3")
    }
}
