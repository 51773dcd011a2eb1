/// The rules that a value copied from a source image into Brixia's DICOM outputs must meet (PS3.5 6.2 value
/// representations, 9.1 UID encoding), kept in one place: the pipeline checks a source instance at intake with
/// `problem(of:fileName:)`, so an instance the report writers would refuse is quarantined before it is scored,
/// and the report writers validate their inputs with the same functions.
public enum OutputReadiness {
    /// The value representations of the copied values.
    public enum VR: String, Sendable {
        case UI, PN, LO, SH, CS, DA, TM
        /// Age string nnnD/W/M/Y.
        case AS
        /// Unlimited text (control characters refused, like every VR here).
        case UT
        /// TimezoneOffsetFromUTC: SH of the form &ZZXX ("+0100", "-0530").
        case timezoneOffset
    }

    /// Longest accepted input file name in UTF-8 bytes: outputs and quarantine files add suffixes such as
    /// ".reason.txt" to it, and most file systems stop at 255 bytes.
    public static let maxFileNameBytes = 200

    /// nil when `value` is a valid (non-empty) UID: dot-separated components of digits, no leading zero in a
    /// multi-digit component, at most 64 characters. Otherwise the reason, e.g. "component 2 is empty".
    public static func uidProblem(_ uid: String) -> String? {
        if uid.isEmpty { return "empty" }
        if uid.utf8.count > 64 { return "\(uid.utf8.count) characters, more than 64" }
        for (i, part) in uid.split(separator: ".", omittingEmptySubsequences: false).enumerated() {
            if part.isEmpty { return "component \(i + 1) is empty" }
            if let c = part.unicodeScalars.first(where: { !("0"..."9").contains($0) }) {
                return "component \(i + 1) has the non-digit \(quote(String(c)))"
            }
            if part.utf8.count > 1 && part.first == "0" { return "component \(i + 1) has a leading zero" }
        }
        return nil
    }

    public static func isValidUID(_ uid: String) -> Bool { uidProblem(uid) == nil }

