#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

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
/// Pipeline: `threads` worker threads compress blocks while the calling thread keeps filling the
/// next ones and, in order, hands finished blocks to the sink (so the sink is only ever called
/// from the caller's thread, inside `write(_:)` and `finish()`). At most `threads * 4` blocks are
/// in flight (input, dictionary copy and output each), which bounds memory; when all are busy,
/// `write(_:)` waits for the oldest. With `threads == 1` no thread is started and blocks are
/// compressed inline. Worker threads end in `finish()` (or when the writer is released).
public final class ParallelGzipWriter: ByteSink {
    /// Where compressed bytes go.
    public let sink: any ByteSink
    /// The deflate level, 0 ... 9.
    public let level: Int
    /// The uncompressed size of each independently compressed block.
    public let blockSize: Int
    /// How many threads compress at once.
    public let threads: Int
    /// Compressed bytes handed to the sink so far.
    public private(set) var compressedBytesWritten: Int64 = 0
    /// Uncompressed bytes accepted so far.
    public private(set) var inputSize: Int64 = 0

    /// 32 KiB: the deflate window, hence the most history a block can use as its dictionary.
    static let dictionarySize = 32 * 1024

    private let pipeline: Pipeline
    /// The last bytes of input seen, up to 32 KiB: the next block's dictionary.
    private let history: UnsafeMutableRawBufferPointer
    private var historyCount = 0
    /// Sequence number of the block being filled, and how much of it is filled.
    private var fillingSequence = 0
    private var filled = 0
    /// Sequence number of the next block to hand to the sink.
    private var writtenSequence = 0
    private var crc: UInt32 = 0
    private var isFinished = false

    /// The number of processors online, the default for `threads`.
    public static var defaultThreadCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// An encoder writing one gzip member to `sink`. `blockSize` must be at least 1 KiB;
    /// `threads` at least 1.
    public init(sink: any ByteSink, level: Int = 6, blockSize: Int = ParallelGzipWriter.defaultBlockSize, threads: Int = ParallelGzipWriter.defaultThreadCount) throws {
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
        self.history = .allocate(byteCount: Self.dictionarySize, alignment: 16)
        self.pipeline = try Pipeline(level: level, blockSize: blockSize, threads: threads)
        try emit(deterministicGzipHeader(level: level))
    }

    deinit {
        pipeline.stop()
        history.deallocate()
    }

    /// Buffers `bytes`, handing full blocks to the workers and finished ones to the sink.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !isFinished else {
            throw ArchiveError(.invalidArgument, "write after ParallelGzipWriter.finish()")
        }
        var offset = 0
        while offset < bytes.count {
            // A full block is submitted only once more input exists, so it is known not to be
            // the stream's last.
            if filled == blockSize { try submitFilledBlock(isFinal: false) }
            let count = min(bytes.count - offset, blockSize - filled)
            pipeline.input(of: fillingSequence, at: filled, count: count)
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            filled += count
            offset += count
        }
        inputSize += Int64(bytes.count)
        try writeCompletedBlocks(waiting: false)
    }

    /// Compresses what is buffered as the final block, writes every block and the trailer, and
    /// stops the worker threads. No writes are accepted afterwards. Does not close the sink.
    public func finish() throws {
        guard !isFinished else { return }
        isFinished = true
        defer { pipeline.stop() }
        // An empty input still gets one (empty) final block.
        try submitFilledBlock(isFinal: true)
        try writeCompletedBlocks(waiting: true)
        try emit(gzipTrailer(crc: crc, length: inputSize))
    }

    /// Hands the block being filled to the workers and starts the next one, primed with the last
    /// 32 KiB of input as its dictionary.
    private func submitFilledBlock(isFinal: Bool) throws {
        let input = UnsafeRawBufferPointer(pipeline.input(of: fillingSequence, at: 0, count: filled))
        // Next block's history: the tail of (old history + this block).
        let keep = min(Self.dictionarySize, historyCount + filled)
        let fromBlock = min(keep, filled)
        let fromHistory = keep - fromBlock
        let base = history.baseAddress!
        if fromHistory > 0 {
            base.copyMemory(from: base + historyCount - fromHistory, byteCount: fromHistory)
        }
        (base + fromHistory).copyMemory(from: input.baseAddress! + filled - fromBlock, byteCount: fromBlock)
        historyCount = keep

        pipeline.submit(fillingSequence, length: filled, isFinal: isFinal)
        fillingSequence += 1
        filled = 0
        guard !isFinal else { return }
        // The next slot must be free: write out the oldest blocks until it is.
        while fillingSequence - writtenSequence >= pipeline.slotCount {
            try writeOldestBlock()
        }
        pipeline.prepare(fillingSequence, dictionary: UnsafeRawBufferPointer(rebasing: history[0..<historyCount]))
    }

    /// Writes finished blocks in order: all of them (waiting for each) or only those already done.
    private func writeCompletedBlocks(waiting: Bool) throws {
        while writtenSequence < fillingSequence {
            if !waiting, !pipeline.isDone(writtenSequence) { return }
            try writeOldestBlock()
        }
    }

    private func writeOldestBlock() throws {
        let result = try pipeline.waitForResult(of: writtenSequence)
        try emit(result.output)
        crc = CRC32.combine(crc, result.crc, secondLength: Int64(result.length))
        pipeline.release(writtenSequence)
        writtenSequence += 1
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try sink.write(bytes)
        compressedBytesWritten += Int64(bytes.count)
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }
}

