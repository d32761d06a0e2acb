import Archive
import FuzzSupport

// Feeds arbitrary bytes to TarReader as a plain tar stream and walks every entry, reading,
// copying or skipping content in turn. Thrown errors are fine; crashes, traps, sanitizer reports
// and hangs are findings.

let limits = TarReader.Limits(maximumExtendedHeaderSize: 64 * 1024, maximumNameLength: 4096, maximumEntryCount: 10_000)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTar(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzSupport.bytes(data, size)
    // One pass per input (the length's parity picks the name rule) keeps the exec rate up.
    for refusesUnsafeNames in [bytes.count % 2 == 0] {
        let reader = TarReader(source: MemorySource(bytes), limits: limits, refusesUnsafeNames: refusesUnsafeNames)
        do {
            var index = 0
            while let entry = try reader.next() {
                precondition(entry.size >= 0, "negative size returned")
                precondition(entry.contentOffset == reader.offset && entry.headerOffset < entry.contentOffset)
                if refusesUnsafeNames { precondition(TarName.isSafe(entry.name)) }
                switch index % 3 {
                case 0:
                    _ = try reader.readContent(limit: 1 << 20)
                case 1:
                    let sink = MemorySink(limit: 1 << 20)
                    _ = try reader.copyContent(to: sink)
                default:
                    break  // next() skips it
                }
                index += 1
            }
            precondition(reader.ending != nil)
        } catch {
        }
    }
    return 0
}
