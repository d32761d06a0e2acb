import APK

/// One layer of the image, as planned.
public struct RootfsLayer: Sendable, Hashable {
    /// What the layer holds.
    public enum Kind: Sendable, Hashable {
        /// The whole rootfs (single-layer images).
        case complete
        /// The files of a group of packages, plus a partial installed db listing only them.
        case packages
        /// Everything no package owns: directories the rootfs made, `/dev`, apk's database and
        /// configuration, account files, certificates, files the configuration changed.
        case top
    }

    /// What the layer holds.
    public var kind: Kind
    /// The names of the packages whose files are in the layer, sorted (`.packages` only).
    public var packages: [String]
    /// The sum of those packages' installed sizes (`I:`), which orders the layers.
    public var installedSize: UInt64
}

/// apko's `origin` layering (reference/apko.md §5, `pkg/build/layers.go`).
enum LayerPlanner {
    /// The layers, largest package group first, then the overflow group, then the top layer;
    /// and the layer of each package (by install-order index).
    static func plan(_ infos: [PackageInfo], budget: Int) -> (layers: [RootfsLayer], layerOfPackage: [Int]) {
        // 1. Group by origin (a package without one shares the "" group, as in apko).
        var groupOf: [Int] = []
        var originGroup: [String: Int] = [:]
        for info in infos {
            let origin = info.origin ?? ""
            if let group = originGroup[origin] {
                groupOf.append(group)
            } else {
                originGroup[origin] = originGroup.count
                groupOf.append(originGroup.count - 1)
            }
        }
        // 2. Merge the groups of a package and of a package it replaces (at a version its
        //    `replaces` accepts).
        var parent = Array(0..<originGroup.count)
        func root(_ group: Int) -> Int {
            var group = group
            while parent[group] != group { group = parent[group] }
            return group
        }
        var packageByName: [String: Int] = [:]
        for (index, info) in infos.enumerated() { packageByName[info.name] = index }
        for (index, info) in infos.enumerated() {
            for replaced in info.replaces {
                guard let other = packageByName[replaced.name], Installer.materializes(replaced, infos[other]) else { continue }
                let (a, b) = (root(groupOf[index]), root(groupOf[other]))
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var members: [Int: [Int]] = [:]
        for index in infos.indices { members[root(groupOf[index]), default: []].append(index) }

        struct Group {
            var packages: [Int]
            var size: UInt64
            var tiebreaker: String
        }
        func describe(_ packages: [Int]) -> Group {
            Group(packages: packages, size: packages.reduce(0) { $0 &+ (infos[$1].installedSize ?? 0) },
                  tiebreaker: packages.map { infos[$0].name }.max { $0.utf8.lexicographicallyPrecedes($1.utf8) } ?? "")
        }
        // 3. Largest first; equal sizes by the largest package name, ascending.
        var groups = members.values.map(describe).sorted { a, b in
            if a.size != b.size { return a.size > b.size }
            return a.tiebreaker.utf8.lexicographicallyPrecedes(b.tiebreaker.utf8)
        }
        if groups.count > budget {
            let cutoff = max(budget - 1, 0)
            let overflow = describe(groups[cutoff...].flatMap(\.packages))
            groups = Array(groups[..<cutoff]) + [overflow]
        }
        var layerOfPackage = [Int](repeating: groups.count, count: infos.count)
        var layers: [RootfsLayer] = []
        for (layer, group) in groups.enumerated() {
            for package in group.packages { layerOfPackage[package] = layer }
            let names = group.packages.map { infos[$0].name }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            layers.append(RootfsLayer(kind: .packages, packages: names, installedSize: group.size))
        }
        layers.append(RootfsLayer(kind: .top, packages: [], installedSize: 0))
        return (layers, layerOfPackage)
    }
}