/// The slots, the worker threads and the lock between them.
///
/// `@unchecked Sendable` because the compiler cannot see the protocol that makes it safe. Every
/// slot moves through states under `mutex`: free → filling (owner only: it copies input in) →
/// queued (`submit`) → compressing (one worker claimed it) → done (the worker published its
/// output) → free again (`release`, after the owner wrote the output). Only one side touches a
/// slot's buffers in each state, and each hand-over happens under the mutex, which orders the
/// memory accesses. Slots live in manually allocated memory, not in a Swift array, so threads
/// working on different slots never share copy-on-write storage. Each worker uses only its own
/// deflater.
private final class Pipeline: @unchecked Sendable {
    enum SlotState {
        case free, queued, compressing, done
    }

    struct Slot {
        /// `dictionarySize` bytes of room for the dictionary, then the block's input.
        var storage: UnsafeMutableRawBufferPointer
        var dictionaryLength = 0
        var length = 0
        var isFinal = false
        var output: UnsafeMutableRawBufferPointer
        var outputCount = 0
        var crc: UInt32 = 0
        var state = SlotState.free
        var failure: (any Error)?
    }

    let slotCount: Int
    private let blockSize: Int
    private let dictionarySize = ParallelGzipWriter.dictionarySize
    private let slots: UnsafeMutablePointer<Slot>
    private let deflaters: [RawDeflater]
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let workAvailable: UnsafeMutablePointer<pthread_cond_t>
    private let blockFinished: UnsafeMutablePointer<pthread_cond_t>
    /// Blocks submitted so far and blocks claimed by workers so far (sequence numbers).
    private var submittedCount = 0
    private var claimedCount = 0
    private var stopping = false
    private var workers: [pthread_t] = []

    init(level: Int, blockSize: Int, threads: Int) throws {
        self.blockSize = blockSize
        self.slotCount = threads * 4
        self.deflaters = try (0..<threads).map { _ in try RawDeflater(level: level) }
        let outputCapacity = deflaters[0].bound(blockSize) + 64
        slots = .allocate(capacity: slotCount)
        for index in 0..<slotCount {
            (slots + index).initialize(to: Slot(
                storage: .allocate(byteCount: ParallelGzipWriter.dictionarySize + blockSize, alignment: 64),
                output: .allocate(byteCount: outputCapacity, alignment: 64)))
        }
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        workAvailable = .allocate(capacity: 1)
        workAvailable.initialize(to: pthread_cond_t())
        pthread_cond_init(workAvailable, nil)
        blockFinished = .allocate(capacity: 1)
        blockFinished.initialize(to: pthread_cond_t())
        pthread_cond_init(blockFinished, nil)
        if threads > 1 {
            for index in 0..<threads { try startWorker(index) }
        }
    }

