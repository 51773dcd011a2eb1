import DicomKit
import Foundation

extension ReportWriter {
    /// Rejects inputs that would give a wrong or invalid report, before anything is written. The value rules
    /// are DicomKit's OutputReadiness, the same the pipeline applies to a source image at intake.
    func validate(_ input: ReportInput) throws {
        func bad(_ field: String, _ reason: String) -> ReportError { .invalidInput(field: field, reason: reason) }
        func quoted(_ s: String) -> String { "'\(OutputReadiness.printable(s, limit: 80))'" }
        for (field, uid) in [("study.studyInstanceUID", input.study.studyInstanceUID),
                             ("source.sopClassUID", input.source.sopClassUID),
                             ("source.sopInstanceUID", input.source.sopInstanceUID),
                             ("source.seriesInstanceUID", input.source.seriesInstanceUID)] {
            if let p = OutputReadiness.uidProblem(uid) { throw bad(field, "\(quoted(uid)) is not a valid UID: \(p)") }
        }
        if input.patient.id.isEmpty { throw bad("patient.id", "empty") }
        let copied: [(String, String?, OutputReadiness.VR)] = [
            ("patient.id", input.patient.id, .LO), ("patient.issuer", input.patient.issuer, .LO),
            ("patient.name", input.patient.name, .PN), ("patient.sex", input.patient.sex, .CS),
            ("patient.birthDate", input.patient.birthDate, .DA), ("study.date", input.study.date, .DA),
            ("study.time", input.study.time, .TM), ("study.accessionNumber", input.study.accessionNumber, .SH),
            ("study.studyID", input.study.studyID, .SH), ("study.description", input.study.description, .LO),
            ("study.referringPhysicianName", input.study.referringPhysicianName, .PN),
            ("source.modality", input.source.modality, .CS), ("prior.studyDate", input.prior?.studyDate, .DA),
            ("equipment.institutionName", input.equipment.institutionName, .LO),
            ("equipment.deviceSerialNumber", input.equipment.deviceSerialNumber, .LO),
            ("patient.age", input.patient.age, .AS), ("study.timezoneOffsetFromUTC", input.study.timezoneOffsetFromUTC, .timezoneOffset),
            ("study.accessionIssuer.localNamespace", input.study.accessionIssuer?.localNamespace, .UT),
            ("study.accessionIssuer.universalID", input.study.accessionIssuer?.universalID, .UT),
            ("study.accessionIssuer.universalIDType", input.study.accessionIssuer?.universalIDType, .CS),
        ] + input.patient.otherIDs.flatMap { o -> [(String, String?, OutputReadiness.VR)] in [
            ("patient.otherIDs.id", o.id, .LO), ("patient.otherIDs.issuer", o.issuer, .LO), ("patient.otherIDs.type", o.type, .CS)] }
        for (field, value, vr) in copied {
            if let value, let p = OutputReadiness.problem(value, vr: vr) { throw bad(field, "\(quoted(value)) \(p)") }
        }
        let zones = input.scores.zones
        guard zones.count == 6, Set(zones.map(\.zone)).count == 6 else {
            throw bad("scores.zones", "need exactly one score for each zone A-F, got \(zones.map(\.zone.rawValue))")
        }
        for z in zones {
            guard (0...3).contains(z.grade) else { throw bad("scores.zones.\(z.zone.rawValue)", "grade \(z.grade) not in 0...3") }
            guard z.probabilities.isEmpty || z.probabilities.count == 4 else {
                throw bad("scores.zones.\(z.zone.rawValue)", "need 4 probabilities, got \(z.probabilities.count)")
            }
            guard z.probabilities.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
                throw bad("scores.zones.\(z.zone.rawValue)", "probabilities must be in 0...1")
            }
            if let c = z.confidence, !(c.isFinite && c >= 0 && c <= 1) {
                throw bad("scores.zones.\(z.zone.rawValue).confidence", "\(c) not in 0...1")
            }
        }
        let sum = zones.reduce(0) { $0 + $1.grade }
        guard input.scores.global == sum else { throw bad("scores.global", "\(input.scores.global) != sum of zone grades \(sum)") }
        if let c = input.scores.confidence, !(c.isFinite && c >= 0 && c <= 1) { throw bad("scores.confidence", "\(c) not in 0...1") }
        if let p = input.prior {
            guard (0...18).contains(p.global) else { throw bad("prior.global", "\(p.global) not in 0...18") }
            for (field, uid) in [("prior.studyInstanceUID", p.studyInstanceUID), ("prior.image.sopInstanceUID", p.image.sopInstanceUID),
                                 ("prior.image.sopClassUID", p.image.sopClassUID), ("prior.image.seriesInstanceUID", p.image.seriesInstanceUID)]
                where !DicomUID.isValid(uid) { throw bad(field, "\(quoted(uid)) is not a valid UID") }
            if let ch = input.change, ch.delta != input.scores.global - p.global {
                throw bad("change.delta", "\(ch.delta) != current \(input.scores.global) - prior \(p.global)")
            }
        }
        if input.change != nil && input.prior == nil { throw bad("change", "a change needs the prior exam") }
        if let a = input.amendment {
            for (field, uid) in [("amendment.replacedSRInstanceUID", a.replacedSRInstanceUID),
                                 ("amendment.replacedSRSeriesUID", a.replacedSRSeriesUID),
                                 ("amendment.replacedRenderingSeriesUID", a.replacedRenderingSeriesUID)] {
                if let uid, !DicomUID.isValid(uid) { throw bad(field, "\(quoted(uid)) is not a valid UID") }
            }
            if (a.replacedSRInstanceUID == nil) != (a.replacedSRSeriesUID == nil) {
                throw bad("amendment", "the replaced SR needs both its SOP Instance UID and its series")
            }
            if a.reason.isEmpty { throw bad("amendment.reason", "empty: an amended report must say why") }
            if !(1...99999).contains(a.instanceNumber) { throw bad("amendment.instanceNumber", "\(a.instanceNumber) not in 1...99999") }
        }
        for a in input.alerts where a.code.isEmpty || a.code.utf8.count > 16 || a.meaning.isEmpty || a.meaning.count > 64 {
            throw bad("alerts", "code '\(a.code)' must be 1-16 characters and meaning 1-64")
        }
        if input.model.name.isEmpty || input.model.version.isEmpty { throw bad("model", "name and version are required") }
        if let t = input.tracking {
            guard t.zones.count == 6 else { throw bad("tracking.zones", "need one tracking UID for each zone A-F") }
            for (field, uid) in [("tracking.global", t.global)] + t.zones.map({ ("tracking.zones.\($0.key.rawValue)", $0.value) })
                where !DicomUID.isValid(uid) { throw bad(field, "\(quoted(uid)) is not a valid UID") }
        }
        if let p = input.source.patientOrientation, !SourceImage.isPatientOrientation(p) {
            throw bad("source.patientOrientation", "\(quoted(p)) is not a row and a column direction such as P\\F")
        }
        if let uid = input.equipment.deviceUID, !DicomUID.isValid(uid) { throw bad("equipment.deviceUID", "\(quoted(uid)) is not a valid UID") }
    }
}

enum DicomDateTime {
    static func isDate(_ s: String) -> Bool { OutputReadiness.isDate(s) }

    /// (YYYYMMDD, HHMMSS) in the local time zone.
    static func split(_ date: Date) -> (String, String) {
        let c = Calendar.current.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func p(_ v: Int?, _ w: Int) -> String { let s = String(v ?? 0); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return (p(c.year, 4) + p(c.month, 2) + p(c.day, 2), p(c.hour, 2) + p(c.minute, 2) + p(c.second, 2))
    }

    /// "20240131" -> "2024-01-31" for display; other input is returned unchanged.
    static func display(_ s: String?) -> String {
        guard let s, isDate(s) else { return s ?? "" }
        let a = Array(s)
        return "\(String(a[0..<4]))-\(String(a[4..<6]))-\(String(a[6..<8]))"
    }
}
