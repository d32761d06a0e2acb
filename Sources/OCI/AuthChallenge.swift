/// One challenge from a `WWW-Authenticate` header (RFC 7235): a scheme and its parameters, e.g.
/// `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`.
public struct AuthChallenge: Sendable, Hashable {
    /// The scheme, lowercased (`basic`, `bearer`).
    public var scheme: String
    /// Parameters by lowercased name, values unquoted.
    public var parameters: [String: String]

    /// A challenge.
    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    /// Every challenge in a header value. Quoted values may hold commas (scopes do) and
    /// backslash escapes; unquoted values run to the next comma. A header that does not parse
    /// yields the challenges before the damage.
    public static func parse(_ header: String) -> [AuthChallenge] {
        let characters = Array(header)
        var index = 0
        var challenges: [AuthChallenge] = []

        func skipSpaces() {
            while index < characters.count, characters[index] == " " || characters[index] == "\t" { index += 1 }
        }
        func token() -> String {
            let start = index
            while index < characters.count, !" \t,=\"".contains(characters[index]) { index += 1 }
            return String(characters[start..<index])
        }

        while index < characters.count {
            skipSpaces()
            while index < characters.count, characters[index] == "," { index += 1; skipSpaces() }
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var parameters: [String: String] = [:]
            // Parameters follow until a token that is not followed by `=` starts the next challenge.
            while true {
                skipSpaces()
                let mark = index
                let name = token()
                skipSpaces()
                guard !name.isEmpty, index < characters.count, characters[index] == "=" else {
                    index = mark
                    break
                }
                index += 1
                skipSpaces()
                var value = ""
                if index < characters.count, characters[index] == "\"" {
                    index += 1
                    while index < characters.count, characters[index] != "\"" {
                        if characters[index] == "\\", index + 1 < characters.count { index += 1 }
                        value.append(characters[index])
                        index += 1
                    }
                    index += 1
                } else {
                    let start = index
                    while index < characters.count, characters[index] != "," { index += 1 }
                    value = String(characters[start..<index]).trimmingSpaces()
                }
                parameters[name.lowercased()] = value
                skipSpaces()
                if index < characters.count, characters[index] == "," { index += 1 } else { break }
            }
            challenges.append(AuthChallenge(scheme: scheme, parameters: parameters))
        }
        return challenges
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
