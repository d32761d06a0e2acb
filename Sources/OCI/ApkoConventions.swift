/// How apko fills in an image's metadata (`pkg/build/oci/image.go`), so Distill's images carry
/// the same annotations, labels, author and history.
public enum ApkoConventions {
    /// The config's `author`.
    public static let author = "github.com/chainguard-dev/apko"
    /// Each history entry's `author` and `created_by`.
    public static let historyAuthor = "apko"

    /// The manifest and index annotations: the configured ones (config file plus `--annotations`),
    /// then `org.opencontainers.image.created`, and — when `vcsURL` is `url@commit` —
    /// `org.opencontainers.image.source` and `.revision`. The generated keys win over configured
    /// ones with the same name.
    public static func annotations(configured: [String: String], created: String, vcsURL: String?) -> [String: String] {
        var annotations = configured
        if let vcsURL, let at = vcsURL.lastIndex(of: "@") {
            annotations[AnnotationKey.source] = String(vcsURL[..<at])
            annotations[AnnotationKey.revision] = String(vcsURL[vcsURL.index(after: at)...])
        }
        annotations[AnnotationKey.created] = created
        return annotations
    }

    /// The history comment: "<title> by <vendor>" when both annotations are set, else
    /// "This is an apko single-layer image" for one layer and nothing for several.
    public static func historyComment(layerCount: Int, annotations: [String: String]) -> String {
        if let title = annotations[AnnotationKey.title], let vendor = annotations[AnnotationKey.vendor] {
            return "\(title) by \(vendor)"
        }
        return layerCount == 1 ? "This is an apko single-layer image" : ""
    }

    /// An image configuration as apko writes it: apko's author, `created` on the config and on
    /// one history entry per layer, the layers' diff_ids, and `Labels` = the annotations.
    public static func configuration(platform: Platform, created: String, layers: [LayerBlob],
                                     container: ContainerConfiguration, annotations: [String: String]) -> ImageConfiguration {
        var container = container
        container.labels = annotations.isEmpty ? nil : annotations
        // ggcr leaves an empty comment out of the JSON (omitempty), so nil rather than "".
        let text = historyComment(layerCount: layers.count, annotations: annotations)
        let comment = text.isEmpty ? nil : text
        return ImageConfiguration(
            architecture: platform.architecture, os: platform.os, variant: platform.variant, osVersion: platform.osVersion,
            osFeatures: platform.osFeatures, created: created, author: author, config: container,
            rootfs: RootFilesystem(diffIDs: layers.map(\.diffID)),
            history: layers.map { _ in
                History(created: created, createdBy: historyAuthor, author: historyAuthor, comment: comment)
            })
    }
}
