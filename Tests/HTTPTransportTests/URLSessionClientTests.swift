import Foundation
import Testing
import TestSupport
import HTTPTransport

/// The URLSession client against the loopback fault server: statuses, ETags, caps, bodies cut
/// short or too long, retries.
@Suite struct URLSessionClientTests {
    static let file = "apko-testrepo/x86_64/replayout-1.0.0-r0.apk"
    static let quick = RetryPolicy(attempts: 3, initialDelay: .milliseconds(10))

    static func server(_ scratch: ScratchDirectory) throws -> LoopbackServer {
        try LoopbackServer(serving: Fixtures.root, in: scratch)
    }

    static func get(_ url: String, headers: [String: String] = [:]) -> HTTPRequest {
        HTTPRequest(method: "GET", url: URL(string: url)!, headers: headers)
    }

    @Test func sendsAndRevalidates() async throws {
        let scratch = try ScratchDirectory()
        let server = try Self.server(scratch)
        let client = URLSessionHTTPClient()
        let content = [UInt8](try Fixtures.data(Self.file))
        let first = try await client.send(Self.get(server.url("ok", Self.file)), maximumResponseSize: 1 << 20)
        #expect(first.status == 200 && first.body == content)
        let etag = try #require(first.header("ETag"))
        let second = try await client.send(Self.get(server.url("ok", Self.file), headers: ["If-None-Match": etag]),
                                           maximumResponseSize: 1 << 20)
        #expect(second.status == 304 && second.body.isEmpty)
        let missing = try await client.send(Self.get(server.url("ok", "nothing-here")), maximumResponseSize: 1 << 20)
        #expect(missing.status == 404)
        await #expect {
            _ = try await client.send(Self.get(server.url("ok", Self.file)), maximumResponseSize: 100)
        } throws: { ($0 as! HTTPTransportError).kind == .tooLarge }
        #expect(try server.requests().map(\.status) == [200, 304, 404, 200])
    }

    @Test func downloadsToAFile() async throws {
        let scratch = try ScratchDirectory()
        let server = try Self.server(scratch)
        let client = URLSessionHTTPClient()
        let path = scratch.path("out.apk")
        let response = try await client.download(Self.get(server.url("ok", Self.file)), to: path, maximumSize: 1 << 20)
        #expect(response.status == 200 && response.body.isEmpty)
        #expect(try scratch.read("out.apk") == [UInt8](try Fixtures.data(Self.file)))
        // An error answer keeps its body in memory and leaves no file.
        let missing = try await client.download(Self.get(server.url("notfound", Self.file)), to: scratch.path("none"), maximumSize: 1 << 20)
        #expect(missing.status == 404 && missing.body == Array("not found\n".utf8))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("none")))
        // The cap is checked against Content-Length before anything is written.
        await #expect {
            _ = try await client.download(Self.get(server.url("ok", Self.file)), to: scratch.path("capped"), maximumSize: 1000)
        } throws: { ($0 as! HTTPTransportError).kind == .tooLarge }
    }

    struct CutCase: Sendable, CustomStringConvertible {
        let mode: String
        var description: String { mode }
    }

    /// A body cut off half way, or shorter than its Content-Length: a transport error, retried
    /// into a good download when the fault happens once.
    @Test(arguments: [CutCase(mode: "cutonce"), CutCase(mode: "shortonce")])
    func truncatedBodiesAreTransportErrorsAndRetried(_ row: CutCase) async throws {
        let scratch = try ScratchDirectory()
        let server = try Self.server(scratch)
        let client = URLSessionHTTPClient()
        let request = Self.get(server.url(row.mode, Self.file))
        await #expect {
            _ = try await client.download(request, to: scratch.path("first"), maximumSize: 1 << 20)
        } throws: { ($0 as! HTTPTransportError).kind == .transport }
        let retried = try await Self.quick.run { _ in
            try await client.download(request, to: scratch.path("second"), maximumSize: 1 << 20)
        }
        #expect(retried.status == 200)
        #expect(try scratch.read("second") == [UInt8](try Fixtures.data(Self.file)))
    }

    @Test func persistentFaultsExhaustTheRetries() async throws {
        let scratch = try ScratchDirectory()
        let server = try Self.server(scratch)
        let client = URLSessionHTTPClient()
        await #expect {
            _ = try await Self.quick.run { _ in
                try await client.download(Self.get(server.url("cut", Self.file)), to: scratch.path("x"), maximumSize: 1 << 20)
            }
        } throws: { ($0 as! HTTPTransportError).kind == .transport }
        let last = try await Self.quick.run { _ in try await client.send(Self.get(server.url("fail500", Self.file)), maximumResponseSize: 1 << 20) }
        #expect(last.status == 500)
        let recovered = try await Self.quick.run { _ in
            try await client.send(Self.get(server.url("fail500once", Self.file)), maximumResponseSize: 1 << 20)
        }
        #expect(recovered.status == 200)
        #expect(try server.requests().map(\.status) == [200, 200, 200, 500, 500, 500, 500, 200])
    }

    /// Extra bytes after the declared length are not part of the body: the download holds
    /// exactly the Content-Length bytes, or the client says the body was too long.
    @Test func bodyLongerThanItsLength() async throws {
        let scratch = try ScratchDirectory()
        let server = try Self.server(scratch)
        let client = URLSessionHTTPClient()
        do {
            _ = try await client.download(Self.get(server.url("longonce", Self.file)), to: scratch.path("x"), maximumSize: 1 << 20)
            #expect(try scratch.read("x") == [UInt8](try Fixtures.data(Self.file)))
        } catch let error as HTTPTransportError {
            #expect(error.kind == .tooLarge || error.kind == .transport)
        }
    }

    @Test func basicAuthentication() async throws {
        let scratch = try ScratchDirectory()
        let server = try Self.server(scratch)
        let client = URLSessionHTTPClient()
        let url = server.url("auth-me-pa:ss", Self.file)
        #expect(try await client.send(Self.get(url), maximumResponseSize: 1 << 20).status == 401)
        let header = BasicCredentials(user: "me", password: "pa:ss").authorizationHeader
        #expect(try await client.send(Self.get(url, headers: ["Authorization": header]), maximumResponseSize: 1 << 20).status == 200)
    }

    @Test func retryDelaysDouble() {
        let policy = RetryPolicy(attempts: 5, initialDelay: .milliseconds(500), maximumDelay: .seconds(3))
        #expect((1...5).map { policy.delay(after: $0) } == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3)])
    }
}