    deinit {
        stop()
        for index in 0..<slotCount {
            slots[index].storage.deallocate()
            slots[index].output.deallocate()
        }
        slots.deinitialize(count: slotCount)
        slots.deallocate()
        pthread_cond_destroy(workAvailable)
        pthread_cond_destroy(blockFinished)
        pthread_mutex_destroy(mutex)
        workAvailable.deallocate()
        blockFinished.deallocate()
        mutex.deallocate()
    }

    private func slot(_ sequence: Int) -> UnsafeMutablePointer<Slot> {
        slots + sequence % slotCount
    }

    // MARK: Owner side

    /// Where `count` bytes of input go at `offset` in block `sequence` (owner, while filling).
    func input(of sequence: Int, at offset: Int, count: Int) -> UnsafeMutableRawBufferPointer {
        let storage = slot(sequence).pointee.storage
        let start = dictionarySize + offset
        return UnsafeMutableRawBufferPointer(rebasing: storage[start..<start + count])
    }

    /// Copies the dictionary in front of block `sequence`'s input (owner, slot free).
    func prepare(_ sequence: Int, dictionary: UnsafeRawBufferPointer) {
        let target = slot(sequence)
        let start = dictionarySize - dictionary.count
        UnsafeMutableRawBufferPointer(rebasing: target.pointee.storage[start..<dictionarySize]).copyMemory(from: dictionary)
        target.pointee.dictionaryLength = dictionary.count
    }

    /// Queues block `sequence` for compression; with no worker threads, compresses it now.
    func submit(_ sequence: Int, length: Int, isFinal: Bool) {
        let target = slot(sequence)
        target.pointee.length = length
        target.pointee.isFinal = isFinal
        target.pointee.outputCount = 0
        target.pointee.failure = nil
        if workers.isEmpty {
            target.pointee.state = .compressing
            compress(target, with: deflaters[0])
            target.pointee.state = .done
            submittedCount += 1
            claimedCount += 1
            return
        }
        pthread_mutex_lock(mutex)
        target.pointee.state = .queued
        submittedCount += 1
        pthread_cond_signal(workAvailable)
        pthread_mutex_unlock(mutex)
    }

