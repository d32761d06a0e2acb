/// apko's include merge (`MergeInto`, reference/apko.md §1.7): the included config is the base and
/// the including config wins. Single values come from the including config when it sets them;
/// lists (repositories, keyrings, packages, users, groups, paths, volumes, runtime keys,
/// certificates) are the base's entries followed by the including config's; maps (environment,
/// annotations) are merged with the including config's keys winning.
func merge(base: DecodedConfig, into parent: DecodedConfig) -> DecodedConfig {
    var result = parent
    let b = base.configuration
    var c = parent.configuration
    var sources = parent.sources

    if c.entrypoint.isEmpty { c.entrypoint = b.entrypoint }
    if c.cmd.isEmpty { c.cmd = b.cmd }
    if c.stopSignal.isEmpty { c.stopSignal = b.stopSignal }
    if c.workDir.isEmpty { c.workDir = b.workDir }
    if c.archs.isEmpty { c.archs = b.archs }
    if c.vcsURL.isEmpty { c.vcsURL = b.vcsURL }
    if c.layering == nil { c.layering = b.layering }
    if c.format == nil { c.format = b.format }
    if c.contents.baseImage == nil { c.contents.baseImage = b.contents.baseImage }
    if c.accounts.runAs.isEmpty { c.accounts.runAs = b.accounts.runAs }
    c.environment.merge(b.environment) { parentValue, _ in parentValue }
    c.annotations.merge(b.annotations) { parentValue, _ in parentValue }

    c.accounts.users = b.accounts.users + c.accounts.users
    c.accounts.groups = b.accounts.groups + c.accounts.groups
    c.paths = b.paths + c.paths
    c.volumes = b.volumes + c.volumes
    c.contents.keyring = b.contents.keyring + c.contents.keyring
    c.contents.runtimeKeyring = b.contents.runtimeKeyring + c.contents.runtimeKeyring
    c.contents.buildRepositories = b.contents.buildRepositories + c.contents.buildRepositories
    c.contents.runtimeRepositories = b.contents.runtimeRepositories + c.contents.runtimeRepositories
    c.contents.repositories = b.contents.repositories + c.contents.repositories
    c.contents.packages = b.contents.packages + c.contents.packages
    c.certificates.additional = b.certificates.additional + c.certificates.additional
    c.certificates.providers = b.certificates.providers + c.certificates.providers
    c.include = ""

    let s = base.sources
    sources.users = s.users + sources.users
    sources.groups = s.groups + sources.groups
    sources.paths = s.paths + sources.paths
    sources.keyring = s.keyring + sources.keyring
    sources.runtimeKeyring = s.runtimeKeyring + sources.runtimeKeyring
    sources.buildRepositories = s.buildRepositories + sources.buildRepositories
    sources.runtimeRepositories = s.runtimeRepositories + sources.runtimeRepositories
    sources.repositories = s.repositories + sources.repositories
    sources.packages = s.packages + sources.packages
    sources.certificates = s.certificates + sources.certificates
    sources.fields.merge(s.fields) { parentLocation, _ in parentLocation }
    sources.fields["include"] = nil

    result.configuration = c
    result.sources = sources
    result.warnings = base.warnings + parent.warnings
    return result
}
