import TestSupport
import Foundation
import Testing
import DistillCrypto

/// A published test vector (FIPS 180 examples as reproduced in RFC 6234 and by `sha*sum`).
struct KnownAnswer: Sendable, CustomTestStringConvertible {
    let algorithm: DigestAlgorithm
    let input: String
    let hex: String

    var testDescription: String { "\(algorithm)(\"\(input)\")" }

    static let all: [KnownAnswer] = [
        KnownAnswer(algorithm: .sha1, input: "", hex: "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        KnownAnswer(algorithm: .sha1, input: "abc", hex: "a9993e364706816aba3e25717850c26c9cd0d89d"),
        KnownAnswer(
            algorithm: .sha256, input: "",
            hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ),
        KnownAnswer(
            algorithm: .sha256, input: "abc",
            hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ),
        KnownAnswer(
            algorithm: .sha512, input: "",
            hex: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
                + "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        ),
        KnownAnswer(
            algorithm: .sha512, input: "abc",
            hex: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        ),
    ]
}

/// 1 MB of a pattern that does not repeat on any small period, so misplaced chunks change the hash.
private let megabytePattern: [UInt8] = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

@Suite struct DigestTests {
    @Test(arguments: KnownAnswer.all)
    func knownAnswer(_ vector: KnownAnswer) throws {
        let oneShot = vector.algorithm.hash(Array(vector.input.utf8))
        #expect(oneShot.hex == vector.hex)
        #expect(oneShot.algorithm == vector.algorithm)
        #expect(oneShot.bytes.count == vector.algorithm.byteCount)
        // The string's own UTF-8 view is contiguous and must give the same answer.
        #expect(vector.algorithm.hash(vector.input.utf8).hex == vector.hex)
        #expect(try Digest(algorithm: vector.algorithm, hex: vector.hex) == oneShot)
        #expect(oneShot.description == "\(vector.algorithm):\(vector.hex)")
    }

    /// Odd-sized chunks (including empty ones and chunks that straddle OpenSSL's 64/128-byte
    /// blocks) give the one-shot answer, and both equal `openssl dgst` over the same file.
    @Test(arguments: DigestAlgorithm.allCases)
    func chunkedEqualsOneShotEqualsOpenSSL(_ algorithm: DigestAlgorithm) throws {
        let oneShot = megabytePattern.withUnsafeBytes { algorithm.hash($0) }

        var hasher = DigestHasher(algorithm)
        let chunkSizes = [1, 0, 3, 63, 64, 65, 127, 129, 4093, 65_537, 7]
        var offset = 0
        var turn = 0
        megabytePattern.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let size = min(chunkSizes[turn % chunkSizes.count], buffer.count - offset)
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + size)]))
                offset += size
                turn += 1
            }
        }
        #expect(hasher.finalize() == oneShot)

        let scratch = try ScratchDirectory()
        try scratch.write("pattern", megabytePattern)
        let output = try ExternalTool.openssl("dgst", "-\(algorithm)", "-r", "pattern", in: scratch)
        let opensslHex = output.text.split(separator: " ").first.map(String.init)
        #expect(opensslHex == oneShot.hex)
    }

    @Test func everyInputShapeGivesTheSameDigest() {
        let bytes = Array(megabytePattern.prefix(10_000))
        let expected = DigestAlgorithm.sha256.hash(bytes)
        #expect(DigestAlgorithm.sha256.hash(Data(bytes)) == expected)
        // An empty buffer may have no base address at all.
        #expect(
            DigestAlgorithm.sha256.hash(UnsafeRawBufferPointer(start: nil, count: 0)).hex
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(DigestAlgorithm.sha256.hash(bytes[...]) == expected)
        // Not contiguous: goes through the chunking path (10 000 bytes = two full 4 KiB chunks and a tail).
        #expect(DigestAlgorithm.sha256.hash(bytes.lazy.map { $0 }) == expected)
        var hasher = DigestHasher(.sha256)
        hasher.update(bytes[..<5000])
        hasher.update(Data(bytes[5000...]))
        #expect(hasher.finalize() == expected)
    }

    /// Copies fork the state; `finalize` leaves the hasher usable.
    @Test func hashersHaveValueSemantics() {
        var first = DigestHasher(.sha1)
        first.update(Array("ab".utf8))
        let snapshot = first.finalize()
        #expect(snapshot == DigestAlgorithm.sha1.hash(Array("ab".utf8)))

        var second = first
        first.update(Array("c".utf8))
        second.update(Array("x".utf8))
        #expect(first.finalize().hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(second.finalize() == DigestAlgorithm.sha1.hash(Array("abx".utf8)))
        // Still "abc" after finalizing twice.
        #expect(first.finalize().hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    /// Hashers and digests cross task boundaries (the Sendable promise), each task with its own copy.
    @Test func hashersWorkAcrossTasks() async {
        let base = DigestHasher(.sha256)
        let digests = await withTaskGroup(of: Digest.self) { group in
            for index in 0..<8 {
                group.addTask {
                    var mine = base
                    mine.update(megabytePattern[(index * 1000)..<((index + 1) * 1000)])
                    return mine.finalize()
                }
            }
            var results: [Digest] = []
            for await digest in group { results.append(digest) }
            return results
        }
        let expected = Set((0..<8).map { DigestAlgorithm.sha256.hash(megabytePattern[($0 * 1000)..<(($0 + 1) * 1000)]) })
        #expect(Set(digests) == expected)
    }

    @Test func digestsFromTextAndBytesAreChecked() throws {
        let error = try #require(throws: CryptoError.self) {
            try Digest(algorithm: .sha256, hex: "abcd")
        }
        #expect(error.kind == .unsupportedParameter)
        #expect(throws: CryptoError.self) { try Digest(algorithm: .sha1, bytes: [UInt8](repeating: 0, count: 32)) }
        let upper = try Digest(algorithm: .sha1, hex: "A9993E364706816ABA3E25717850C26C9CD0D89D")
        #expect(upper.hex == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    /// apk names a package's control section by "Q1" + base64(SHA-1); the bytes of a digest must
    /// survive the trip through that text.
    @Test func apkStyleIdentityRoundTrips() throws {
        let digest = DigestAlgorithm.sha1.hash(Array("abc".utf8))
        #expect(digest.base64 == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=")
        #expect(try Digest(algorithm: .sha1, bytes: Base64.decode(digest.base64)) == digest)
    }
}
