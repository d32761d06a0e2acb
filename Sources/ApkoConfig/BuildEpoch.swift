/// The time a build stamps into its metadata (config `created`, history, the
/// `org.opencontainers.image.created` annotation, SBOM `created`), resolved as apko does
/// (reference/apko.md §2.1): `SOURCE_DATE_EPOCH` wins over `--build-date`; without either it is 0.
///
/// The library never reads the environment: the command line passes `SOURCE_DATE_EPOCH` in.
public struct BuildEpoch: Sendable, Equatable {
    /// Where the time came from.
    public enum Source: Sendable, Equatable {
        /// `SOURCE_DATE_EPOCH`: used exactly, package build times are ignored.
        case sourceDateEpoch
        /// `--build-date`: a floor; newer package build times raise it.
        case buildDate
        /// Neither was given: Unix time 0, raised by package build times.
        case unset
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// Where ``seconds`` came from, which decides whether package build times may raise it.
    public var source: Source

    /// An epoch of `seconds` taken from `source`.
    public init(seconds: Int64, source: Source) {
        self.seconds = seconds
        self.source = source
    }

    /// Resolves the epoch from `--build-date` (RFC 3339) and the `SOURCE_DATE_EPOCH` value (decimal
    /// seconds). An empty `SOURCE_DATE_EPOCH` counts as unset; a malformed one is an error even when
    /// `--build-date` is given, because a reproducible build must not silently use another time.
    public static func resolve(buildDate: String?, sourceDateEpoch: String?) throws -> BuildEpoch {
        if let sourceDateEpoch, !sourceDateEpoch.isEmpty {
            guard sourceDateEpoch.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Int64(sourceDateEpoch) else {
                throw ConfigError(.override, "SOURCE_DATE_EPOCH is \(quoted(sourceDateEpoch)); it must be a whole number of seconds since 1970 (like `date +%s` prints)")
            }
            return BuildEpoch(seconds: seconds, source: .sourceDateEpoch)
        }
        if let buildDate, !buildDate.isEmpty {
            guard let seconds = RFC3339.parse(buildDate) else {
                throw ConfigError(.override, "--build-date \(quoted(buildDate)) is not an RFC 3339 time like 2024-05-01T12:00:00Z")
            }
            guard seconds >= 0 else {
                throw ConfigError(.override, "--build-date \(quoted(buildDate)) is before 1970, which tar and OCI cannot record")
            }
            return BuildEpoch(seconds: seconds, source: .buildDate)
        }
        return BuildEpoch(seconds: 0, source: .unset)
    }

    /// The image's `created` time: exactly `SOURCE_DATE_EPOCH` when it was set, otherwise the later
    /// of this epoch and the newest build time (`t:`) among the installed packages.
    public func imageCreated(newestPackageBuildTime: Int64?) -> Int64 {
        guard source != .sourceDateEpoch, let newest = newestPackageBuildTime else { return seconds }
        return max(seconds, newest)
    }

    /// This time as RFC 3339 in UTC, `1970-01-01T00:00:00Z`.
    public var rfc3339: String { RFC3339.format(seconds) }
}

/// RFC 3339 timestamps without Foundation's locale-dependent formatters.
public enum RFC3339 {
    /// Seconds since the epoch for `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; a fraction is
    /// truncated. nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[start..<start + length] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes[4] == UInt8(ascii: "-"), let month = number(5, 2),
              bytes[7] == UInt8(ascii: "-"), let day = number(8, 2),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = number(11, 2), bytes[13] == UInt8(ascii: ":"), let minute = number(14, 2),
              bytes[16] == UInt8(ascii: ":"), let second = number(17, 2) else { return nil }
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 { index += 1 }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, let hours = number(index + 1, 2), bytes[index + 3] == UInt8(ascii: ":"),
                  let minutes = number(index + 4, 2), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offset)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    public static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilFromDays(Int(days))
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
