import APK
import Archive
import Foundation
import Testing
import TestSupport

/// A package whose `C:` an index fixture is cross-checked against (PROVENANCE.md's last column).
struct CrossCheck: Sendable {
    let apk: String
    /// Whether the index's `C:` for the same name, version and arch is this file's identity (a
    /// different build with the same name and version does not match).
    let matches: Bool
}

/// One `APKINDEX.tar.gz` under fixtures/ and what PROVENANCE.md's index table says about it.
struct IndexFixture: Sendable, CustomTestStringConvertible {
    let path: String
    let entries: Int
    let arch: String
    /// nil: empty or absent.
    let description: String?
    let signers: [Signer]
    let crossChecks: [CrossCheck]

    init(_ path: String, entries: Int, arch: String, description: String?, signers: [Signer], crossChecks: [CrossCheck]) {
        self.path = path
        self.entries = entries
        self.arch = arch
        self.description = description
        self.signers = signers
        self.crossChecks = crossChecks
    }

    var testDescription: String { path }

    static let all: [IndexFixture] = [
        IndexFixture(
            "alpine/v3.14-armv7-community/APKINDEX.tar.gz", entries: 9783, arch: "armv7", description: "v3.14.0-150-gf60dc1f1aa",
            signers: [Signer(keyName: "alpine-devel@lists.alpinelinux.org-524d27bb.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: []),
        IndexFixture(
            "alpine/v3.14-armv7-main/APKINDEX.tar.gz", entries: 4742, arch: "armv7", description: "v3.14.0-154-gd627ad2cf8",
            signers: [Signer(keyName: "alpine-devel@lists.alpinelinux.org-524d27bb.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: []),
        IndexFixture(
            "alpine/v3.16-x86_64-main/APKINDEX.tar.gz", entries: 4929, arch: "x86_64", description: "v3.16.3-13-g4d933a1fa3",
            signers: [Signer(keyName: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: [CrossCheck(apk: "alpine/packages/x86_64/strace-5.17-r0.apk", matches: true)]),
        IndexFixture(
            "alpine/v3.17-aarch64-main/APKINDEX.tar.gz", entries: 5004, arch: "aarch64", description: "v3.17.3-216-g54a39ace82a",
            signers: [Signer(keyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: [CrossCheck(apk: "local-melange-tzdata/aarch64/tzdata-2023c-r0.apk", matches: false)]),
        IndexFixture(
            "alpine/v3.18-aarch64-main/APKINDEX.tar.gz", entries: 5150, arch: "aarch64", description: "v3.18.5-17-g1e9547d0183",
            signers: [Signer(keyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: [CrossCheck(apk: "wolfi/packages/aarch64/libcap-2.69-r0.apk", matches: false),
                          CrossCheck(apk: "alpine/packages/aarch64/apk-tools-static-2.14.0-r2.apk", matches: true)]),
        IndexFixture(
            "alpine/v3.4-x86_64-main/APKINDEX.tar.gz", entries: 5235, arch: "x86_64", description: "v3.4.6-2-g20654dd",
            signers: [Signer(keyName: "alpine-devel@lists.alpinelinux.org-4a6a0840.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: []),
        IndexFixture(
            "apko-private-repo/aarch64/APKINDEX.tar.gz", entries: 2, arch: "aarch64", description: nil,
            signers: [Signer(keyName: "private_pkg_key.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: [CrossCheck(apk: "apko-private-repo/aarch64/package-x-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-private-repo/aarch64/package-y-1.0.0-r0.apk", matches: true)]),
        IndexFixture(
            "apko-private-repo/x86_64/APKINDEX.tar.gz", entries: 2, arch: "x86_64", description: nil,
            signers: [Signer(keyName: "private_pkg_key.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: [CrossCheck(apk: "apko-private-repo/x86_64/package-x-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-private-repo/x86_64/package-y-1.0.0-r0.apk", matches: true)]),
        IndexFixture(
            "apko-testrepo/aarch64/APKINDEX.tar.gz", entries: 4, arch: "aarch64", description: nil,
            signers: [Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256)],
            crossChecks: [CrossCheck(apk: "apko-testrepo/aarch64/custom-ca-certs-1-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-testrepo/aarch64/custom-ca-certs-2-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-testrepo/aarch64/pretend-baselayout-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-testrepo/aarch64/replayout-1.0.0-r0.apk", matches: true)]),
        IndexFixture(
            "apko-testrepo/x86_64/APKINDEX.tar.gz", entries: 4, arch: "x86_64", description: nil,
            signers: [Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256)],
            crossChecks: [CrossCheck(apk: "apko-testrepo/x86_64/custom-ca-certs-1-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-testrepo/x86_64/custom-ca-certs-2-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-testrepo/x86_64/pretend-baselayout-1.0.0-r0.apk", matches: true),
                          CrossCheck(apk: "apko-testrepo/x86_64/replayout-1.0.0-r0.apk", matches: true)]),
        IndexFixture(
            "chainguard-multisig-rsa256/APKINDEX.tar.gz", entries: 16, arch: "aarch64", description: nil,
            signers: [Signer(keyName: "chainguard-0106f58bac88057c2ff5c2829850df492717a876ed700443550353c7ab23f5a0.rsa.pub", algorithm: .rsaSHA256), Signer(keyName: "chainguard-60912bbc46bfc8ed6bda0b50db3a8a5f3c4344d6bc8549ec9b84d96140b475d1.rsa.pub", algorithm: .rsaSHA256), Signer(keyName: "chainguard-61cb6bccd1f584b007db7be51ebce2b0530a54cc5a94e7650b570d113d537cf3.rsa.pub", algorithm: .rsaSHA256)],
            crossChecks: []),
        IndexFixture(
            "rsa256-test/APKINDEX.tar.gz", entries: 1, arch: "aarch64", description: nil,
            signers: [Signer(keyName: "test-rsa256.rsa.pub", algorithm: .rsaSHA256)],
            crossChecks: [CrossCheck(apk: "alpine/packages/aarch64/alpine-baselayout-3.2.0-r23.apk", matches: true)]),
        IndexFixture(
            "third-party/alauda-istio/aarch64/APKINDEX.tar.gz", entries: 1, arch: "aarch64", description: nil,
            signers: [Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256)],
            crossChecks: [CrossCheck(apk: "third-party/alauda-istio/aarch64/alauda-baselayout-20250620-r0.apk", matches: true)]),
        IndexFixture(
            "third-party/alauda-istio/x86_64/APKINDEX.tar.gz", entries: 1, arch: "x86_64", description: nil,
            signers: [Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256)],
            crossChecks: [CrossCheck(apk: "third-party/alauda-istio/x86_64/alauda-baselayout-20250620-r0.apk", matches: true)]),
        IndexFixture(
            "wolfi/index-early-x86_64-subset/APKINDEX.tar.gz", entries: 47, arch: "x86_64", description: nil,
            signers: [Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1)],
            crossChecks: []),
    ]
}

@Suite struct IndexFixtureTests {
    /// Every fixture index verifies with the keys PROVENANCE's lookup rule finds (all three
    /// signatures of the multi-signed one), and holds the records, arch and description listed.
    @Test(arguments: IndexFixture.all)
    func verifiesAndParses(_ fixture: IndexFixture) throws {
        let keyring = try FixtureKeys.keyring(for: fixture.path)
        let index = try APKIndexFile.read(path: Fixtures.url(fixture.path).path, keyring: keyring)
        #expect(index.signature == .verified(fixture.signers))
        #expect(index.signatures.map { Signer(keyName: $0.keyName, algorithm: $0.algorithm!) } == fixture.signers)
        #expect(index.packages.count == fixture.entries)
        #expect(Set(index.packages.compactMap(\.arch)) == [fixture.arch])
        // PROVENANCE writes "-" for an empty or missing DESCRIPTION; apko's indexes carry an empty one.
        #expect((index.description ?? "") == (fixture.description ?? ""))
        #expect(index.fileSize == Int64(try Fixtures.data(fixture.path).count))
        #expect(index.packages.allSatisfy { $0.checksum.flatMap(PackageIdentity.sha1Bytes) != nil })
    }

    /// The `C:` of a listed package is the identity our reader computes for the fixture .apk of
    /// the same name, version and arch — or, for a different build, is not.
    @Test(arguments: IndexFixture.all.filter { !$0.crossChecks.isEmpty })
    func checksumsMatchThePackages(_ fixture: IndexFixture) throws {
        let index = try APKIndexFile.read(path: Fixtures.url(fixture.path).path, keyring: try FixtureKeys.keyring(for: fixture.path))
        for check in fixture.crossChecks {
            let package = try APKFile.read(path: Fixtures.url(check.apk).path, options: APKFile.Options(listsDataEntries: false))
            let record = index.packages.first {
                $0.name == package.info.name && $0.version == package.info.version && $0.arch == package.info.arch
            }
            #expect(record != nil, "\(check.apk) is not in the index")
            #expect((record?.checksum == package.identity) == check.matches, "\(check.apk)")
        }
    }

    /// Without its keys an index is refused with an error that names it and the keys it was
    /// signed with; asked not to require trust, the reader still returns the content.
    @Test(arguments: IndexFixture.all)
    func untrustedWithoutItsKeys(_ fixture: IndexFixture) throws {
        let path = Fixtures.url(fixture.path).path
        #expect { try APKIndexFile.read(path: path, keyring: Keyring()) } throws: { error in
            guard let error = error as? APKError, error.kind == .untrusted else { return false }
            return error.source == path && fixture.signers.allSatisfy { error.message.contains($0.keyName) }
        }
        let index = try APKIndexFile.read(path: path, keyring: Keyring(), requiresTrust: false)
        #expect(index.signature == .untrusted(keyNames: fixture.signers.map(\.keyName)))
        #expect(index.packages.count == fixture.entries)
    }

    /// One key of the three is enough for the multi-signed index.
    @Test func oneOfSeveralSignaturesIsEnough() throws {
        let fixture = IndexFixture.all.first { $0.signers.count == 3 }!
        let folder = Fixtures.url("chainguard-multisig-rsa256/keys").path
        for signer in fixture.signers {
            var keyring = Keyring()
            try keyring.addKey(file: folder + "/" + signer.keyName)
            let index = try APKIndexFile.read(path: Fixtures.url(fixture.path).path, keyring: keyring)
            #expect(index.signature == .verified([signer]))
        }
    }

    /// A trusted key whose signature does not verify: the Alpine v3.16 index's signature bytes
    /// presented under the key of another index.
    @Test func aKnownKeyThatDoesNotVerifyIsBad() throws {
        let path = Fixtures.url("alpine/v3.16-x86_64-main/APKINDEX.tar.gz").path
        var keyring = Keyring()
        let other = try Keyring(directory: Fixtures.url("keys/alpine").path)
        keyring.add(other.key(named: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub")!,
                    named: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub")
        #expect { try APKIndexFile.read(path: path, keyring: keyring) } throws: { error in
            (error as? APKError)?.kind == .badSignature
        }
    }
}
