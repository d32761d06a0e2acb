/// RFC 3339 timestamps for `created` fields and annotations, computed from epoch seconds with
/// integer arithmetic (no formatter, no locale, no time zone database): the same build epoch gives
/// the same text on every machine.
public enum Timestamp {
    /// `YYYY-MM-DDThh:mm:ssZ` in UTC, the form Go's `time.RFC3339` prints for whole seconds
    /// (apko's `created`), e.g. 0 → `1970-01-01T00:00:00Z`. Years outside 0...9999 are refused.
    public static func rfc3339(epochSeconds: Int64) throws(OCIError) -> String {
        // Floor division so times before 1970 land on the right day.
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondsOfDay = epochSeconds - days * 86_400
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        guard (0...9999).contains(year) else {
            throw OCIError(.invalidArgument, "epoch \(epochSeconds) is outside the years 0...9999")
        }
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }

    /// Year, month, day of the proleptic Gregorian calendar for a day count since 1970-01-01
    /// (Howard Hinnant's days-to-civil algorithm: eras of 400 years starting on March 1st).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
