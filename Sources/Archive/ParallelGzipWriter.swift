#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif
internal import Dispatch

/// A pigz-style gzip encoder: one valid gzip member, compressed on several threads.
///
/// The input is cut into fixed-size blocks (`blockSize`, 128 KiB by default). Each block is
/// deflated on its own, primed with the 32 KiB of input before it as a dictionary so matches can
/// still reach back across the cut, and ended with a sync flush (an empty stored block that
/// byte-aligns it) so the pieces concatenate into one deflate stream; the last block is ended with
/// a final block instead. The CRC-32 of each block is computed on the worker and combined.
///
/// Determinism: block boundaries depend only on `blockSize` and the total input, never on how
/// the caller splits its writes or on `threads`, and each block's bytes depend only on its
/// input, dictionary and level. So the output is byte-identical for any thread count. It differs
/// from `GzipWriter`'s output (the sync points cost a few bytes per block) but decompresses to the
/// same data, and the header is the same deterministic one.
///
/// Memory is bounded: at most `threads * 8` blocks are buffered and in flight at once (input and
/// output), plus one deflate state per thread. Compression runs in batches: `write(_:)` buffers
/// blocks and, when the batch is full, compresses it on `threads` threads (the calling thread is
/// one of them) and writes the results to the sink in order before returning.
public final class ParallelGzipWriter: ByteSink {
    /// Where compressed bytes go.
    public let sink: any ByteSink
    /// The deflate level, 0 ... 9.
    public let level: Int
    /// The uncompressed size of each independently compressed block.
    public let blockSize: Int
    /// How many threads compress at once (the calling thread included).
    public let threads: Int
    /// Compressed bytes handed to the sink so far.
    public private(set) var compressedBytesWritten: Int64 = 0
    /// Uncompressed bytes accepted so far.
    public private(set) var inputSize: Int64 = 0

    /// 32 KiB: the deflate window, hence the most history a block can use as its dictionary.
    private static let dictionarySize = 32 * 1024

    private let batch: BatchState
    private var filled = 0
    private var carry = 0
    private var crc: UInt32 = 0
    private var headerWritten = false
    private var isFinished = false

    /// The number of processors online, the default for `threads`.
    public static var defaultThreadCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// An encoder writing one gzip member to `sink`. `blockSize` must be at least 1 KiB;
    /// `threads` at least 1.
    public init(sink: any ByteSink, level: Int = 6, blockSize: Int = 128 * 1024, threads: Int = ParallelGzipWriter.defaultThreadCount) throws {
        guard (0...9).contains(level) else {
            throw ArchiveError(.invalidArgument, "compression level \(level) is outside 0...9")
        }
        guard blockSize >= 1024, blockSize <= zlibMaximumChunk else {
            throw ArchiveError(.invalidArgument, "block size \(blockSize) is outside 1 KiB ... 1 GiB")
        }
        guard threads >= 1 else {
            throw ArchiveError(.invalidArgument, "thread count \(threads) must be at least 1")
        }
        self.sink = sink
        self.level = level
        self.blockSize = blockSize
        self.threads = threads
        let deflaters = try (0..<threads).map { _ in try RawDeflater(level: level) }
        self.batch = BatchState(
            dictionarySize: Self.dictionarySize, blockSize: blockSize, blockCount: threads * 8,
            deflaters: deflaters, outputCapacity: deflaters[0].bound(blockSize) + 64)
    }

    /// Buffers `bytes`, compressing full batches as they form.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !isFinished else {
            throw ArchiveError(.invalidArgument, "write after ParallelGzipWriter.finish()")
        }
        var offset = 0
        while offset < bytes.count {
            // A full batch is compressed only once more input exists, so its last block is known
            // not to be the stream's last.
            if filled == batch.inputCapacity { try compressBatch(isFinal: false) }
            let count = min(bytes.count - offset, batch.inputCapacity - filled)
            UnsafeMutableRawBufferPointer(rebasing: batch.storage[(Self.dictionarySize + filled)...])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            filled += count
            offset += count
        }
        inputSize += Int64(bytes.count)
    }

    /// Compresses what is buffered, ends the deflate stream and writes the trailer. No writes are
    /// accepted afterwards. Does not close the sink.
    public func finish() throws {
        guard !isFinished else { return }
        try compressBatch(isFinal: true)
        try emit(gzipTrailer(crc: crc, length: inputSize))
        isFinished = true
    }

    private func compressBatch(isFinal: Bool) throws {
        if !headerWritten {
            try emit(deterministicGzipHeader(level: level))
            headerWritten = true
        }
        // The final batch always has at least one block, so an empty input still gets a final
        // (empty) deflate block.
        let blockCount = isFinal ? max(1, (filled + blockSize - 1) / blockSize) : filled / blockSize
        batch.prepare(blockCount: blockCount, filled: filled, carry: carry, lastBlockIsFinal: isFinal)
        if threads == 1 || blockCount == 1 {
            batch.runWorker(0)
        } else {
            let batch = self.batch
            DispatchQueue.concurrentPerform(iterations: min(threads, blockCount)) { worker in
                batch.runWorker(worker)
            }
        }
        if let failure = batch.failure { throw failure }
        for index in 0..<blockCount {
            let result = batch.result(index)
            try emit(result.output)
            crc = CRC32.combine(crc, result.crc, secondLength: Int64(result.length))
        }
        // Keep the last 32 KiB of input in front of the buffer: the next block's dictionary.
        let newCarry = min(Self.dictionarySize, carry + filled)
        let base = batch.storage.baseAddress!
        (base + Self.dictionarySize - newCarry).copyMemory(from: base + Self.dictionarySize + filled - newCarry, byteCount: newCarry)
        carry = newCarry
        filled = 0
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink.write(bytes)
        compressedBytesWritten += Int64(bytes.count)
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }
}

