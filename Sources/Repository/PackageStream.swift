import Foundation

/// Packages being fetched and verified concurrently, handed out in request order: the first as
/// soon as it has verified, each next one as soon as it and every one before it have.
///
/// At most ``RepositoryOptions/maximumConcurrentFetches`` packages are in flight. A package that
/// finishes before the ones ahead of it waits in a buffer of ``FetchedPackage`` values (metadata
/// and paths; the bytes stay in the files), so the caller can install package *n* while later
/// ones are still downloading.
///
/// A failure is reported where it sits in request order: ``next()`` first returns every package
/// before the failing one, then throws its error. When several fail, the first in request order is
/// thrown whatever order they failed in; nothing new is started once one has failed, and what is
/// still in flight is cancelled as soon as the packages before the failure are done.
///
/// ``cancel()`` (or releasing the stream) stops the fetch: nothing new starts and the downloads
/// in flight are cancelled. A caller that gives up on the packages, for instance because
/// installing one of them failed, should do so.
///
/// ```swift
/// let stream = client.fetchStream(requests)
/// defer { stream.cancel() }
/// while let package = try await stream.next() {
///     try composer.install(...)   // while the packages after it download
/// }
/// ```
public final class PackageStream: Sendable {
    private let state: PackageStreamState
    private let producer: Task<Void, Never>

    init(requests: [PackageRequest], width: Int,
         fetch: @escaping @Sendable (PackageRequest) async throws(RepositoryError) -> FetchedPackage) {
        let state = PackageStreamState(count: requests.count)
        self.state = state
        producer = Task { await state.produce(requests, width: width, fetch: fetch) }
    }

    deinit {
        state.stop()
        producer.cancel()
    }

    /// How many packages the stream hands out in all.
    public var count: Int { state.count }

    /// The next package in request order, waiting until it and every one before it have
    /// verified; nil after the last. The stream has one consumer: calls must not overlap.
    ///
    /// Cancelling the calling task cancels the downloads in flight, as it would cancel those of
    /// ``RepositoryClient/fetch(_:options:progress:)``; what they then report (a package that
    /// still completes, or a network error) is what this returns.
    ///
    /// - Throws: the error of the first package in request order that failed (see
    ///   ``RepositoryClient/fetch(_:options:progress:)`` for the kinds), once every package
    ///   before it has been handed out; `.io` when the stream was cancelled with ``cancel()``.
    public func next() async throws(RepositoryError) -> FetchedPackage? {
        let producer = producer
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                state.deliver(to: continuation)
            }
        } onCancel: {
            producer.cancel()
        }
        return try outcome.get()
    }

    /// Stops the fetch: nothing new starts, the downloads in flight are cancelled, and ``next()``
    /// throws from now on. Calling it again, or after the last package, does nothing.
    public func cancel() {
        state.stop()
        producer.cancel()
    }
}

/// The shared state of a ``PackageStream``: the producer's results by position and the one
/// consumer waiting for the next position. Every field is guarded by `lock`.
final class PackageStreamState: @unchecked Sendable {
    let count: Int
    private let lock = NSLock()
    /// Packages that finished but are not handed out yet, by position.
    private var buffer: [Int: FetchedPackage] = [:]
    /// The position ``PackageStream/next()`` returns next.
    private var nextPosition = 0
    /// The first failure in request order so far.
    private var failure: (position: Int, error: RepositoryError)?
    /// Set by ``PackageStream/cancel()``: start nothing more, fail the consumer.
    private var stopped = false
    /// Set when the producer has nothing more to deliver (all done, failed, or stopped).
    private var producerEnded = false
    /// The consumer waiting for `nextPosition`.
    private var waiter: CheckedContinuation<Result<FetchedPackage?, RepositoryError>, Never>?

    init(count: Int) {
        self.count = count
    }

    /// One fetch's outcome at its position in the requests.
    struct Completion: Sendable {
        var position: Int
        var result: Result<FetchedPackage, RepositoryError>
    }

