import Rootfs

// Rootfs, ApkoConfig and Repository each name a type `Accounts`, `PathMutation`, `Certificates`,
// `Layering` or `KeyFile`, and `Rootfs.X` cannot be spelled because the module has a type named
// `Rootfs`. This file sees only the Rootfs module, so these names are unambiguous here.

/// The Rootfs module's users and groups.
typealias RootfsAccounts = Accounts
/// The Rootfs module's `paths` mutation.
typealias RootfsPathMutation = PathMutation
/// The Rootfs module's certificates section.
typealias RootfsCertificates = Certificates
/// The Rootfs module's layering choice.
typealias RootfsLayering = Layering
/// The Rootfs module's `/etc/apk/keys` file.
typealias RootfsKeyFile = KeyFile
