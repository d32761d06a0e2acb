/// The text inside an APKINDEX (the `APKINDEX` member of `APKINDEX.tar.gz`, or an apk-tools test
/// `.repo` file): records of `X:value` lines separated by blank lines.
public enum IndexText {
    /// Parses every record. A record without `P:` or `V:` fails the whole index, as in apk-tools;
    /// unknown lowercase letters are ignored, unknown uppercase letters mark the package unusable.
    ///
    /// - Parameter source: named in errors (the index path or URL).
    public static func parse(_ bytes: some Collection<UInt8>, source: String? = nil) throws -> [PackageInfo] {
        let buffer = Array(bytes)
        return try buffer.withUnsafeBufferPointer { try parse(buffer: $0, source: source) }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, source: String?) throws -> [PackageInfo] {
        var packages: [PackageInfo] = []
        var builder = RecordBuilder()
        var lineNumber = 0
        var recordStartLine = 1
        var start = 0
        let count = buffer.count
        while start < count {
            lineNumber += 1
            var end = start
            while end < count && buffer[end] != 0x0A { end += 1 }
            var lineEnd = end
            if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }  // tolerate CRLF
            if lineEnd == start {
                if !builder.isEmpty {
                    packages.append(try builder.finish(recordLine: recordStartLine, source: source))
                }
                recordStartLine = lineNumber + 1
            } else {
                if builder.isEmpty { recordStartLine = lineNumber }
                guard lineEnd - start >= 2, buffer[start + 1] == UInt8(ascii: ":") else {
                    throw APKError(.malformedIndex, "line \(lineNumber) is not of the form X:value", source: source)
                }
                let value = UnsafeBufferPointer(rebasing: buffer[(start + 2)..<lineEnd])
                try builder.add(letter: buffer[start], value: value, line: lineNumber, source: source)
            }
            start = end + 1
        }
        if !builder.isEmpty {
            packages.append(try builder.finish(recordLine: recordStartLine, source: source))
        }
        return packages
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

/// Accumulates the lines of one record.
private struct RecordBuilder {
    var info = PackageInfo(name: "", version: "")
    var hasName = false
    var hasVersion = false
    var isEmpty = true

    mutating func add(letter: UInt8, value: UnsafeBufferPointer<UInt8>, line: Int, source: String?) throws {
        isEmpty = false
        let text = String(decoding: value, as: UTF8.self)
        func number<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            guard let parsed = T(text) else {
                throw APKError(.malformedIndex,
                               "line \(line): '\(Character(Unicode.Scalar(letter))):\(text)' is not a number", source: source)
            }
            return parsed
        }
        func dependencies() throws -> [Dependency] {
            do {
                return try Dependency.parseList(text)
            } catch let error as APKError {
                throw APKError(.malformedIndex, "line \(line): \(error.message)", source: source)
            }
        }
        switch letter {
        case UInt8(ascii: "P"): info.name = text; hasName = true
        case UInt8(ascii: "V"): info.version = text; hasVersion = true
        case UInt8(ascii: "C"): info.checksum = text
        case UInt8(ascii: "A"): info.arch = text
        case UInt8(ascii: "S"): info.fileSize = try number(UInt64.self)
        case UInt8(ascii: "I"): info.installedSize = try number(UInt64.self)
        case UInt8(ascii: "T"): info.description = text
        case UInt8(ascii: "U"): info.url = text
        case UInt8(ascii: "L"): info.license = text
        case UInt8(ascii: "o"): info.origin = text
        case UInt8(ascii: "m"): info.maintainer = text
        case UInt8(ascii: "t"): info.buildTime = try number(Int64.self)
        case UInt8(ascii: "c"): info.commit = text
        case UInt8(ascii: "k"): info.providerPriority = try number(Int.self)
        case UInt8(ascii: "D"): info.depends += try dependencies()
        case UInt8(ascii: "p"): info.provides += try dependencies()
        case UInt8(ascii: "i"): info.installIf += try dependencies()
        case UInt8(ascii: "r"): info.replaces += try dependencies()
        case UInt8(ascii: "q"): info.replacesPriority = try number(Int.self)
        case UInt8(ascii: "A")...UInt8(ascii: "Z"):
            // Installed-db letters (F M R Z) are handled by the installed-db reader; in an index an
            // unknown uppercase letter means a newer format this package needs.
            info.hasUnknownRequiredField = true
        default:
            break  // unknown lowercase letters are ignored for forward compatibility
        }
    }

    mutating func finish(recordLine: Int, source: String?) throws -> PackageInfo {
        defer { self = RecordBuilder() }
        guard hasName, !info.name.isEmpty else {
            throw APKError(.malformedIndex, "the record starting at line \(recordLine) has no P: (name) line", source: source)
        }
        guard hasVersion, !info.version.isEmpty else {
            throw APKError(.malformedIndex, "the record for '\(info.name)' at line \(recordLine) has no V: (version) line",
                           source: source)
        }
        return info
    }
}
