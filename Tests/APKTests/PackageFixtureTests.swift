import APK
import Archive
import DistillCrypto
import Foundation
import Testing
import TestSupport

/// One `.apk` under fixtures/ and what fixtures/PROVENANCE.md's results table says about it.
struct PackageFixture: Sendable, CustomTestStringConvertible {
    let path: String
    let verdict: APKFile.Verdict
    let signer: Signer?
    let name: String
    let version: String
    let arch: String
    let checksum: String
    let dataHash: String
    let dataHashMatches: Bool
    let regularFiles: Int
    let entries: Int
    /// Compressed sizes of the gzip members: signature (when signed), control, data….
    let members: [Int64]

    init(_ path: String, _ verdict: APKFile.Verdict, signer: Signer?, name: String, version: String, arch: String,
         checksum: String, dataHash: String, dataHashMatches: Bool, regularFiles: Int, entries: Int, members: [Int64]) {
        self.path = path
        self.verdict = verdict
        self.signer = signer
        self.name = name
        self.version = version
        self.arch = arch
        self.checksum = checksum
        self.dataHash = dataHash
        self.dataHashMatches = dataHashMatches
        self.regularFiles = regularFiles
        self.entries = entries
        self.members = members
    }

    var testDescription: String { path }

    static let all: [PackageFixture] = [
        PackageFixture(
            "alpine/packages/aarch64/alpine-baselayout-3.2.0-r23.apk", .ok, signer: Signer(keyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", algorithm: .rsaSHA1),
            name: "alpine-baselayout", version: "3.2.0-r23", arch: "aarch64", checksum: "Q1LLq2qDNrS/qRnhxQ3hsY/sHbQnc=",
            dataHash: "1a3a8e47d2287da6d505d973412cee1ad64bcc17bc5995069e4e932055ecb0c4",
            dataHashMatches: true, regularFiles: 11, entries: 83, members: [666, 1563, 8783]),
        PackageFixture(
            "alpine/packages/aarch64/apk-tools-static-2.14.0-r2.apk", .ok, signer: Signer(keyName: "alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub", algorithm: .rsaSHA1),
            name: "apk-tools-static", version: "2.14.0-r2", arch: "aarch64", checksum: "Q1LiVz64m6Sn/ZwOfkrSJwPQu4rko=",
            dataHash: "bc889557a6410e7251d50a570dd2fedeac7e4b9410821dc9a7601ed4cf1542c6",
            dataHashMatches: true, regularFiles: 2, entries: 3, members: [665, 595, 1590221]),
        PackageFixture(
            "alpine/packages/x86_64/curl-7.83.1-r1.apk", .ok, signer: Signer(keyName: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", algorithm: .rsaSHA1),
            name: "curl", version: "7.83.1-r1", arch: "x86_64", checksum: "Q1dHNOerPc1tLPEYaP5dYIgzfGdto=",
            dataHash: "149f6f46a5b970a820a988ec3032042656d465f5dc72a40d451dcb25377af27c",
            dataHashMatches: true, regularFiles: 1, entries: 3, members: [667, 576, 135511]),
        PackageFixture(
            "alpine/packages/x86_64/strace-5.17-r0.apk", .ok, signer: Signer(keyName: "alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub", algorithm: .rsaSHA1),
            name: "strace", version: "5.17-r0", arch: "x86_64", checksum: "Q18y9jy9MgtvQFXTntDQ3if2axAkk=",
            dataHash: "b8389f19f4d84d176cd283942ef976c6d3e76fa996fd1aee6dc330dc304d9989",
            dataHashMatches: true, regularFiles: 2, entries: 4, members: [666, 595, 519841]),
        PackageFixture(
            "apko-private-repo/aarch64/package-x-1.0.0-r0.apk", .ok, signer: Signer(keyName: "private_pkg_key.rsa.pub", algorithm: .rsaSHA1),
            name: "package-x", version: "1.0.0-r0", arch: "aarch64", checksum: "Q19EfeYO8EvkWtw2p6+d3RYHK8DMU=",
            dataHash: "e16cd8e363d4f0a26ea669ae8bc70a241ed726f1bec6cba4bc1579d4e77d1945",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [689, 283, 1289]),
        PackageFixture(
            "apko-private-repo/aarch64/package-y-1.0.0-r0.apk", .ok, signer: Signer(keyName: "private_pkg_key.rsa.pub", algorithm: .rsaSHA1),
            name: "package-y", version: "1.0.0-r0", arch: "aarch64", checksum: "Q10Kit8VfVk/eXBIzHVl3QAg2k/Jg=",
            dataHash: "9a8515c774135b6aa9e10d45085b2fcdb5c2226102082747d7d588425c5ad6b9",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [700, 276, 1290]),
        PackageFixture(
            "apko-private-repo/x86_64/package-x-1.0.0-r0.apk", .ok, signer: Signer(keyName: "private_pkg_key.rsa.pub", algorithm: .rsaSHA1),
            name: "package-x", version: "1.0.0-r0", arch: "x86_64", checksum: "Q1Vl3vU8cV22CofaOpqDJHyDPEzH8=",
            dataHash: "faa620fcc2c2a80c167d9a6551cc6663507ad27fe8fa0b12da82d4602d695d0f",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [701, 285, 1288]),
        PackageFixture(
            "apko-private-repo/x86_64/package-y-1.0.0-r0.apk", .ok, signer: Signer(keyName: "private_pkg_key.rsa.pub", algorithm: .rsaSHA1),
            name: "package-y", version: "1.0.0-r0", arch: "x86_64", checksum: "Q1GsmJ2snap2o2kZ+vvMmuEc+bSnM=",
            dataHash: "6f846fe55eea82306990cbb616ac37d6538a4ece203723d1e3ed8a6f575b9dae",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [692, 275, 1291]),
        PackageFixture(
            "apko-testrepo/aarch64/custom-ca-certs-1-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "custom-ca-certs-1", version: "1.0.0-r0", arch: "aarch64", checksum: "Q1HYV3GHk9wRjFNygSSkFi7+gHkMs=",
            dataHash: "d0feb9c908106b1b59da34e01cde7b19fec3fb1b15bef67603b21fb8848253ce",
            dataHashMatches: true, regularFiles: 3, entries: 11, members: [648, 3010, 3343]),
        PackageFixture(
            "apko-testrepo/aarch64/custom-ca-certs-2-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "custom-ca-certs-2", version: "1.0.0-r0", arch: "aarch64", checksum: "Q1E9ECSFYVWX/JK7euE0qnWbi45bA=",
            dataHash: "bc6816af0e2f88f82c7e9631e7aabbb3446317a7f18cd4d244d1dc4605149835",
            dataHashMatches: true, regularFiles: 3, entries: 11, members: [646, 1752, 2151]),
        PackageFixture(
            "apko-testrepo/aarch64/pretend-baselayout-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "pretend-baselayout", version: "1.0.0-r0", arch: "aarch64", checksum: "Q1JQ8nfsxa27d0f6oa056sdT5IcJY=",
            dataHash: "718e5b139f77904a582b2a9ea4b9a43dcfd19c088fb08b26f765c01f08be53d2",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [648, 981, 1301]),
        PackageFixture(
            "apko-testrepo/aarch64/replayout-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "replayout", version: "1.0.0-r0", arch: "aarch64", checksum: "Q1u62watWiRSQgVtAIuVuYoDOaVO4=",
            dataHash: "20cb609e0e3ccf93da630a9858bac650aa1a6541c59a280e9ca449eca7264d0a",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [647, 1009, 1299]),
        PackageFixture(
            "apko-testrepo/x86_64/custom-ca-certs-1-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "custom-ca-certs-1", version: "1.0.0-r0", arch: "x86_64", checksum: "Q1L7EnY9Q9b23ejRHAmb0g09QaLEo=",
            dataHash: "11dcde62711215a3ab43c7e7de3615a2807205575babd4a42db71987a89ec3d5",
            dataHashMatches: true, regularFiles: 3, entries: 11, members: [646, 3012, 3340]),
        PackageFixture(
            "apko-testrepo/x86_64/custom-ca-certs-2-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "custom-ca-certs-2", version: "1.0.0-r0", arch: "x86_64", checksum: "Q1yXDHMYWZPTTipwenGmJ4rs1ZoQk=",
            dataHash: "79117ce3bddc1912e76f88887010a7a52cf9cb8a627154c101042948e3fad2bb",
            dataHashMatches: true, regularFiles: 3, entries: 11, members: [647, 1755, 2146]),
        PackageFixture(
            "apko-testrepo/x86_64/pretend-baselayout-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "pretend-baselayout", version: "1.0.0-r0", arch: "x86_64", checksum: "Q1m6wB0UFePGN8Drz82pC8y2uAiu8=",
            dataHash: "72405aa6c68cbb910e6ff7b8122d6cda5ffe7593046a61e15266a827cc9e6708",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [647, 982, 1301]),
        PackageFixture(
            "apko-testrepo/x86_64/replayout-1.0.0-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "replayout", version: "1.0.0-r0", arch: "x86_64", checksum: "Q11/HhSewwwOXgl0r0ffb0O0BRtYc=",
            dataHash: "ce688706f6aa287b05f02c507876b43389992b08fb4f84f99117bd5694e45d4c",
            dataHashMatches: true, regularFiles: 2, entries: 7, members: [647, 1014, 1300]),
        PackageFixture(
            "local-melange-tzdata/aarch64/tzdata-2023c-r0.apk", .ok, signer: Signer(keyName: "local-melange.rsa.pub", algorithm: .rsaSHA1),
            name: "tzdata", version: "2023c-r0", arch: "aarch64", checksum: "Q1FQRnkOaKJESC0rbxFxhxKeYYA2Y=",
            dataHash: "510b18ab9421875a6b222fc0b400f84f08256dd99f282b648c0b1dac27216786",
            dataHashMatches: true, regularFiles: 707, entries: 1248, members: [658, 337, 146359, 125666, 121189, 142675, 859]),
        PackageFixture(
            "local-melange-tzdata/x86_64/tzdata-2023c-r0.apk", .ok, signer: Signer(keyName: "local-melange.rsa.pub", algorithm: .rsaSHA1),
            name: "tzdata", version: "2023c-r0", arch: "x86_64", checksum: "Q1cqHqtzyUwOe6vmn181m/+Pj7pZM=",
            dataHash: "b95a3b471c93f9b3e1c46cc6bc534f2abf0cafd48b75d16740534a6ee7a38895",
            dataHashMatches: true, regularFiles: 707, entries: 1248, members: [662, 340, 145526, 126323, 121390, 142111]),
        PackageFixture(
            "third-party/alauda-istio/aarch64/alauda-baselayout-20250620-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "alauda-baselayout", version: "20250620-r0", arch: "aarch64", checksum: "Q1OifMU8dLY+rLzw9vBZ/QCOeIaQY=",
            dataHash: "27c2a35c3578c4e80e96b50fb6a871aa7145ce396dc72a31f1c35d7fc0d1b3ec",
            dataHashMatches: true, regularFiles: 3, entries: 8, members: [645, 1018, 1495]),
        PackageFixture(
            "third-party/alauda-istio/x86_64/alauda-baselayout-20250620-r0.apk", .ok, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA256),
            name: "alauda-baselayout", version: "20250620-r0", arch: "x86_64", checksum: "Q1c01rbJOeacRDU1U7v1Y2FAGhC6c=",
            dataHash: "9a510d54581fb28e2f5a54fee8ae434f39747bc76b16127f2f9bfe383014e934",
            dataHashMatches: true, regularFiles: 3, entries: 8, members: [649, 1020, 1497]),
        PackageFixture(
            "unsigned/hello-0.1.0-r0.apk", .unsigned, signer: nil,
            name: "hello", version: "0.1.0-r0", arch: "x86_64", checksum: "Q1DNWZeWkviN7MJedLpYM8yBvmnGM=",
            dataHash: "1c6e256b3f9e0629730659382a81f82d4ac81b0f04fc9e70a6b1b5c653989911",
            dataHashMatches: true, regularFiles: 1, entries: 1, members: [274, 225]),
        PackageFixture(
            "unsigned/ld-so-conf-d-test-1-r1.apk", .unsigned, signer: nil,
            name: "ld-so-conf-d-test", version: "1-r1", arch: "x86_64", checksum: "Q1Wwxr56kBKBUEq8tj+BhMDDjNR2Y=",
            dataHash: "70b4e680dd6463a728a208d79c3603fcefe26dc5a4afbc15b4c6a6aef6a96e2f",
            dataHashMatches: true, regularFiles: 2, entries: 8, members: [1104, 1221]),
        PackageFixture(
            "unsigned/perl-json-4.11-r0.apk", .unsigned, signer: nil,
            name: "perl-json", version: "4.11-r0", arch: "x86_64", checksum: "Q1w0Rl6HA39gsEkqaJArR01meHQmQ=",
            dataHash: "8a3770574eec29b1f1e0fa1a3049d914a96a3299d202547ba9ea15991f911ea5",
            dataHashMatches: true, regularFiles: 8, entries: 24, members: [6189, 54074]),
        PackageFixture(
            "unsigned/replaces-0.0.1-r0.apk", .unsigned, signer: nil,
            name: "replaces", version: "0.0.1-r0", arch: "aarch64", checksum: "Q1fHE4AsjeXVD+2kHg7AHvGDN+FPg=",
            dataHash: "71b14cc95cf71f4f6c1666cb1699b3bc4f52d17f5575c893324c8f62bb19d9b3",
            dataHashMatches: true, regularFiles: 2, entries: 6, members: [280, 1197]),
        PackageFixture(
            "unsigned/shbang-test-1-r1.apk", .unsigned, signer: nil,
            name: "shbang-test", version: "1-r1", arch: "x86_64", checksum: "Q1EAQowCWBllXJW1phED1gh/uGh4o=",
            dataHash: "14b7a7b37c8587fcb5d267f33075b2a80cccdd84542ac129cdce302018fc8f28",
            dataHashMatches: true, regularFiles: 16, entries: 25, members: [1668, 4541]),
        PackageFixture(
            "unverifiable-local-keys/hello-2.12-r0.apk", .untrusted, signer: Signer(keyName: "local-melange.rsa.pub", algorithm: .rsaSHA1),
            name: "hello", version: "2.12-r0", arch: "aarch64", checksum: "Q1mcSFBWnEvXY2r9B55mGVvpEzON4=",
            dataHash: "b6876a9f78c55f7c6c306edb6d0992c43cba670cabf18a1944965d6eba3bb27b",
            dataHashMatches: true, regularFiles: 47, entries: 144, members: [693, 359, 68537]),
        PackageFixture(
            "unverifiable-local-keys/hello-wolfi-2.12.1-r0.apk", .untrusted, signer: Signer(keyName: "melange.rsa.pub", algorithm: .rsaSHA1),
            name: "hello-wolfi", version: "2.12.1-r0", arch: "x86_64", checksum: "Q1j9huCmxqWKDR+abKskcY8e/aZMo=",
            dataHash: "3a6c21f20a07bebf261162b5ab13cb041d7c1cc3e1edc644aaa99f109f87d887",
            dataHashMatches: true, regularFiles: 47, entries: 144, members: [654, 359, 71778]),
        PackageFixture(
            "unverifiable-local-keys/hello-wolfi-2.12.1-r1.apk", .untrusted, signer: Signer(keyName: "local-melange.rsa.pub", algorithm: .rsaSHA1),
            name: "hello-wolfi", version: "2.12.1-r1", arch: "aarch64", checksum: "Q1TeeSfx1iNeOBVZCxS+J3bjEZxHw=",
            dataHash: "b6953b82453076f716d4654f09b9c01af4b3841c1217927781e40c6b18533c1c",
            dataHashMatches: true, regularFiles: 47, entries: 144, members: [698, 386, 79131]),
        PackageFixture(
            "wolfi/packages/aarch64/hello-wolfi-2.12-r1.apk", .ok, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "hello-wolfi", version: "2.12-r1", arch: "aarch64", checksum: "Q1tfjaxtgIGRBjOYGl6Pq3/hm8V2o=",
            dataHash: "0f465c3be40437201970a83d7cbca1ee119b2f69b964ae7f54791792e922dc9e",
            dataHashMatches: true, regularFiles: 47, entries: 144, members: [652, 335, 61914]),
        PackageFixture(
            "wolfi/packages/aarch64/kubeflow-pipelines-2.1.3-r7.apk", .ok, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "kubeflow-pipelines", version: "2.1.3-r7", arch: "aarch64", checksum: "Q1YaPopCnj/TLEn+Ot5rdXpKA8/iw=",
            dataHash: "cab21c413470274c013f8b76cad17c83b861d0282407be563873f32b7a4dee4a",
            dataHashMatches: true, regularFiles: 1, entries: 5, members: [701, 343, 889]),
        PackageFixture(
            "wolfi/packages/aarch64/libcap-2.69-r0.apk", .ok, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "libcap", version: "2.69-r0", arch: "aarch64", checksum: "Q1GTjdDWSAN/e8mRmTQLLkcs0qRkA=",
            dataHash: "fb2e6aef71e85e7eb738d8029b1939d779034b14e23168fd27238e10cd908ed0",
            dataHashMatches: true, regularFiles: 3, entries: 11, members: [649, 341, 28599]),
        PackageFixture(
            "wolfi/packages/aarch64/test.apk", .ok, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "wolfi-base", version: "1-r1", arch: "aarch64", checksum: "Q1L7sf44xazgWI/LVaudVgNmofCys=",
            dataHash: "ced322291546d0971f0d88a818ab0c46a9c7b54eccd1e5af78b539f78b498349",
            dataHashMatches: true, regularFiles: 1, entries: 5, members: [650, 291, 761]),
        PackageFixture(
            "wolfi/packages/x86_64/ruby3.2-base64-0.2.0-r2.apk", .ok, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "ruby3.2-base64", version: "0.2.0-r2", arch: "x86_64", checksum: "Q1kQfQXs+MLbCqi4Tb9KF229uRI10=",
            dataHash: "93b7837c8daae6e37a190c3951b15c96619874c37902ef40882e3582f822d91d",
            dataHashMatches: true, regularFiles: 5, entries: 22, members: [698, 383, 6469]),
        PackageFixture(
            "wolfi/tampered/aarch64/aws-c-s3-0.4.9-r0.apk", .badSignature, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "aws-c-s3", version: "0.4.9-r0", arch: "aarch64", checksum: "Q1BYt/57mOOzyry3bvaJIl1GxnKqY=",
            dataHash: "854d0f04211d3eb0160111839e64c90bca94ed804a599423b4cfacddc9b2437f",
            dataHashMatches: false, regularFiles: 1, entries: 4, members: [661, 474, 94868]),
        PackageFixture(
            "wolfi/tampered/aarch64/neon-4604-r0.apk", .badSignature, signer: Signer(keyName: "wolfi-signing.rsa.pub", algorithm: .rsaSHA1),
            name: "neon", version: "4604-r0", arch: "aarch64", checksum: "Q1EUaxtwSPOhjdHi8aK1FqGhvtMuE=",
            dataHash: "cb21fa1e6f8af5bff823e30f05dbb6f482c5d61711713cc4bd5235e2be9165a1",
            dataHashMatches: false, regularFiles: 9, entries: 18, members: [659, 598, 19022]),
    ]
}

@Suite struct PackageFixtureTests {
    /// The verdict, metadata, identity, datahash and section layout of every fixture package, read
    /// with the keyring the PROVENANCE lookup rule gives it; the expanded data tar holds every
    /// file's bytes at the offset the entry list gives, as its PAX checksum proves.
    @Test(arguments: PackageFixture.all)
    func matchesProvenance(_ fixture: PackageFixture) throws {
        let keyring = try FixtureKeys.keyring(for: fixture.path)
        let expanded = MemorySink()
        let file = try APKFile.read(path: Fixtures.url(fixture.path).path, options: APKFile.Options(keyring: keyring),
                                    expandingDataTo: expanded)
        #expect(file.verdict == fixture.verdict)
        #expect(file.info.name == fixture.name)
        #expect(file.info.version == fixture.version)
        #expect(file.info.arch == fixture.arch)
        #expect(file.identity == fixture.checksum)
        #expect(file.info.checksum == fixture.checksum)
        #expect(file.info.dataHash == fixture.dataHash)
        #expect(file.info.fileSize == UInt64(fixture.members.reduce(0, +)))
        if fixture.dataHashMatches {
            #expect(file.dataHash == .matches)
            #expect(file.dataSection.digest.hex == fixture.dataHash)
        } else {
            guard case .mismatch(let expected, let actual) = file.dataHash else {
                Issue.record("datahash should not match: \(file.dataHash)")
                return
            }
            #expect(expected == fixture.dataHash)
            #expect(actual == file.dataSection.digest.hex)
        }

        switch (fixture.verdict, file.signature) {
        case (.ok, .verified(let signer)), (.badSignature, .bad(let signer, _)):
            #expect(signer == fixture.signer)
        case (.untrusted, .untrusted(let keyNames)):
            #expect(keyNames == [fixture.signer?.keyName])
        case (.unsigned, .unsigned):
            break
        default:
            Issue.record("signature status \(file.signature) does not fit the verdict \(fixture.verdict)")
        }

        // Section layout: signature member, control member, then every data member.
        let signed = fixture.signer != nil
        #expect((file.signatureSection?.length).map { [$0] } == (signed ? [fixture.members[0]] : nil))
        let controlIndex = signed ? 1 : 0
        #expect(file.controlSection.offset == (signed ? fixture.members[0] : 0))
        #expect(file.controlSection.length == fixture.members[controlIndex])
        #expect(file.dataSection.length == fixture.members[(controlIndex + 1)...].reduce(0, +))
        #expect(file.controlSection.checksum == "sha1-" + fixture.checksum.dropFirst(2))

        // Entries: the installable ones plus the ones apk skips are all the data tar holds.
        #expect(file.dataEntries.count + file.skippedDataEntries.count == fixture.entries)
        #expect(file.dataEntries.filter { $0.kind == .regular }.count == fixture.regularFiles, "\(file.skippedDataEntries)")
        #expect(file.expandedDataSize == Int64(expanded.bytes.count))
        var checked = 0
        for entry in file.dataEntries where entry.kind == .regular {
            let start = Int(entry.contentOffset)
            let content = expanded.bytes[start..<(start + Int(entry.size))]
            if let checksum = entry.checksum {
                #expect(checksum.algorithm == .sha1)
                #expect(DigestAlgorithm.sha1.hash(content).bytes == checksum.bytes, "\(entry.path)")
                checked += 1
            }
        }
        #expect(checked == file.dataEntries.filter { $0.kind == .regular }.count)
    }

