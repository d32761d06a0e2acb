import APK
import ApkoConfig
import Repository
import Rootfs

/// Turns one architecture's resolved config and verified packages into the Rootfs stage's
/// request: only translation between the modules' vocabularies, no file-system logic.
enum ImageComposition {
    /// Every installed package pinned `name=version` (with its `@tag`), in install order.
    static func pins(_ image: ResolvedImage) -> [Dependency] {
        image.packages.map { Dependency(name: $0.name, tag: $0.tag, op: .equal, version: $0.version) }
    }

    /// The Rootfs request for `image`, built from `configuration` (defaulted), without packages:
    /// they are installed as they are fetched (see ``package(_:position:of:)``). Its build epoch
    /// and certificate providers depend on the packages, so the composer gets them when they are
    /// all in. `apkoJSON` is the locked config's bytes.
    static func request(configuration: ImageConfiguration, image: ResolvedImage, keyring: LoadedKeyring,
                        apkoJSON: [UInt8]) -> RootfsRequest {
        let contents = configuration.contents
        // /etc/apk/repositories is the image's view: the build-only repositories stay out.
        let runtimeRepositories = (contents.repositories + contents.runtimeRepositories).map(\.spelling)
        let services = configuration.entrypoint.type == .serviceBundle
            ? configuration.entrypoint.services.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { Service(name: $0.key, command: $0.value) }
            : []
        return RootfsRequest(
            architecture: image.architecture.apkName,
            packages: [],
            world: pins(image).map(\.description),
            repositories: runtimeRepositories,
            keyring: keyring.files.map { RootfsKeyFile(name: $0.name, content: $0.bytes) },
            runtimeKeyring: contents.runtimeKeyring.map { RootfsKeyFile(name: $0.name, content: Array($0.content.utf8)) },
            accounts: accounts(configuration),
            paths: configuration.paths.map(pathMutation),
            certificates: certificates(configuration, installed: []),
            services: services,
            apkoJSON: apkoJSON,
            layering: configuration.layering.map { RootfsLayering.origin(budget: $0.budget) } ?? .single)
    }

    /// The package at `position` of `image`'s install order as the Rootfs stage installs it: as
    /// fetched (its `.PKGINFO`, scripts, entries and expanded tar), with the resolved `@tag`.
    static func package(_ package: FetchedPackage, position: Int, of image: ResolvedImage) throws(DistillError) -> RootfsPackage {
        guard position < image.packages.count else {
            throw DistillError(.repository, "\(image.architecture.apkName): more packages were fetched than the \(image.packages.count) resolved ones")
        }
        guard let expanded = package.expandedDataPath else {
            throw DistillError(.repository, "\(package.request.nameVersion) was fetched without its expanded data, so it cannot be installed")
        }
        return RootfsPackage(file: package.file, expandedDataPath: expanded, repositoryTag: image.packages[position].tag)
    }

    /// The configured users and groups; `withDefaults()` has filled in gids, shells and homes.
    static func accounts(_ configuration: ImageConfiguration) -> RootfsAccounts {
        RootfsAccounts(
            users: configuration.accounts.users.map { user in
                UserAccount(name: user.username, uid: user.uid, gid: user.gid ?? user.uid,
                            shell: user.shell.isEmpty ? "/bin/sh" : user.shell,
                            home: user.homeDirectory.isEmpty ? "/home/" + user.username : user.homeDirectory)
            },
            groups: configuration.accounts.groups.map { GroupAccount(name: $0.groupname, gid: $0.gid, members: $0.members) })
    }

    static func pathMutation(_ mutation: ApkoConfig.PathMutation) -> RootfsPathMutation {
        let kind: RootfsPathMutation.Kind = switch mutation.type {
        case .directory: .directory
        case .emptyFile: .emptyFile
        case .hardlink: .hardlink
        case .symlink: .symlink
        case .permissions: .permissions
        }
        return RootfsPathMutation(path: mutation.path, kind: kind, uid: mutation.uid, gid: mutation.gid,
                                  permissions: mutation.permissions, source: mutation.source.isEmpty ? nil : mutation.source,
                                  recursive: mutation.recursive)
    }

    /// `certificates.providers` names packages or what they provide (`ca-certificates` is often a
    /// virtual name); the Rootfs stage wants the installed packages' names.
    static func certificates(_ configuration: ImageConfiguration, installed: [PackageInfo]) -> RootfsCertificates {
        var providerPackages: [String] = []
        for provider in configuration.certificates.providers {
            let matches = installed.filter { info in
                info.name == provider || info.provides.contains { $0.name == provider }
            }.map(\.name)
            for name in matches where !providerPackages.contains(name) { providerPackages.append(name) }
        }
        return RootfsCertificates(
            additional: configuration.certificates.additional.map { AdditionalCertificate(name: $0.name, content: $0.content) },
            providerPackages: providerPackages)
    }

    /// The OCI `User`: `run-as` as `withDefaults()` left it (a configured user's name is already
    /// its uid), and a name the image's own `/etc/passwd` lists becomes that uid, as apko does.
    static func user(runAs: String, rootfs: Rootfs) throws(DistillError) -> String? {
        guard !runAs.isEmpty else { return nil }
        guard !runAs.allSatisfy({ $0.isASCII && $0.isNumber }) else { return runAs }
        let passwd: [UInt8]?
        do {
            passwd = try rootfs.contents(of: "etc/passwd", limit: 4 << 20)
        } catch {
            throw DistillError(.compose, error.description)
        }
        guard let passwd else { return runAs }
        for line in String(decoding: passwd, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count >= 3, fields[0] == runAs { return String(fields[2]) }
        }
        return runAs
    }
}
