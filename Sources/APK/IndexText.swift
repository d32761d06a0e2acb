/// The text inside an APKINDEX (the `APKINDEX` member of `APKINDEX.tar.gz`, or an apk-tools test
/// `.repo` file): records of `X:value` lines separated by blank lines.
public enum IndexText {
    /// Parses every record. A record without `P:` or `V:` fails the whole index, as in apk-tools;
    /// unknown lowercase letters are ignored, unknown uppercase letters mark the package unusable.
    ///
    /// - Parameter source: named in errors (the index path or URL).
    public static func parse(_ bytes: some Collection<UInt8>, source: String? = nil) throws -> [PackageInfo] {
        var parser = IndexTextParser(source: source, expectedSize: bytes.count)
        let wasContiguous: Void? = try bytes.withContiguousStorageIfAvailable { try parser.feed($0) }
        if wasContiguous == nil {
            try Array(bytes).withUnsafeBufferPointer { try parser.feed($0) }
        }
        return try parser.finish()
    }

    /// Writes records in apk-tools 2.14's field order (`C P V A S I T U L o m t c k D p i`), each
    /// followed by a blank line. Records are written in the order given.
    public static func write(_ packages: [PackageInfo]) -> String {
        var text = ""
        for package in packages {
            text += record(package)
            text += "\n"
        }
        return text
    }

    /// One record's lines (without the separating blank line).
    public static func record(_ package: PackageInfo) -> String {
        var text = ""
        if let checksum = package.checksum { text += "C:\(checksum)\n" }
        text += "P:\(package.name)\n"
        text += "V:\(package.version)\n"
        if let arch = package.arch { text += "A:\(arch)\n" }
        if let size = package.fileSize { text += "S:\(size)\n" }
        if let size = package.installedSize { text += "I:\(size)\n" }
        if let value = package.description { text += "T:\(value)\n" }
        if let value = package.url { text += "U:\(value)\n" }
        if let value = package.license { text += "L:\(value)\n" }
        if let value = package.origin { text += "o:\(value)\n" }
        if let value = package.maintainer { text += "m:\(value)\n" }
        if let value = package.buildTime { text += "t:\(value)\n" }
        if let value = package.commit { text += "c:\(value)\n" }
        if let value = package.providerPriority { text += "k:\(value)\n" }
        if !package.depends.isEmpty { text += "D:" + package.depends.map(\.description).joined(separator: " ") + "\n" }
        if !package.provides.isEmpty { text += "p:" + package.provides.map(\.description).joined(separator: " ") + "\n" }
        if !package.installIf.isEmpty { text += "i:" + package.installIf.map(\.description).joined(separator: " ") + "\n" }
        return text
    }
}
