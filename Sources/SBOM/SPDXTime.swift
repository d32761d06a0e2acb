/// SPDX `created` timestamps.
public enum SPDXTime {
    /// `seconds` since the Unix epoch as `YYYY-MM-DDThh:mm:ssZ`, the only form spdx-tools
    /// accepts (no fraction, no offset). Computed from the calendar arithmetic directly, so no
    /// time zone or locale can change it. Years past 9999 have no four-digit form and are refused.
    public static func format(epochSeconds seconds: Int64) throws(SBOMError) -> String {
        // 253402300799 is 9999-12-31T23:59:59Z.
        guard seconds >= 0, seconds <= 253_402_300_799 else {
            throw SBOMError(.invalidInput, "timestamp \(seconds) is outside 1970-01-01..9999-12-31")
        }
        let days = seconds / 86_400
        let secondOfDay = seconds % 86_400
        // Days to civil date (proleptic Gregorian), after Howard Hinnant's days_from_civil inverse.
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