    func isDone(_ sequence: Int) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return slot(sequence).pointee.state == .done
    }

    /// Waits until block `sequence` is compressed; returns its output, length and CRC-32, or
    /// throws what the worker hit.
    func waitForResult(of sequence: Int) throws -> (output: UnsafeRawBufferPointer, length: Int, crc: UInt32) {
        let target = slot(sequence)
        pthread_mutex_lock(mutex)
        while target.pointee.state != .done {
            pthread_cond_wait(blockFinished, mutex)
        }
        pthread_mutex_unlock(mutex)
        if let failure = target.pointee.failure { throw failure }
        return (UnsafeRawBufferPointer(rebasing: target.pointee.output[0..<target.pointee.outputCount]),
                target.pointee.length, target.pointee.crc)
    }

    /// Returns block `sequence`'s slot to the pool after its output was written.
    func release(_ sequence: Int) {
        pthread_mutex_lock(mutex)
        slot(sequence).pointee.state = .free
        pthread_mutex_unlock(mutex)
    }

    /// Ends the worker threads (after they finish the block in hand) and waits for them.
    func stop() {
        guard !workers.isEmpty else { return }
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(workAvailable)
        pthread_mutex_unlock(mutex)
        for worker in workers { pthread_join(worker, nil) }
        workers = []
    }

    // MARK: Worker side

    private func startWorker(_ index: Int) throws {
        let context = Unmanaged.passRetained(WorkerContext(pipeline: self, index: index)).toOpaque()
        // pthread_t and the start routine's argument are optional on Glibc only.
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let status = pthread_create(&thread, nil, { raw in
            #if canImport(Darwin)
            let pointer = raw
            #else
            let pointer = raw!
            #endif
            let context = Unmanaged<WorkerContext>.fromOpaque(pointer).takeRetainedValue()
            context.pipeline.runWorker(context.index)
            return nil
        }, context)
        if status != 0 {
            Unmanaged<WorkerContext>.fromOpaque(context).release()
            stop()
            throw ArchiveError(.io, "cannot start a compression thread: \(String(cString: strerror(status)))")
        }
        #if canImport(Darwin)
        workers.append(thread!)
        #else
        workers.append(thread)
        #endif
    }

    private func runWorker(_ index: Int) {
        let deflater = deflaters[index]
        pthread_mutex_lock(mutex)
        while true {
            while !stopping && claimedCount == submittedCount {
                pthread_cond_wait(workAvailable, mutex)
            }
            if stopping { break }
            let target = slot(claimedCount)
            claimedCount += 1
            target.pointee.state = .compressing
            pthread_mutex_unlock(mutex)
            compress(target, with: deflater)
            pthread_mutex_lock(mutex)
            target.pointee.state = .done
            pthread_cond_broadcast(blockFinished)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Deflates one block into its slot (records a failure instead of throwing).
    private func compress(_ target: UnsafeMutablePointer<Slot>, with deflater: RawDeflater) {
        do {
            let storage = target.pointee.storage
            let input = UnsafeRawBufferPointer(rebasing: storage[dictionarySize..<dictionarySize + target.pointee.length])
            try deflater.reset()
            try deflater.setDictionary(UnsafeRawBufferPointer(rebasing: storage[(dictionarySize - target.pointee.dictionaryLength)..<dictionarySize]))
            target.pointee.crc = CRC32(input).value
            let isFinal = target.pointee.isFinal
            var consumed = 0
            var produced = 0
            while true {
                if produced == target.pointee.output.count {
                    // deflateBound plus slack almost always suffices; grow rather than fail.
                    let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: produced * 2, alignment: 64)
                    larger.copyMemory(from: UnsafeRawBufferPointer(target.pointee.output))
                    target.pointee.output.deallocate()
                    target.pointee.output = larger
                }
                let step = try deflater.deflate(
                    from: UnsafeRawBufferPointer(rebasing: input[consumed...]),
                    into: UnsafeMutableRawBufferPointer(rebasing: target.pointee.output[produced...]),
                    flush: isFinal ? .finish : .sync)
                consumed += step.consumed
                produced += step.produced
                // A flush is complete once all input is taken and zlib left output space unused
                // (zlib's documented rule); a finish once it reports the stream end.
                if isFinal ? step.finished : (consumed == input.count && produced < target.pointee.output.count) {
                    break
                }
            }
            target.pointee.outputCount = produced
        } catch {
            target.pointee.failure = error
        }
    }
}

/// What a worker thread needs; passed through pthread_create's context pointer.
private final class WorkerContext: @unchecked Sendable {
    let pipeline: Pipeline
    let index: Int

    init(pipeline: Pipeline, index: Int) {
        self.pipeline = pipeline
        self.index = index
    }
}

extension ParallelGzipWriter {
    /// The block size `init` uses unless told otherwise.
    public static let defaultBlockSize = 128 * 1024

    /// Names everything besides the input and the level that decides the output bytes: this
    /// encoder's framing (version 1: blocks primed with the previous 32 KiB, sync-flushed), the
    /// block size, and the zlib that deflates (another zlib release may choose other matches).
    /// Caches of compressed output key by it, so a change in any of them is a miss rather than a
    /// blob that no longer matches what this build would write.
    public static func outputFormat(blockSize: Int = defaultBlockSize) -> String {
        "pgzip1-b\(blockSize)-zlib\(zlibLibraryVersion)"
    }
}
