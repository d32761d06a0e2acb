/// A package URL (purl, github.com/package-url/purl-spec):
/// `pkg:<type>/<namespace>/<name>@<version>?<qualifiers>#<subpath>`.
public struct PackageURL: Sendable, Hashable, CustomStringConvertible {
    /// The package type (`apk`, `oci`, `github`, `generic`); written lower-cased.
    public var type: String
    /// The namespace segments (`["alpine"]`), each percent-encoded on its own.
    public var namespace: [String]
    /// The package name.
    public var name: String
    /// The version, when there is one.
    public var version: String?
    /// Qualifiers; written with lower-cased keys in key order, empty values left out.
    public var qualifiers: [String: String]
    /// A path inside the package, when there is one.
    public var subpath: String?

    /// A purl with the given components.
    public init(type: String, namespace: [String] = [], name: String, version: String? = nil,
                qualifiers: [String: String] = [:], subpath: String? = nil) {
        self.type = type
        self.namespace = namespace
        self.name = name
        self.version = version
        self.qualifiers = qualifiers
        self.subpath = subpath
    }

    /// The canonical purl string. Every component is percent-encoded except the unreserved
    /// characters (`A–Z a–z 0–9 - . _ ~`) and `:`, which the spec says is unambiguous unencoded
    /// anywhere (so `@sha256:…` stays readable, as apko and melange write it).
    public var description: String {
        var text = "pkg:" + type.lowercased() + "/"
        for segment in namespace where !segment.isEmpty {
            text += Self.percentEncode(segment) + "/"
        }
        text += Self.percentEncode(name)
        if let version, !version.isEmpty {
            text += "@" + Self.percentEncode(version)
        }
        let pairs = qualifiers
            .map { (key: $0.key.lowercased(), value: $0.value) }
            .filter { !$0.value.isEmpty }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        if !pairs.isEmpty {
            text += "?" + pairs.map { "\($0.key)=\(Self.percentEncode($0.value))" }.joined(separator: "&")
        }
        if let subpath {
            let segments = subpath.split(separator: "/").filter { $0 != "." && $0 != ".." }
            if !segments.isEmpty {
                text += "#" + segments.map { Self.percentEncode(String($0)) }.joined(separator: "/")
            }
        }
        return text
    }

    private static let upperHex = Array("0123456789ABCDEF".utf8)

    /// `text` with every UTF-8 byte outside the unreserved set and `:` written as `%XX`.
    public static func percentEncode(_ text: String) -> String {
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(upperHex[Int(byte >> 4)])
                bytes.append(upperHex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
