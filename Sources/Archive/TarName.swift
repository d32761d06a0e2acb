/// The name-safety rule both the reader and the writer apply by default, public so the APK and
/// rootfs code can apply the very same rule to names from elsewhere.
///
/// A name is refused ("malicious", in apk's words) when it is empty, starts with `/`, has a `.` or
/// `..` component anywhere, or contains NUL or another control character (U+0001–U+001F, U+007F).
/// This is a superset of apk-tools' own check (leading `/`, control characters, a leading `./` or
/// `../`, an inner `/./` or `/../`), closing the gap it leaves for a final `/..`. A single trailing
/// `/` (how tar marks directories) and empty inner components (`a//b`) are harmless and allowed.
public enum TarName {
    /// Why `name` is unsafe, or nil when it is safe.
    public static func unsafeReason(_ name: String) -> String? {
        if name.isEmpty { return "empty name" }
        // One pass over the bytes with no generic helpers: every entry of every archive comes
        // through here, so it must stay cheap even in a debug build.
        var control: UInt8?
        var componentLength = 0
        var componentDots = 0
        var dotComponent: String?
        for byte in name.utf8 {
            if byte < 0x20 || byte == 0x7f {
                if control == nil { control = byte }
            }
            if byte == UInt8(ascii: "/") {
                if dotComponent == nil && componentLength > 0 && componentLength == componentDots && componentDots <= 2 {
                    dotComponent = componentDots == 1 ? "'.' component" : "'..' component"
                }
                componentLength = 0
                componentDots = 0
            } else {
                componentLength += 1
                if byte == UInt8(ascii: ".") { componentDots += 1 }
            }
        }
        if dotComponent == nil && componentLength > 0 && componentLength == componentDots && componentDots <= 2 {
            dotComponent = componentDots == 1 ? "'.' component" : "'..' component"
        }
        if let byte = control {
            return byte == 0 ? "NUL byte in name" : "control character 0x\(String(byte, radix: 16)) in name"
        }
        if name.utf8.first == UInt8(ascii: "/") { return "absolute name" }
        return dotComponent
    }

    /// Whether `name` passes the rule.
    public static func isSafe(_ name: String) -> Bool {
        unsafeReason(name) == nil
    }

    /// Throws `.unsafeName` (naming the entry and the reason) when `name` fails the rule.
    public static func validate(_ name: String) throws {
        if let reason = unsafeReason(name) {
            throw ArchiveError(.unsafeName, "unsafe entry name \(quoted(name)): \(reason)")
        }
    }

    /// The name in quotes with control characters escaped and long names shortened, safe to print
    /// on one line.
    static func quoted(_ name: String) -> String {
        var text = "'"
        for (index, scalar) in name.unicodeScalars.enumerated() {
            if index == 200 {
                text += "..."
                break
            }
            if scalar.value < 0x20 || scalar.value == 0x7f {
                text += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text + "'"
    }
}
