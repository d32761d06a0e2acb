import APK

extension Resolution {
    /// A Graphviz rendering: one node per selected package (`name-version`), a `world` node, and
    /// an edge for each dependency from the package (or world entry) that has it to the package
    /// that satisfies it. Edges reached through a virtual name (`so:…`, `cmd:…`, a provide) are
    /// labelled with the dependency text.
    ///
    /// - Parameter spanningTree: keep only the first edge that reaches each package, walking
    ///   breadth-first from the world in world order and dependencies in `D:` order — the
    ///   shortest way each package got pulled in.
    public func dot(spanningTree: Bool = false) -> String {
        var lines = ["digraph resolution {", "  node [shape=box];", "  \"world\" [shape=oval];"]
        for package in packages {
            lines.append("  \(Self.quoted(package.nameVersion));")
        }
        for edge in spanningTree ? treeEdges() : uniqueEdges() {
            let from = edge.from.map { packages[$0].nameVersion } ?? "world"
            let target = packages[edge.to]
            var line = "  \(Self.quoted(from)) -> \(Self.quoted(target.nameVersion))"
            if edge.dependency.name != target.info.name {
                line += " [label=\(Self.quoted(edge.dependency.description))]"
            }
            lines.append(line + ";")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every edge once (a package listing the same dependency twice draws one edge).
    private func uniqueEdges() -> [ResolvedEdge] {
        var seen = Set<ResolvedEdge>()
        return edges.filter { seen.insert($0).inserted }
    }

    private func treeEdges() -> [ResolvedEdge] {
        var outgoing: [Int?: [ResolvedEdge]] = [:]
        for edge in edges { outgoing[edge.from, default: []].append(edge) }
        var reached = Set<Int>()
        var kept: [ResolvedEdge] = []
        var queue: [Int?] = [nil]
        var head = 0
        while head < queue.count {
            let from = queue[head]
            head += 1
            for edge in outgoing[from] ?? [] where reached.insert(edge.to).inserted {
                kept.append(edge)
                queue.append(edge.to)
            }
        }
        return kept
    }

    static func quoted(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\"" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return "\"" + escaped + "\""
    }
}
