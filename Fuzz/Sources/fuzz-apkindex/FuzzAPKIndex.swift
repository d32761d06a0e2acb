import APK
import Archive
import FuzzSupport

// APKINDEX text through IndexText.parse; input that starts like gzip goes through the signed
// index reader (APKIndexFile) instead, which un-gzips, walks the tar, checks signatures and parses
// the text. Thrown errors are fine; crashes, traps, sanitizer reports and hangs are findings.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPKIndex(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    if bytes.starts(with: [0x1f, 0x8b]) {
        _ = try? APKIndexFile.read(from: MemorySource(bytes), name: "fuzz", keyring: FuzzSupport.keyring,
                                   requiresTrust: false, maximumSize: 4 << 20)
    } else if let packages = try? IndexText.parse(bytes, source: "fuzz") {
        for package in packages {
            precondition(!package.name.isEmpty && !package.version.isEmpty)
            _ = IndexText.record(package)
        }
    }
    return 0
}
