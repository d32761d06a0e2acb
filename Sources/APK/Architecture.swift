/// A CPU architecture an image or package is built for, with its two spellings: the apk name used
/// in repository paths and `.PKGINFO` (`x86_64`, `aarch64`, `armv7`) and the OCI platform used in
/// image indexes (`linux/amd64`, `linux/arm64`, `linux/arm/v7`).
///
/// The identity is the OCI name (`amd64`, `arm/v7`), as in apko, so lists sort the way apko sorts
/// them and `x86_64` and `amd64` are the same architecture.
public struct Architecture: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The OCI name: `architecture` or `architecture/variant` (`386`, `amd64`, `arm/v7`).
    public let ociName: String
    /// The apk name, as used in repository paths (`<repo>/<apk name>/APKINDEX.tar.gz`).
    public let apkName: String

    private init(oci: String, apk: String) {
        self.ociName = oci
        self.apkName = apk
    }

    /// 32-bit x86: apk `x86`, OCI `386`.
    public static let x86 = Architecture(oci: "386", apk: "x86")
    /// apk `x86_64`, OCI `amd64`.
    public static let amd64 = Architecture(oci: "amd64", apk: "x86_64")
    /// apk `aarch64`, OCI `arm64` (no variant).
    public static let arm64 = Architecture(oci: "arm64", apk: "aarch64")
    /// apk `armhf`, OCI `arm` variant `v6`.
    public static let armv6 = Architecture(oci: "arm/v6", apk: "armhf")
    /// apk `armv7`, OCI `arm` variant `v7`.
    public static let armv7 = Architecture(oci: "arm/v7", apk: "armv7")
    /// apk `loongarch64`, OCI `loong64`.
    public static let loong64 = Architecture(oci: "loong64", apk: "loongarch64")
    /// The same name in both.
    public static let ppc64le = Architecture(oci: "ppc64le", apk: "ppc64le")
    /// The same name in both.
    public static let riscv64 = Architecture(oci: "riscv64", apk: "riscv64")
    /// The same name in both.
    public static let s390x = Architecture(oci: "s390x", apk: "s390x")

    /// Every architecture apko knows, sorted by OCI name (the order a multi-arch build uses).
    public static let all: [Architecture] = [
        .x86, .amd64, .armv6, .armv7, .arm64, .loong64, .ppc64le, .riscv64, .s390x,
    ].sorted()

    /// The architecture this program runs on.
    public static var host: Architecture {
        #if arch(x86_64)
        return .amd64
        #elseif arch(arm64)
        return .arm64
        #elseif arch(i386)
        return .x86
        #elseif arch(arm)
        return .armv7
        #elseif arch(powerpc64le)
        return .ppc64le
        #elseif arch(s390x)
        return .s390x
        #elseif arch(riscv64)
        return .riscv64
        #else
        #error("Distill does not know the apk name of this host architecture")
        #endif
    }

    /// Looks an architecture up by either spelling: apk (`x86_64`, `aarch64`, `armhf`,
    /// `loongarch64`) or OCI (`amd64`, `arm64`, `arm/v6`, `loong64`), plus the `linux/` prefixed
    /// platform form (`linux/arm64`). Returns nil for names no repository uses.
    public init?(_ name: String) {
        var key = name
        if key.hasPrefix("linux/") { key.removeFirst("linux/".count) }
        if key == "arm64/v8" { key = "arm64" }
        guard let found = Self.all.first(where: { $0.ociName == key || $0.apkName == key }) else {
            return nil
        }
        self = found
    }

    /// The OCI platform `os` (always `linux`).
    public var ociOS: String { "linux" }

    /// The OCI platform `architecture`: the OCI name without its variant (`arm` for `arm/v7`).
    public var ociArchitecture: String {
        String(ociName.split(separator: "/", maxSplits: 1)[0])
    }

    /// The OCI platform `variant` (`v6`, `v7`), nil when there is none; `arm64` has no `v8`
    /// variant, as in apko.
    public var ociVariant: String? {
        let parts = ociName.split(separator: "/", maxSplits: 1)
        return parts.count == 2 ? String(parts[1]) : nil
    }

    /// `os/architecture[/variant]`, the form `docker --platform` takes.
    public var platform: String { "linux/" + ociName }

    /// The OCI name.
    public var description: String { ociName }

    /// Byte order of the OCI names, as Go sorts apko's architecture strings.
    public static func < (lhs: Architecture, rhs: Architecture) -> Bool {
        lhs.ociName.utf8.lexicographicallyPrecedes(rhs.ociName.utf8)
    }

    /// Parses a list of names as apko's `archs:` and `--arch` do: either spelling, `all` for every
    /// architecture, `host` for this machine's; the result is deduplicated and sorted by OCI name.
    /// Names that are not architectures are returned in `unknown`, in input order, for the caller
    /// to report where they came from.
    public static func parseList(_ names: [String]) -> (architectures: [Architecture], unknown: [String]) {
        var found = Set<Architecture>()
        var unknown: [String] = []
        for name in names {
            switch name {
            case "all": found.formUnion(all)
            case "host": found.insert(host)
            default:
                if let architecture = Architecture(name) {
                    found.insert(architecture)
                } else {
                    unknown.append(name)
                }
            }
        }
        return (found.sorted(), unknown)
    }

    /// The accepted names, for error messages: `x86_64 (amd64), aarch64 (arm64), …, all, host`.
    public static var acceptedNames: String {
        all.map { "\($0.apkName) (\($0.ociName))" }.joined(separator: ", ") + ", all, host"
    }
}
