import APK
import Foundation
import Testing
import TestSupport
@testable import Repository

/// What the fake fetches of a ``PackageStream`` did: which positions started, how many ran at
/// once, which saw their task cancelled, and gates the test opens to let a fetch finish.
final class FetchScript: @unchecked Sendable {
    private let lock = NSLock()
    private var startedPositions: [Int] = []
    private var running = 0
    private var mostRunning = 0
    private var cancelledPositions: Set<Int> = []
    private var openGates: Set<Int> = []
    private var held: Set<Int>
    private var failing: [Int: RepositoryError]
    private var completedPositions: Set<Int> = []
    private var failedPositions: Set<Int> = []
    private let template: FetchedPackage

    /// Fetches that finish at once, except `held` positions (until their gate opens) and
    /// `failing` ones (which throw their error, after their gate when also held).
    init(template: FetchedPackage, held: Set<Int> = [], failing: [Int: RepositoryError] = [:]) {
        self.template = template
        self.held = held
        self.failing = failing
    }

    var started: [Int] { lock.withLock { startedPositions } }
    var most: Int { lock.withLock { mostRunning } }
    var cancelled: Set<Int> { lock.withLock { cancelledPositions } }
    var completed: Set<Int> { lock.withLock { completedPositions } }
    var failed: Set<Int> { lock.withLock { failedPositions } }

    func open(_ position: Int) { lock.withLock { _ = openGates.insert(position) } }

    static func request(_ position: Int) -> PackageRequest {
        PackageRequest(name: "p\(position)", version: "1.0-r0", architecture: "x86_64", url: "/nowhere/p\(position)-1.0-r0.apk",
                       checksum: "Q1", repository: "test")
    }

    static func requests(_ count: Int) -> [PackageRequest] { (0..<count).map(request) }

    static func position(_ request: PackageRequest) -> Int { Int(request.name.dropFirst())! }

