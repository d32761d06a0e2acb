import DistillCrypto

extension LoadedConfig {
    /// apko's config checksum for lock files: `sha256-` and the base64 SHA-256 of the raw bytes of
    /// the config followed by each included file, in include order (reference/apko.md §1.7). Raw
    /// bytes, as apko hashes them: the same config saved with CRLF line ends has another checksum.
    public var checksum: String {
        var hasher = DigestHasher(.sha256)
        for bytes in fileContents {
            hasher.update(bytes)
        }
        return "sha256-" + hasher.finalize().base64
    }

    /// The `config` entry a lock made from this config records; `name` is the config path as given.
    public func lockConfig(name: String) -> LockConfig {
        LockConfig(name: name, checksum: checksum)
    }
}

extension Lockfile {
    /// Checks that this lock was made from `config`, as apko's `build --lockfile` does: a different
    /// checksum is an error (the config changed since it was locked); a lock without a `config`
    /// entry (apko before 0.13) cannot be checked and gives a warning instead.
    public func check(against config: LoadedConfig, lockName: String) throws -> ConfigWarning? {
        guard let recorded = self.config else {
            return ConfigWarning("\(lockName) does not record which config it was made from, so it cannot be checked against \(config.files[0])",
                                 at: nil)
        }
        let actual = config.checksum
        guard recorded.checksum == actual else {
            throw ConfigError(.lockfile, "\(lockName) was made from a config with checksum \(recorded.checksum), but \(config.files[0]) (with its includes) now has \(actual); lock it again",
                              file: lockName)
        }
        return nil
    }
}