    /// Installing from a signed index: the package's own signature is not needed, `C:` must be
    /// the index's and datahash must hold — so only the tampered packages fail, on datahash.
    @Test(arguments: PackageFixture.all)
    func installsAgainstItsIndexChecksum(_ fixture: PackageFixture) throws {
        let path = Fixtures.url(fixture.path).path
        let options = APKFile.Options.installing(checksum: fixture.checksum)
        if fixture.dataHashMatches {
            let file = try APKFile.read(path: path, options: options, expandingDataTo: CountingSink())
            #expect(file.verdict == .ok)
            #expect(file.identityMatches == true)
        } else {
            #expect { try APKFile.read(path: path, options: options, expandingDataTo: CountingSink()) } throws: { error in
                (error as? APKError)?.kind == .badDataHash
            }
        }
        // Another package's checksum stops the read at the end of the control section.
        let other = PackageFixture.all.first { $0.checksum != fixture.checksum }!.checksum
        let sink = CountingSink()
        #expect { try APKFile.read(path: path, options: .installing(checksum: other), expandingDataTo: sink) } throws: { error in
            (error as? APKError)?.kind == .checksumMismatch
        }
        #expect(sink.count == 0)
    }

    /// Without keys every signed package is untrusted and every unsigned one unsigned; the
    /// identity and datahash do not depend on the keyring.
    @Test(arguments: PackageFixture.all)
    func emptyKeyringTrustsNothing(_ fixture: PackageFixture) throws {
        let file = try APKFile.read(path: Fixtures.url(fixture.path).path)
        #expect(file.verdict == (fixture.signer == nil ? .unsigned : .untrusted))
        #expect(file.identity == fixture.checksum)
        #expect((file.dataHash == .matches) == fixture.dataHashMatches)
    }
}