    /// nil when `value` is valid for `vr`; the empty value is valid for every VR but UI (callers decide which
    /// attributes are required). Lengths are counted in characters, as PS3.5 6.2 does for these VRs.
    public static func problem(_ value: String, vr: VR) -> String? {
        if vr == .UI { return uidProblem(value).map { "not a valid UID (\($0))" } }
        if value.isEmpty { return nil }
        if let c = value.unicodeScalars.first(where: isControl) {
            return "contains the control character \(escape(c))"
        }
        let count = value.count
        switch vr {
        case .UI:
            return nil
        case .LO, .SH:
            let max = vr == .LO ? 64 : 16
            if value.contains("\\") { return "contains a backslash (the value separator)" }
            return count > max ? "\(count) characters, more than \(max) (\(vr.rawValue))" : nil
        case .PN:
            if value.contains("\\") { return "contains a backslash (the value separator)" }
            let groups = value.split(separator: "=", omittingEmptySubsequences: false)
            if groups.count > 3 { return "\(groups.count) component groups, more than 3 (PN)" }
            for g in groups {
                if g.count > 64 { return "a component group of \(g.count) characters, more than 64 (PN)" }
                let parts = g.split(separator: "^", omittingEmptySubsequences: false).count
                if parts > 5 { return "\(parts) name components, more than 5 (PN)" }
            }
            return nil
        case .CS:
            if value.utf8.count > 16 { return "\(value.utf8.count) characters, more than 16 (CS)" }
            if let c = value.unicodeScalars.first(where: { !(("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == " " || $0 == "_") }) {
                return "has \(quote(String(c))), not an upper-case letter, digit, space or underscore (CS)"
            }
            return nil
        case .DA:
            return isDate(value) ? nil : "not a date YYYYMMDD (DA)"
        case .TM:
            return isTime(value) ? nil : "not a time HH[MM[SS[.FFFFFF]]] (TM)"
        case .AS:
            let u = Array(value.utf8)
            let ok = u.count == 4 && u[0..<3].allSatisfy { (48...57).contains($0) } && "DWMY".utf8.contains(u[3])
            return ok ? nil : "not an age nnnD, nnnW, nnnM or nnnY (AS)"
        case .UT:
            return nil
        case .timezoneOffset:
            let u = Array(value.utf8)
            let ok = u.count == 5 && (u[0] == 43 || u[0] == 45) && u[1...].allSatisfy { (48...57).contains($0) }
            return ok ? nil : "not a time zone offset +HHMM or -HHMM"
        }
    }

    /// YYYYMMDD of a real calendar day.
    public static func isDate(_ s: String) -> Bool {
        let d = Array(s.utf8)
        guard d.count == 8, d.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        func n(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(d[$1] - 0x30) } }
        let y = n(0..<4), m = n(4..<6), day = n(6..<8)
        guard (1...12).contains(m), day >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return day <= days
    }

    /// HH, HHMM, HHMMSS, HHMMSS.F to HHMMSS.FFFFFF (leap second 60 allowed).
    public static func isTime(_ s: String) -> Bool {
        let t = Array(s.utf8)
        let digit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        let whole = t.firstIndex(of: 0x2E) ?? t.count
        guard [2, 4, 6].contains(whole), t[0..<whole].allSatisfy(digit) else { return false }
        if whole < t.count {
            let frac = t[(whole + 1)...]
            guard whole == 6, (1...6).contains(frac.count), frac.allSatisfy(digit) else { return false }
        }
        func n(_ i: Int) -> Int { Int(t[i] - 0x30) * 10 + Int(t[i + 1] - 0x30) }
        return n(0) <= 23 && (whole < 4 || n(2) <= 59) && (whole < 6 || n(4) <= 60)
    }

    /// nil when an input file name can be carried through to the outputs and the quarantine.
    public static func fileNameProblem(_ name: String) -> String? {
        if name.utf8.count > maxFileNameBytes {
            return "file name is \(name.utf8.count) bytes long, more than \(maxFileNameBytes)"
        }
        if let c = name.unicodeScalars.first(where: isControl) { return "file name contains the control character \(escape(c))" }
        return nil
    }

    /// The first reason why Brixia's reports could not be written from `d` (with `fileName` the input's file
    /// name), or nil. Checks every value the report writers copy from the source image.
    public static func problem(of d: DicomInstance, fileName: String) -> String? {
        if let p = fileNameProblem(fileName) { return p }
        let required: [(String, String)] = [
            ("StudyInstanceUID", d.study.instanceUID), ("SeriesInstanceUID", d.series.instanceUID),
            ("SOPInstanceUID", d.instance.sopInstanceUID), ("SOPClassUID", d.instance.sopClassUID),
        ]
        for (name, uid) in required {
            if let p = uidProblem(uid) { return "\(name) \(quote(uid)) is not a valid UID: \(p)" }
        }
        if d.patient.id.isEmpty { return "PatientID is empty" }
        let copied: [(String, String, VR)] = [
            ("PatientID", d.patient.id, .LO), ("IssuerOfPatientID", d.patient.issuerOfPatientID, .LO),
            ("PatientName", d.patient.name, .PN), ("PatientSex", d.patient.sex, .CS),
            ("PatientBirthDate", d.patient.birthDate, .DA), ("StudyDate", d.study.date, .DA),
            ("StudyTime", d.study.time, .TM), ("AccessionNumber", d.study.accessionNumber, .SH),
            ("StudyDescription", d.study.description, .LO), ("Modality", d.series.modality, .CS),
            ("StudyID", d.study.id, .SH), ("ReferringPhysicianName", d.study.referringPhysicianName, .PN),
            ("TimezoneOffsetFromUTC", d.study.timezoneOffsetFromUTC, .timezoneOffset), ("PatientAge", d.patient.age, .AS),
            ("IssuerOfAccessionNumberSequence LocalNamespaceEntityID", d.study.accessionIssuer?.localNamespace ?? "", .UT),
            ("IssuerOfAccessionNumberSequence UniversalEntityID", d.study.accessionIssuer?.universalID ?? "", .UT),
            ("IssuerOfAccessionNumberSequence UniversalEntityIDType", d.study.accessionIssuer?.universalIDType ?? "", .CS),
        ] + d.patient.otherIDs.flatMap { o in [
            ("OtherPatientIDsSequence PatientID", o.id, VR.LO), ("OtherPatientIDsSequence IssuerOfPatientID", o.issuer, .LO),
            ("OtherPatientIDsSequence TypeOfPatientID", o.type, .CS)] }
        for (name, value, vr) in copied {
            if let p = problem(value, vr: vr) { return "\(name) \(quote(value)) \(p)" }
        }
        return nil
    }

    // MARK: printable reasons

    /// `s` with every control or line-breaking character escaped as \u{..} and cut to `limit` characters, so a
    /// header value quoted in a reason cannot forge log lines or flood a log.
    public static func printable(_ s: String, limit: Int = 512) -> String {
        var out = ""
        var n = 0
        for c in s.unicodeScalars {
            if n >= limit { return out + "..." }
            if isControl(c) { out += escape(c) } else { out.unicodeScalars.append(c) }
            n += 1
        }
        return out
    }

    /// 'value' with control characters escaped, at most 80 characters.
    static func quote(_ s: String) -> String { "'" + printable(s, limit: 80) + "'" }

    static func escape(_ c: Unicode.Scalar) -> String { "\\u{" + String(c.value, radix: 16, uppercase: true) + "}" }

    /// C0/C1 controls, DEL, the Unicode line/paragraph separators and bidirectional overrides.
    static func isControl(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
