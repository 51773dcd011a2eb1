import BrixiaDomain
import CDcmBridge
import Foundation

/// What the "AI analysis not performed" SR needs: the examined image's study and why no score is reported
/// (issue #14 item 3). Kept apart from ReportInput, which always carries scores.
public struct NotPerformedInput: Sendable, Equatable {
    public var patient: PatientInfo
    public var study: StudyInfo
    public var source: SourceImage
    public var reason: String
    public var model: ModelIdentity
    public var equipment: EquipmentInfo
    public var created: Date
    public init(patient: PatientInfo, study: StudyInfo, source: SourceImage, reason: String, model: ModelIdentity,
                equipment: EquipmentInfo, created: Date = Date()) {
        self.patient = patient; self.study = study; self.source = source; self.reason = reason
        self.model = model; self.equipment = equipment; self.created = created
    }

    /// The sentence the radiologist reads.
    public var statement: String { "AI analysis not performed: \(reason)" }
}

extension ReportWriter {
    public static let notPerformedSeriesDescription = "Brixia AI analysis not performed (SR)"

    /// A short Comprehensive SR in the study of the examined image (series number `srSeriesNumber`, like the
    /// scored SR): observer, procedure, the image, and "AI analysis not performed: <reason>". No scores.
    public func writeNotPerformedSR(_ input: NotPerformedInput, to directory: URL) throws -> WrittenObject {
        // The header rules are the scored report's (validate); its zone scores are placeholders that are never
        // written: only patient, study, source, model and equipment are read from this value.
        let header = ReportInput(patient: input.patient, study: input.study, source: input.source,
                                 scores: BrixiaScores(zones: Zone.allCases.map { ZoneScore(zone: $0, grade: 0) }, global: 0),
                                 model: input.model, equipment: input.equipment, created: input.created)
        try validate(header)
        let reason = input.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw ReportError.invalidInput(field: "reason", reason: "empty") }
        let pool = CStringPool()
        let seriesUID = try newUID(), sopUID = try newUID()
        var sr = dcmb_sr_np_input()
        sr.context = context(header, pool: pool, seriesUID: seriesUID, sopUID: sopUID, seriesNumber: srSeriesNumber,
                             description: Self.notPerformedSeriesDescription)
        sr.source = imageRef(input.source, studyUID: input.study.studyInstanceUID, studyDate: input.study.date, pool: pool)
        sr.device_observer_uid = pool.c(try input.equipment.deviceUID ?? newUID())
        sr.device_observer_name = pool.c("\(Self.manufacturer) \(input.model.name)")
        sr.algorithm_name = pool.c(input.model.name)
        sr.algorithm_version = pool.c(input.model.version)
        // A TEXT value is UT-like but DCMTK checks it as text: keep one line, no control characters.
        sr.statement = pool.c(String(input.statement.map { $0.isNewline ? " " : $0 }))
        sr.disclaimer = pool.c(BrixiaCodes.disclaimer)
        let filename = "BRIXIA_SR_\(sopUID).dcm"
        try call(directory, filename) { dir, name, err, len in dcmb_write_sr_not_performed(dir, name, &sr, err, len) }
        return WrittenObject(path: directory.appendingPathComponent(filename), sopInstanceUID: sopUID,
                             seriesInstanceUID: seriesUID, sopClassUID: Self.srSOPClassUID)
    }
}
