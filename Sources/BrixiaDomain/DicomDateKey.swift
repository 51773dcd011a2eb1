import Foundation

/// Normalises DICOM DA/TM/DT values into a text key that sorts chronologically:
/// "YYYYMMDD" when only the date is known, "YYYYMMDDHHMMSS.ffffff" when the time is known too.
/// Time-zone offsets in DT are ignored (all exams of a patient come from the same site clock).
public enum DicomDateKey {
    /// Key from StudyDate (DA) and StudyTime (TM); nil when the date is missing or malformed.
    public static func key(date: String?, time: String?) -> String? {
        guard let day = normalisedDate(date) else { return nil }
        guard let clock = normalisedTime(time) else { return day }
        return day + clock
    }

    /// Key from a DT value (e.g. AcquisitionDateTime "20200305143000.123+0100").
    public static func key(dateTime: String?) -> String? {
        guard var value = dateTime?.trimmingSpaces, value.count >= 8 else { return nil }
        let datePart = String(value.prefix(8))
        value = String(value.dropFirst(8))
        if let offset = value.firstIndex(where: { $0 == "+" || $0 == "-" }) { value = String(value[..<offset]) }
        return key(date: datePart, time: value.isEmpty ? nil : value)
    }

    /// Key for a user-supplied day ("YYYY-MM-DD" or "YYYYMMDD"), for `--since`.
    public static func key(day: String) -> String? {
        normalisedDate(day.replacingDashes)
    }

    /// ISO 8601 form of a key: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS".
    public static func display(_ key: String?) -> String? {
        guard let key, key.count >= 8 else { return nil }
        let c = Array(key)
        var text = "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))"
        if c.count >= 14 { text += "T\(String(c[8..<10])):\(String(c[10..<12])):\(String(c[12..<14]))" }
        return text
    }

    package static func normalisedDate(_ raw: String?) -> String? {
        // Accept the ACR-NEMA "YYYY.MM.DD" form still seen in old files.
        guard let value = raw?.trimmingSpaces.replacingOccurrences(of: ".", with: ""),
              value.count == 8, value.allSatisfy(\.isASCIIDigit) else { return nil }
        let month = Int(value.dropFirst(4).prefix(2))!, day = Int(value.suffix(2))!
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        return value
    }

    package static func normalisedTime(_ raw: String?) -> String? {
        // Accept the ACR-NEMA "HH:MM:SS" form; TM may be truncated to HH or HHMM.
        guard let value = raw?.trimmingSpaces.replacingOccurrences(of: ":", with: ""), !value.isEmpty else { return nil }
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        guard [2, 4, 6].contains(whole.count), whole.allSatisfy(\.isASCIIDigit),
              fraction.count <= 6, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        let padded = whole + String(repeating: "0", count: 6 - whole.count)
        let hour = Int(padded.prefix(2))!, minute = Int(padded.dropFirst(2).prefix(2))!, second = Int(padded.suffix(2))!
        guard hour < 24, minute < 60, second < 61 else { return nil }
        return padded + "." + fraction + String(repeating: "0", count: 6 - fraction.count)
    }
}

extension String {
    /// Without DICOM padding (spaces, NULs) at either end.
    package var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\0" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\0" { s = s.dropLast() }
        return String(s)
    }
    package var replacingDashes: String { replacingOccurrences(of: "-", with: "") }
}

extension Character {
    package var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
