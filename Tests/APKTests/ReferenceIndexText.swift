@testable import APK

/// The APKINDEX text parser as it was before it was tuned for speed, kept as the reference the
/// differential tests hold the fast parser to: every line becomes a `String` first, numbers go
/// through `FixedWidthInteger(_:)` and dependency lines through `Dependency.parseList`.
enum ReferenceIndexText {
    static func parse(_ bytes: [UInt8], source: String? = nil) throws -> [PackageInfo] {
        try bytes.withUnsafeBufferPointer { buffer in
            var packages: [PackageInfo] = []
            var builder = ReferenceRecordBuilder()
            var lineNumber = 0
            var recordStartLine = 1
            var start = 0
            let count = buffer.count
            while start < count {
                lineNumber += 1
                var end = start
                while end < count && buffer[end] != 0x0A { end += 1 }
                var lineEnd = end
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
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
    }
}

private struct ReferenceRecordBuilder {
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
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): info.hasUnknownRequiredField = true
        default: break
        }
    }

    mutating func finish(recordLine: Int, source: String?) throws -> PackageInfo {
        defer { self = ReferenceRecordBuilder() }
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
