import APK

extension Resolution {
    /// The lines `apk add` prints for this change set (apk-tools 2.14, simulated commit):
    /// `(1/2) Installing b (2)`, `(2/2) Upgrading a@testing (3 -> 3.1)`, …, then
    /// `OK: 0 MiB in 2 packages`. Kept packages are neither counted nor printed.
    public func apkTranscript() -> String {
        let counted = countedChanges
        var text = ""
        for (position, change) in counted.enumerated() {
            guard let subject = change.new ?? change.old else { continue }
            let tag = change.new?.tag.map { "@" + $0 } ?? ""
            let status = "(\(position + 1)/\(counted.count))"
            switch change.action {
            case .install, .reinstall, .repin, .keep:
                text += "\(status) \(change.action.rawValue) \(subject.info.name)\(tag) (\(subject.info.version))\n"
            case .remove:
                text += "\(status) \(change.action.rawValue) \(subject.info.name) (\(subject.info.version))\n"
            case .upgrade, .downgrade, .replace:
                let old = change.old?.info.version ?? ""
                text += "\(status) \(change.action.rawValue) \(subject.info.name)\(tag) (\(old) -> \(subject.info.version))\n"
            }
        }
        let bytes = packages.reduce(UInt64(0)) { $0 + ($1.info.installedSize ?? 0) }
        text += "OK: \(bytes / (1024 * 1024)) MiB in \(installedCount) packages\n"
        return text
    }
}
