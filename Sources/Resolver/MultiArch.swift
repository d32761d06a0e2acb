import APK

/// The result of resolving one world for several architectures with versions unified.
public struct MultiArchResolution: Sendable {
    /// Architectures in sorted order.
    public var architectures: [String]
    /// Each architecture's resolution.
    public var resolutions: [String: Resolution]
    /// The `name=version` pins that were needed to make the architectures agree, sorted by name.
    public var pins: [Dependency]

    /// Creates a result from its parts.
    public init(architectures: [String], resolutions: [String: Resolution], pins: [Dependency]) {
        self.architectures = architectures
        self.resolutions = resolutions
        self.pins = pins
    }
}

/// Resolves one world for several architectures so that every package present on more than one
/// architecture gets the same version on all of them (apko's `unify`, done by re-solving rather
/// than by disqualifying): each architecture is solved on its own; where they disagree, the
/// newest version every one of those architectures offers is pinned and the world solved again,
/// until nothing disagrees.
public struct MultiArchResolver: Sendable {
    /// One resolver per architecture (`x86_64`, `aarch64`, …).
    public var resolvers: [String: Resolver]
    /// How many pin-and-resolve rounds to try before giving up.
    public var maximumRounds: Int

    /// One resolver per architecture; `maximumRounds` bounds the pin-and-resolve loop.
    public init(resolvers: [String: Resolver], maximumRounds: Int = 8) {
        self.resolvers = resolvers
        self.maximumRounds = maximumRounds
    }

    /// Resolves `request` for every architecture. Throws ``ResolverError/Kind/unsatisfiable``
    /// (prefixed with the architecture) when one architecture cannot be solved at all, and
    /// ``ResolverError/Kind/inconsistentArchitectures`` when a requested package cannot be given
    /// one version everywhere.
    public func resolve(_ request: ResolveRequest) throws(ResolverError) -> MultiArchResolution {
        let architectures = resolvers.keys.sorted()
        guard !architectures.isEmpty else {
            throw ResolverError(.invalidRequest, "no architecture to resolve for")
        }
        let requested = Set(request.world.filter { !$0.isConflict }.map(\.name))
        var pins: [String: Dependency] = [:]
        var givenUp = Set<String>()
        var previous: [String: Resolution] = [:]

        for round in 0..<max(1, maximumRounds) {
            var results: [String: Resolution] = [:]
            for arch in architectures {
                var archRequest = request
                let present = previous[arch].map { Set($0.packages.map(\.info.name)) }
                for (name, pin) in pins.sorted(by: { $0.key < $1.key }) where present?.contains(name) ?? true {
                    if let position = archRequest.world.firstIndex(where: { $0.name == name }) {
                        archRequest.world[position] = pin
                    } else {
                        archRequest.world.append(pin)
                    }
                }
                do {
                    results[arch] = try resolvers[arch]!.resolve(archRequest)
                } catch {
                    if round == 0 || error.kind != .unsatisfiable {
                        throw ResolverError(error.kind, "\(arch): \(error.message)", problems: error.problems,
                                            apkReport: error.apkReport)
                    }
                    let pinned = pins.keys.sorted().map { "\($0)=\(pins[$0]!.version ?? "")" }.joined(separator: ", ")
                    throw ResolverError(.inconsistentArchitectures,
                                        "\(arch): cannot resolve with the versions the other architectures agreed on (\(pinned)): \(error.message)",
                                        problems: error.problems, apkReport: error.apkReport)
                }
            }
            previous = results

            var newPins = false
            for (name, versions) in disagreements(results, architectures).sorted(by: { $0.key < $1.key })
            where !givenUp.contains(name) {
                let archs = versions.keys.sorted()
                if let common = newestCommonVersion(of: name, on: archs) {
                    if pins[name]?.version == common.text { continue }
                    let tag = archs.lazy.compactMap { arch in
                        results[arch]!.packages.first { $0.info.name == name }?.tag
                    }.first
                    pins[name] = Dependency(name: name, tag: tag, op: .equal, version: common.text)
                    newPins = true
                } else if requested.contains(name) {
                    let listed = archs.map { "\(versions[$0]!) (\($0))" }.joined(separator: ", ")
                    throw ResolverError(.inconsistentArchitectures,
                                        "cannot pick one version of \(name) for every architecture: \(listed); no version is available on all of them")
                } else {
                    // A dependency that differs per architecture and cannot be aligned is left
                    // as each architecture resolved it, as apko does.
                    givenUp.insert(name)
                }
            }
            if !newPins {
                let remaining = disagreements(results, architectures).filter { requested.contains($0.key) }
                if let (name, versions) = remaining.sorted(by: { $0.key < $1.key }).first {
                    let listed = versions.keys.sorted().map { "\(versions[$0]!) (\($0))" }.joined(separator: ", ")
                    throw ResolverError(.inconsistentArchitectures,
                                        "cannot pick one version of \(name) for every architecture: \(listed)")
                }
                return MultiArchResolution(architectures: architectures, resolutions: results,
                                           pins: pins.keys.sorted().map { pins[$0]! })
            }
        }
        throw ResolverError(.inconsistentArchitectures,
                            "the architectures \(architectures.joined(separator: ", ")) did not agree on versions after \(maximumRounds) rounds of pinning")
    }

    /// Package names whose version differs between the architectures that have them, with the
    /// version per architecture.
    func disagreements(_ results: [String: Resolution], _ architectures: [String]) -> [String: [String: String]] {
        var versions: [String: [String: String]] = [:]
        for arch in architectures {
            for package in results[arch]!.packages {
                versions[package.info.name, default: [:]][arch] = package.info.version
            }
        }
        return versions.filter { Set($0.value.values).count > 1 }
    }

    /// The newest version of `name` (as its own package, not a provide) offered on every one of
    /// `architectures`.
    func newestCommonVersion(of name: String, on architectures: [String]) -> APKVersion? {
        var common: Set<String>?
        for arch in architectures {
            let offered = Set(resolvers[arch]!.index.providers(of: name).filter { $0.name == name }.map(\.version))
            common = common.map { $0.intersection(offered) } ?? offered
        }
        return common?.map { APKVersion($0) }.max()
    }
}
