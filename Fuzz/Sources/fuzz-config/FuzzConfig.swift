import ApkoConfig
import FuzzSupport

// apko.yaml bytes through ConfigLoader.parse (libyaml events, strict decoding, validation) —
// on bytes, never from files, so an `include:` cannot reach the file system. Input that starts
// with `{` is also read as an apko.lock.json. Thrown errors are fine; crashes, traps, sanitizer
// reports and hangs are findings.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    if let loaded = try? ConfigLoader.parse(bytes, name: "fuzz.yaml") {
        _ = loaded.warnings
        _ = loaded.configuration.withDefaults()
    }
    if bytes.first == UInt8(ascii: "{") {
        _ = try? Lockfile.parse(bytes, name: "fuzz.lock.json")
    }
    return 0
}
