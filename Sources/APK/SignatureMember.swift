import Archive

/// The gzip member apk's signers prepend to a package's control member or to an unsigned
/// APKINDEX.tar.gz: a tar holding one `.SIGN.<TYPE>.<key name>` file, "cut" (no end-of-archive
/// blocks) so the tar continues into the next member, as `abuild-tar --cut` makes it.
enum SignatureMember {
    /// The member's bytes for `signature` by `key`.
    static func bytes(signature: [UInt8], key: SigningKey, algorithm: SignatureAlgorithm, modificationTime: Int64) throws -> [UInt8] {
        let memory = MemorySink()
        do {
            let gzip = try GzipWriter(sink: memory, level: 9)
            let tar = TarWriter(sink: gzip)
            // abuild writes it with --owner=0 --group=0 --numeric-owner: ids 0, no names.
            let entry = TarEntry(name: key.entryName(algorithm), mode: 0o644, size: Int64(signature.count),
                                 modificationTime: modificationTime)
            try tar.append(entry, content: signature)
            try tar.finish(.cut)
            try gzip.finish()
        } catch let error as ArchiveError {
            throw APKError(.malformedPackage, "cannot write the signature member: \(error.message)")
        }
        return memory.bytes
    }
}