    /// The fetch a stream runs for `request`.
    func fetch(_ request: PackageRequest) async throws(RepositoryError) -> FetchedPackage {
        let position = Self.position(request)
        let mustWait = lock.withLock { () -> Bool in
            startedPositions.append(position)
            running += 1
            mostRunning = max(mostRunning, running)
            return held.contains(position)
        }
        defer { lock.withLock { running -= 1 } }
        // A short pause, longer for earlier positions, so later ones tend to finish first.
        try? await Task.sleep(for: .milliseconds(2 * (12 - min(position, 12))))
        if mustWait {
            // Polls the gate; gives up after 20 s so a test that never opens it fails instead of hanging.
            let deadline = ContinuousClock.now + .seconds(20)
            while !lock.withLock({ openGates.contains(position) }) {
                if Task.isCancelled {
                    lock.withLock { _ = cancelledPositions.insert(position) }
                    throw RepositoryError(.network, "p\(position) was cancelled")
                }
                if ContinuousClock.now > deadline { throw RepositoryError(.network, "p\(position) was never released") }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        if let error = lock.withLock({ failing[position] }) {
            lock.withLock { _ = failedPositions.insert(position) }
            throw error
        }
        lock.withLock { _ = completedPositions.insert(position) }
        var package = template
        package.request = request
        return package
    }

    /// Waits (up to 20 s) until `condition` holds.
    func wait(until condition: (FetchScript) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while !condition(self) {
            guard ContinuousClock.now < deadline else { throw RepositoryError(.io, "the fetches never got there") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The ordered streaming fetch: request order out of concurrent fetches, a buffer for early
/// arrivals, the first failure in request order, cancellation.
@Suite(.timeLimit(.minutes(1))) struct PackageStreamTests {
    /// A real verified package whose metadata the fake fetches hand out under other names.
    static func template() async throws -> FetchedPackage {
        let scratch = try ScratchDirectory()
        let client = Scratch.client(scratch)
        let index = try await FetchTests.testRepo(scratch, client: client)
        return try await client.fetch(Scratch.requests(for: index)[0], options: .verifyOnly)
    }

    static func stream(_ script: FetchScript, count: Int, width: Int) -> PackageStream {
        PackageStream(requests: FetchScript.requests(count), width: width) { request throws(RepositoryError) in
            try await script.fetch(request)
        }
    }

    static func drain(_ stream: PackageStream) async throws -> [Int] {
        var positions: [Int] = []
        while let package = try await stream.next() { positions.append(FetchScript.position(package.request)) }
        return positions
    }

    /// Whatever order the fetches finish in, the packages come out in request order, and no more
    /// than `width` are ever fetched at once.
    @Test(arguments: [1, 3, 8])
    func requestOrderWithBoundedConcurrency(_ width: Int) async throws {
        let script = FetchScript(template: try await Self.template())
        let stream = Self.stream(script, count: 20, width: width)
        #expect(try await Self.drain(stream) == Array(0..<20))
        #expect(script.most <= width)
        #expect(script.started.sorted() == Array(0..<20))
        #expect(try await stream.next() == nil)
    }

    /// The first packages are handed out while the last one is still being fetched: the last
    /// fetch is held until the test has received every other package.
    @Test func earlyPackagesDoNotWaitForTheLast() async throws {
        let script = FetchScript(template: try await Self.template(), held: [5])
        let stream = Self.stream(script, count: 6, width: 6)
        var received: [Int] = []
        for _ in 0..<5 {
            received.append(FetchScript.position(try #require(try await stream.next()).request))
        }
        #expect(received == [0, 1, 2, 3, 4])
        #expect(!script.completed.contains(5))
        script.open(5)
        #expect(try await stream.next().map { FetchScript.position($0.request) } == 5)
        #expect(try await stream.next() == nil)
    }

    /// Packages that finish before an earlier one wait in the buffer: with the first held, all
    /// the others complete, and still nothing is handed out until the first is.
    @Test func laterArrivalsWaitForEarlierOnes() async throws {
        let script = FetchScript(template: try await Self.template(), held: [0])
        let stream = Self.stream(script, count: 8, width: 8)
        try await script.wait { $0.completed == Set(1..<8) }
        let first = Task { try await stream.next().map { FetchScript.position($0.request) } }
        try await Task.sleep(for: .milliseconds(100))
        #expect(script.completed == Set(1..<8))
        script.open(0)
        #expect(try await first.value == 0)
        #expect(try await Self.drain(stream) == Array(1..<8))
    }

    /// Two packages fail, the later one first: the earlier one's error is thrown, and only after
    /// every package before it was handed out.
    @Test func firstFailureInRequestOrderIsReported() async throws {
        let early = RepositoryError(.notFound, "p2 is missing")
        let late = RepositoryError(.verificationFailed, "p5 is damaged")
        let script = FetchScript(template: try await Self.template(), held: [2], failing: [2: early, 5: late])
        let stream = Self.stream(script, count: 8, width: 8)
        try await script.wait { $0.failed == [5] }
        script.open(2)
        #expect(FetchScript.position(try #require(try await stream.next()).request) == 0)
        #expect(FetchScript.position(try #require(try await stream.next()).request) == 1)
        await #expect(throws: early) { _ = try await stream.next() }
        await #expect(throws: early) { _ = try await stream.next() }
        // The array fetch on top of the stream reports the same one.
        let again = FetchScript(template: try await Self.template(), held: [2], failing: [2: early, 5: late])
        again.open(2)
        await #expect(throws: early) { _ = try await Self.drain(Self.stream(again, count: 8, width: 8)) }
    }

    /// Once a package has failed nothing new starts: with two at a time, the second failing while
    /// the first is held, finishing the first starts no third.
    @Test func nothingStartsAfterAFailure() async throws {
        let failure = RepositoryError(.notFound, "p1 is missing")
        let script = FetchScript(template: try await Self.template(), held: [0], failing: [1: failure])
        let stream = Self.stream(script, count: 30, width: 2)
        try await script.wait { $0.failed == [1] }
        script.open(0)
        #expect(FetchScript.position(try #require(try await stream.next()).request) == 0)
        await #expect(throws: failure) { _ = try await stream.next() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(script.started.sorted() == [0, 1])
    }

    /// `cancel()` cancels the fetches in flight, starts no more, and fails the consumer.
    @Test func cancelStopsTheFetches() async throws {
        let script = FetchScript(template: try await Self.template(), held: Set(0..<10))
        let stream = Self.stream(script, count: 10, width: 3)
        try await script.wait { $0.started.count == 3 }
        let waiting = Task { try await stream.next() }
        try await Task.sleep(for: .milliseconds(50))
        stream.cancel()
        await #expect(throws: RepositoryError.self) { _ = try await waiting.value }
        try await script.wait { $0.cancelled == [0, 1, 2] }
        try await Task.sleep(for: .milliseconds(100))
        #expect(script.started.sorted() == [0, 1, 2])
    }

    /// A stream nobody holds any more stops fetching too.
    @Test func releasingTheStreamCancelsIt() async throws {
        let script = FetchScript(template: try await Self.template(), held: Set(0..<10))
        do {
            let stream = Self.stream(script, count: 10, width: 4)
            try await script.wait { $0.started.count == 4 }
            _ = stream.count
        }
        try await script.wait { $0.cancelled == [0, 1, 2, 3] }
        #expect(script.started.count == 4)
    }

    /// Cancelling the task that waits in `next()` cancels the fetches in flight, as cancelling
    /// a task in the array fetch does.
    @Test func cancellingTheConsumerCancelsTheFetches() async throws {
        let script = FetchScript(template: try await Self.template(), held: Set(0..<5))
        let stream = Self.stream(script, count: 5, width: 5)
        let consumer = Task { try await Self.drain(stream) }
        try await script.wait { $0.started.count == 5 }
        consumer.cancel()
        await #expect(throws: RepositoryError.self) { _ = try await consumer.value }
        try await script.wait { $0.cancelled == Set(0..<5) }
    }

    /// No requests: the stream ends at once.
    @Test func emptyStreamEnds() async throws {
        let script = FetchScript(template: try await Self.template())
        #expect(try await Self.stream(script, count: 0, width: 3).next() == nil)
    }
}
