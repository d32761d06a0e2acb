public import APK

extension ImageConfiguration {
    /// The configuration one architecture's image was built from, as apko records it in
    /// `/etc/apko.json`: `archs` is that architecture alone and `contents.packages` is every
    /// installed package pinned `name=version[@tag]`, sorted, so the file says exactly what the
    /// image holds (reference/apko.md §3.1 step 2).
    public func locked(to architecture: Architecture, packages: [Dependency]) -> ImageConfiguration {
        var result = self
        result.archs = [architecture]
        result.contents.packages = packages.sorted {
            PackageSpelling.spelling(of: $0).utf8.lexicographicallyPrecedes(PackageSpelling.spelling(of: $1).utf8)
        }
        return result
    }

    /// The bytes of `/etc/apko.json`: compact JSON with apko's keys in apko's order, map keys
    /// sorted, empty sections left out and URL credentials hidden (an image must not carry the
    /// build's secrets). The same configuration always gives the same bytes.
    public func apkoJSON() -> [UInt8] {
        var output: [UInt8] = []
        ApkoJSONWriter.write(.mapping(ShowConfig.tree(self)), into: &output)
        return output
    }
}

/// Compact JSON for the value tree ``ShowConfig`` builds: mappings keep their order, empty
/// collections inside mappings are dropped as the YAML writer drops them.
enum ApkoJSONWriter {
    static func write(_ value: YAMLValue, into output: inout [UInt8]) {
        switch value {
        case .string(let text):
            writeString(text, into: &output)
        case .integer(let number):
            output += Array(String(number).utf8)
        case .octal(let bits):
            // JSON has no octal: apko's Go struct holds the mode as a number, so it is one here.
            output += Array(String(bits).utf8)
        case .bool(let flag):
            output += Array((flag ? "true" : "false").utf8)
        case .list(let items):
            output.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                write(item, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .mapping(let pairs):
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, item) in pairs where !item.isEmptyCollection {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(item, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ text: String, into output: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\t"): output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case UInt8(ascii: "\r"): output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20:
                output += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
