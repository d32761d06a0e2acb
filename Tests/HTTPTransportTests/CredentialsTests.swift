import Foundation
import Testing
@testable import HTTPTransport

/// URL userinfo and `HTTP_AUTH`: what is sent, what is shown.
@Suite struct CredentialsTests {
    struct URLCase: Sendable, CustomStringConvertible {
        let text: String
        let url: String
        let user: String?
        let password: String?
        let shown: String
        let host: String
        var description: String { text }
    }

    @Test(arguments: [
        URLCase(text: "https://example.com/repo", url: "https://example.com/repo", user: nil, password: nil,
                shown: "https://example.com/repo", host: "example.com"),
        URLCase(text: "https://u:p%3Aw@Example.COM:8443/a@b", url: "https://Example.COM:8443/a@b", user: "u", password: "p:w",
                shown: "https://u:xxxxx@Example.COM:8443/a@b", host: "example.com"),
        URLCase(text: "http://token@[::1]:8080/x", url: "http://[::1]:8080/x", user: "token", password: "",
                shown: "http://xxxxx@[::1]:8080/x", host: "[::1]"),
        URLCase(text: "./local/path", url: "./local/path", user: nil, password: nil, shown: "./local/path", host: ""),
    ])
    func userinfo(_ row: URLCase) {
        let split = CredentialedURL(row.text)
        #expect(split.url == row.url)
        #expect(split.credentials?.user == row.user)
        #expect(split.credentials?.password == row.password)
        #expect(split.description == row.shown)
        #expect(split.host == row.host)
    }

    @Test func basicHeader() {
        // RFC 7617's example.
        #expect(BasicCredentials(user: "Aladdin", password: "open sesame").authorizationHeader == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    }

    @Test func httpAuthVariable() throws {
        let auth = try HTTPAuthentication(parsing: "basic:Packages.Example.com:me:pa:ss")
        #expect(auth.host == "packages.example.com")
        #expect(auth.credentials == BasicCredentials(user: "me", password: "pa:ss"))
        for bad in ["bearer:host:u:p", "basic:host:u", "basic::u:p", "basic:host::p", ""] {
            #expect(throws: HTTPTransportError.self, "\(bad)") { try HTTPAuthentication(parsing: bad) }
        }
    }
}
