import APK
import FuzzSupport

// Dependency lists and versions: the input (as text) is parsed as a dependency list, each
// dependency is printed and re-parsed, and the two halves of the input are compared as apk
// versions. Thrown errors are fine; crashes, traps, sanitizer reports, hangs, a canonical
// spelling that does not parse back to itself and an ordering of valid versions that is not
// antisymmetric are findings.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDependency(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    if let dependencies = try? Dependency.parseList(text) {
        for dependency in dependencies {
            // The canonical spelling must be a fixed point: it parses, and prints the same again.
            let again = try? Dependency(parsing: dependency.description)
            precondition(again?.description == dependency.description, "'\(dependency.description)' does not parse back to itself")
            _ = dependency.versionMatches(APKVersion("1.0-r0"))
        }
    }
    let middle = bytes.count / 2
    let left = APKVersion(String(decoding: bytes[..<middle], as: UTF8.self))
    let right = APKVersion(String(decoding: bytes[middle...], as: UTF8.self))
    guard left.isValid, right.isValid else {
        _ = APKVersion.compare(left, right)
        return 0
    }
    let order = APKVersion.compare(left, right)
    let reverse = APKVersion.compare(right, left)
    switch (order, reverse) {
    case (.less, .greater), (.greater, .less), (.equal, .equal): break
    default: preconditionFailure("compare is not antisymmetric for '\(left)' and '\(right)'")
    }
    // Hashing must agree with apk's equality (`1.0-r0` == `1.0-r00`).
    if order == .equal { precondition(left.hashValue == right.hashValue, "'\(left)' == '\(right)' but their hashes differ") }
    _ = APKVersion.compare(left, right, fuzzy: true)
    return 0
}