/// The buffers of one batch, shared with the worker threads.
///
/// `@unchecked Sendable` because the compiler cannot see the protocol that makes it safe:
/// the owning `ParallelGzipWriter` fills `storage` and calls `prepare` while no worker runs;
/// during `concurrentPerform` each worker uses only its own deflater (`deflaters[worker]`) and the
/// slots it claimed through the mutex-protected counter, and only reads `storage`, which nobody
/// writes meanwhile; after `concurrentPerform` returns (a full barrier) the owner reads the
/// slots. Slots live in manually allocated memory, not in a Swift array, so workers writing
/// different slots never touch shared copy-on-write state.
private final class BatchState: @unchecked Sendable {
    struct Block {
        var start = 0
        var length = 0
        var dictionaryLength = 0
        var isFinal = false
        var crc: UInt32 = 0
    }

    /// One block's description and its compressed bytes.
    struct Slot {
        var block = Block()
        var output: UnsafeMutableRawBufferPointer
        var outputCount = 0
    }

    let dictionarySize: Int
    let blockSize: Int
    let slotCount: Int
    let storage: UnsafeMutableRawBufferPointer
    private let deflaters: [RawDeflater]
    private let slots: UnsafeMutablePointer<Slot>
    private(set) var failure: (any Error)?
    private var nextBlock = 0
    private var activeBlockCount = 0
    private let lock: UnsafeMutablePointer<pthread_mutex_t>

    var inputCapacity: Int { slotCount * blockSize }

    init(dictionarySize: Int, blockSize: Int, blockCount: Int, deflaters: [RawDeflater], outputCapacity: Int) {
        self.dictionarySize = dictionarySize
        self.blockSize = blockSize
        self.slotCount = blockCount
        self.storage = .allocate(byteCount: dictionarySize + blockCount * blockSize, alignment: 64)
        self.deflaters = deflaters
        self.slots = .allocate(capacity: blockCount)
        for index in 0..<blockCount {
            (slots + index).initialize(to: Slot(output: .allocate(byteCount: outputCapacity, alignment: 16)))
        }
        self.lock = .allocate(capacity: 1)
        self.lock.initialize(to: pthread_mutex_t())
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deinitialize(count: 1)
        lock.deallocate()
        for index in 0..<slotCount { slots[index].output.deallocate() }
        slots.deinitialize(count: slotCount)
        slots.deallocate()
        storage.deallocate()
    }

    /// Lays out `blockCount` blocks over the `filled` buffered bytes; `carry` bytes of earlier
    /// input sit just before them.
    func prepare(blockCount: Int, filled: Int, carry: Int, lastBlockIsFinal: Bool) {
        for index in 0..<blockCount {
            let start = index * blockSize
            slots[index].block = Block(
                start: dictionarySize + start,
                length: min(blockSize, filled - start),
                dictionaryLength: min(dictionarySize, carry + start),
                isFinal: lastBlockIsFinal && index == blockCount - 1)
            slots[index].outputCount = 0
        }
        activeBlockCount = blockCount
        nextBlock = 0
        failure = nil
    }

    /// Block `index`'s compressed bytes, its uncompressed length and CRC-32 (after a run).
    func result(_ index: Int) -> (output: UnsafeRawBufferPointer, length: Int, crc: UInt32) {
        let slot = slots[index]
        return (UnsafeRawBufferPointer(rebasing: slot.output[0..<slot.outputCount]), slot.block.length, slot.block.crc)
    }

    /// Claims and compresses blocks until none is left (or a worker failed).
    func runWorker(_ worker: Int) {
        let deflater = deflaters[worker]
        while let index = claimBlock() {
            do {
                try compress(slots + index, with: deflater)
            } catch {
                pthread_mutex_lock(lock)
                if failure == nil { failure = error }
                pthread_mutex_unlock(lock)
            }
        }
    }

    private func claimBlock() -> Int? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        guard failure == nil, nextBlock < activeBlockCount else { return nil }
        nextBlock += 1
        return nextBlock - 1
    }

    private func compress(_ slot: UnsafeMutablePointer<Slot>, with deflater: RawDeflater) throws {
        let block = slot.pointee.block
        let input = UnsafeRawBufferPointer(rebasing: storage[block.start..<block.start + block.length])
        try deflater.reset()
        try deflater.setDictionary(UnsafeRawBufferPointer(rebasing: storage[(block.start - block.dictionaryLength)..<block.start]))
        slot.pointee.block.crc = CRC32(input).value
        let flush: RawDeflater.Flush = block.isFinal ? .finish : .sync
        var consumed = 0
        var produced = 0
        while true {
            if produced == slot.pointee.output.count {
                // deflateBound plus slack almost always suffices; grow rather than fail if not.
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: produced * 2, alignment: 16)
                larger.copyMemory(from: UnsafeRawBufferPointer(slot.pointee.output))
                slot.pointee.output.deallocate()
                slot.pointee.output = larger
            }
            let step = try deflater.deflate(
                from: UnsafeRawBufferPointer(rebasing: input[consumed...]),
                into: UnsafeMutableRawBufferPointer(rebasing: slot.pointee.output[produced...]),
                flush: flush)
            consumed += step.consumed
            produced += step.produced
            // A flush is complete once all input is taken and zlib left output space unused
            // (zlib's documented rule); a finish once it reports the stream end.
            let done = block.isFinal ? step.finished : (consumed == input.count && produced < slot.pointee.output.count)
            if done { break }
        }
        slot.pointee.outputCount = produced
    }
}