    /// Runs the fetches, `width` at a time in request order, storing each result as it comes.
    func produce(_ requests: [PackageRequest], width: Int,
                 fetch: @escaping @Sendable (PackageRequest) async throws(RepositoryError) -> FetchedPackage) async {
        await withTaskGroup(of: Completion.self) { group in
            var next = 0
            // Positions below `contiguous` have all finished (successfully or not).
            var contiguous = 0
            var finished = [Bool](repeating: false, count: requests.count)
            func startNext() {
                guard next < requests.count, !isStoppedOrFailed else { return }
                let position = next
                let request = requests[position]
                next += 1
                group.addTask {
                    do throws(RepositoryError) {
                        return Completion(position: position, result: .success(try await fetch(request)))
                    } catch {
                        return Completion(position: position, result: .failure(error))
                    }
                }
            }
            for _ in 0..<min(width, requests.count) { startNext() }
            while let completion = await group.next() {
                finished[completion.position] = true
                while contiguous < requests.count && finished[contiguous] { contiguous += 1 }
                store(completion.result, at: completion.position)
                // Once every package before the first failure is done, nothing after it matters.
                if let failed = firstFailurePosition, contiguous >= failed {
                    group.cancelAll()
                    break
                }
                startNext()
            }
        }
        lock.withLock { producerEnded = true }
        wakeWaiter()
    }

    private var isStoppedOrFailed: Bool {
        lock.withLock { stopped || failure != nil }
    }

    private var firstFailurePosition: Int? {
        lock.withLock { failure?.position }
    }

    private func store(_ result: Result<FetchedPackage, RepositoryError>, at position: Int) {
        lock.withLock {
            switch result {
            case .success(let package):
                // A package after a failure is never handed out.
                if failure.map({ position < $0.position }) ?? true { buffer[position] = package }
            case .failure(let error):
                if failure.map({ position < $0.position }) ?? true {
                    failure = (position, error)
                    buffer = buffer.filter { $0.key < position }
                }
            }
        }
        wakeWaiter()
    }

    /// Answers `continuation` now when the next package (or the end, or an error) is known,
    /// otherwise keeps it until the producer has it.
    func deliver(to continuation: CheckedContinuation<Result<FetchedPackage?, RepositoryError>, Never>) {
        let answer: Result<FetchedPackage?, RepositoryError>? = lock.withLock {
            precondition(waiter == nil, "PackageStream.next() called while another call is waiting")
            if let answer = takeAnswer() { return answer }
            waiter = continuation
            return nil
        }
        if let answer { continuation.resume(returning: answer) }
    }

    /// Marks the stream cancelled by its consumer and fails a waiting ``PackageStream/next()``.
    func stop() {
        lock.withLock { stopped = true }
        wakeWaiter()
    }

    /// Resumes the waiting consumer when its answer is known.
    private func wakeWaiter() {
        let resumption: (CheckedContinuation<Result<FetchedPackage?, RepositoryError>, Never>, Result<FetchedPackage?, RepositoryError>)? =
            lock.withLock {
                guard let waiter, let answer = takeAnswer() else { return nil }
                self.waiter = nil
                return (waiter, answer)
            }
        if let (waiter, answer) = resumption { waiter.resume(returning: answer) }
    }

    /// The answer for `nextPosition` when it is known. Call with `lock` held.
    private func takeAnswer() -> Result<FetchedPackage?, RepositoryError>? {
        if stopped {
            return .failure(RepositoryError(.io, "fetching packages was cancelled"))
        }
        if nextPosition == count { return .success(nil) }
        if let package = buffer.removeValue(forKey: nextPosition) {
            nextPosition += 1
            return .success(package)
        }
        if let failure, failure.position == nextPosition { return .failure(failure.error) }
        if producerEnded {
            // Only a producer whose task was cancelled ends without the next package or the
            // failure before it: the consumer's task was cancelled while no fetch could report it.
            return .failure(RepositoryError(.io, "fetching packages was cancelled"))
        }
        return nil
    }
}
