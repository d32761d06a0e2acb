import APK
import FuzzSupport

// .PKGINFO text through PKGINFO.parse, then written back. Thrown errors are fine; crashes,
// traps, sanitizer reports and hangs are findings.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPKGINFO(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    var warnings: [String] = []
    if let info = try? PKGINFO.parse(bytes, source: "fuzz", warnings: &warnings) {
        precondition(!info.name.isEmpty && !info.version.isEmpty)
        _ = PKGINFO.write(info)
    }
    return 0
}
