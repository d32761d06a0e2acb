import APK
import Archive
import FuzzSupport

// Whole .apk files through APKFile.read: gzip members, one tar stream across them, signature,
// identity and datahash checks, .PKGINFO and scripts, the data entry list and the expanded data
// copied to a sink. Thrown errors are fine; crashes, traps, sanitizer reports and hangs are
// findings.

/// Caps far below the defaults so decompression bombs end fast.
let options = APKFile.Options(keyring: FuzzSupport.keyring, maximumControlSize: 256 * 1024, maximumDataSize: 1 << 20)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAPK(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    let sink = MemorySink(limit: 2 << 20)
    if let file = try? APKFile.read(from: MemorySource(bytes), name: "fuzz.apk", options: options, expandingDataTo: sink) {
        precondition(file.info.fileSize == UInt64(bytes.count))
        precondition(Int64(sink.bytes.count) == file.expandedDataSize)
        for entry in file.dataEntries {
            precondition(entry.contentOffset >= 0 && entry.contentOffset + entry.size <= Int64(sink.bytes.count),
                         "data entry content lies outside the expanded data")
        }
        _ = file.verdict
    }
    return 0
}
