import Foundation

/// How `show-packages` prints each package: apko's named formats, or a template using
/// `{{ .Name }}`, `{{ .Version }}` and `{{ .Source }}` (the package URL).
public struct PackageListFormat: Sendable, Hashable {
    /// apko's named formats and their templates.
    public static let named: [(name: String, template: String)] = [
        ("name-version", "{{ .Name }} {{ .Version }}"),
        ("name-version-source", "{{ .Name }} {{ .Version }} {{ .Source }}"),
        ("name=version", "{{ .Name }}={{ .Version }}"),
        ("name=version-source", "{{ .Name }}={{ .Version }} {{ .Source }}"),
        ("name-(version)", "{{ .Name }} ({{ .Version }})"),
        ("name-(version)-source", "{{ .Name }} ({{ .Version }}) {{ .Source }}"),
        ("packagelock", "- {{ .Name }}={{ .Version }}"),
        ("packagelock-source", "- {{ .Name }}={{ .Version }} # {{ .Source }}"),
    ]

    private enum Piece: Sendable, Hashable {
        case text(String)
        case name, version, source
    }

    private let pieces: [Piece]

    /// A named format (`name-version`, …) or a template. Go templates can do much more; only
    /// the three fields are supported, and anything else in `{{ }}` is refused.
    public init(_ text: String) throws(DistillError) {
        let template = Self.named.first { $0.name == text }?.template ?? text
        var pieces: [Piece] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw DistillError(.format, "--format \(Self.quote(text)) has an unclosed {{")
            }
            var action = rest[open.upperBound..<close.lowerBound]
            // `{{- x -}}` trims in Go; the spaces inside the braces carry no meaning.
            action = action.drop(while: { $0 == " " || $0 == "-" })
            while let last = action.last, last == " " || last == "-" { action = action.dropLast() }
            switch action {
            case ".Name": pieces.append(.name)
            case ".Version": pieces.append(.version)
            case ".Source": pieces.append(.source)
            default:
                throw DistillError(.format, "--format \(Self.quote(text)): {{\(action)}} is not supported; use one of \(Self.named.map(\.name).joined(separator: ", ")) or a template with {{.Name}}, {{.Version}} and {{.Source}}")
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    /// One package's line (without the newline).
    public func line(name: String, version: String, source: String) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .name: name
            case .version: version
            case .source: source
            }
        }.joined()
    }

    /// Every image's packages, one line each, architecture after architecture, as apko prints them.
    public func render(_ images: [ResolvedImage]) -> String {
        images.flatMap { image in
            image.packages.map { line(name: $0.name, version: $0.version, source: $0.url) + "\n" }
        }.joined()
    }

    private static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
