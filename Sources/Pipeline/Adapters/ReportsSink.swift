import BrixiaDomain
import DicomKit
import Foundation
import Reports
import Store

/// ReportSink over Reports: a TID 1500 Comprehensive SR and/or a rendered Secondary Capture, in
/// the study of the source image, named `<baseName>.<kind>.dcm`.
public struct ReportsSink: ReportSink {
    let writer: ReportWriter
    let equipment: EquipmentInfo
    /// The installation's stored identity: its Device Observer UID and the key of the tracking identifiers.
    let installation: InstallationIdentity?

    public init(softwareVersion: String, installation: InstallationIdentity? = nil, institutionName: String? = nil) {
        writer = ReportWriter()
        self.installation = installation
        equipment = EquipmentInfo(institutionName: institutionName, softwareVersion: softwareVersion,
                                  deviceUID: installation?.deviceObserverUID)
    }

    static func alert(_ a: FiredAlert) -> ReportAlert {
        a.rule.hasPrefix("global>=") ? .severe : .worsening
    }

    public func writeOutputs(for a: StudyAnalysis, sourceFile: URL, kinds: Set<OutputKind>, baseName: String,
                             into directory: URL) throws -> [PublishedOutput] {
        do { return try write(for: a, sourceFile: sourceFile, kinds: kinds, baseName: baseName, into: directory) }
        catch let e as ReportError {
            switch e {
            // The input's own values cannot be written: the same input fails the same way every time.
            case .invalidInput, .encodingFailed:
                throw InputRejection(file: sourceFile.path, reason: "cannot be reported: \(e)")
            // The environment (folder missing, not writable, disk full, I/O): worth retrying.
            case .directoryMissing, .notWritable, .diskFull, .ioFailure:
                throw e
            }
        }
    }

    private func write(for a: StudyAnalysis, sourceFile: URL, kinds: Set<OutputKind>, baseName: String,
                       into directory: URL) throws -> [PublishedOutput] {
        if a.notScored != nil { return try writeNotPerformed(for: a, sourceFile: sourceFile, baseName: baseName, into: directory) }
        let input = try reportInput(for: a, sourceFile: sourceFile)
        var out: [PublishedOutput] = []
        for kind in OutputKind.allCases where kinds.contains(kind) {
            let w: WrittenObject
            switch kind {
            case .sr: w = try writer.writeSR(input, to: directory)
            case .sc: w = try writer.writeSecondaryCapture(input, trend: a.history.map { TrendPoint(date: $0.studyDate, global: $0.global) },
                                                           to: directory)
            }
            let named = directory.appendingPathComponent("\(baseName).\(kind.rawValue).dcm")
            try FileOps.move(w.path, to: named)
            out.append(PublishedOutput(kind: kind, fileName: named.lastPathComponent, sopInstanceUID: w.sopInstanceUID, seriesInstanceUID: w.seriesInstanceUID))
        }
        return out
    }

    /// What every report object of the analysis is written from (also the explanation worker's SC).
    /// The one mapping of the source's patient and study attributes onto every output (SR, SCs, SEG):
    /// copied from the source image's header (empty type 2 values become absent); dcmb_out's
    /// putPatientAndStudy is its C++ half.
    public static func patientAndStudy(_ d: DicomInstance, studyInstanceUID: String) -> (PatientInfo, StudyInfo) {
        func opt(_ s: String) -> String? { s.isEmpty ? nil : s }
        let issuer = d.study.accessionIssuer.map {
            AccessionIssuer(localNamespace: opt($0.localNamespace), universalID: opt($0.universalID),
                            universalIDType: opt($0.universalIDType))
        }
        return (PatientInfo(id: d.patient.id, issuer: opt(d.patient.issuerOfPatientID), name: d.patient.name,
                            sex: opt(d.patient.sex), birthDate: opt(d.patient.birthDate), age: opt(d.patient.age),
                            otherIDs: d.patient.otherIDs.map { OtherPatientID(id: $0.id, issuer: opt($0.issuer), type: $0.type.isEmpty ? "TEXT" : $0.type) }),
                StudyInfo(studyInstanceUID: studyInstanceUID, date: opt(d.study.date), time: opt(d.study.time),
                          accessionNumber: opt(d.study.accessionNumber), studyID: opt(d.study.id),
                          description: opt(d.study.description), referringPhysicianName: opt(d.study.referringPhysicianName),
                          accessionIssuer: issuer, timezoneOffsetFromUTC: opt(d.study.timezoneOffsetFromUTC)))
    }

    public func reportInput(for a: StudyAnalysis, sourceFile: URL) throws -> ReportInput {
        // Patient/study modules are copied from the source image (the name is never logged).
        let d: DicomInstance
        do { d = try DicomFile.readInstance(path: sourceFile.path) } catch let e as DicomError {
            throw InputRejection(file: sourceFile.path, reason: e.reason)
        }
        let source = SourceImage(sopClassUID: a.source.sopClassUID, sopInstanceUID: a.source.sopInstanceUID,
                                 seriesInstanceUID: a.source.seriesInstanceUID, modality: a.source.modality,
                                 laterality: nil, viewPosition: a.source.viewPosition,
                                 rows: d.geometry.rows > 0 ? d.geometry.rows : nil,
                                 columns: d.geometry.columns > 0 ? d.geometry.columns : nil,
                                 // optional descriptor: an unusable value is left out rather than refusing the report
                                 patientOrientation: SourceImage.isPatientOrientation(d.instance.patientOrientation)
                                     ? d.instance.patientOrientation : nil,
                                 pixelSpacing: d.geometry.pixelSpacing.map { ($0.row, $0.column) })
        let conf = a.score.confidence.flatMap { $0.zones.count == 6 ? $0 : nil }
        let zones = zip(Zone.allCases, zip(a.score.zoneGrades, a.score.zoneProbabilities)).enumerated().map { i, zgp in
            ZoneScore(zone: zgp.0, grade: zgp.1.0, probabilities: zgp.1.1.map(Double.init), confidence: conf?.zones[i])
        }
        var prior: PriorExam?
        var change: ScoreChange?
        if let p = a.prior, let date = p.studyDate, !p.sopInstanceUID.isEmpty {
            prior = PriorExam(studyInstanceUID: p.studyInstanceUID, studyDate: date, global: p.global,
                              image: SourceImage(sopClassUID: p.sopClassUID ?? a.source.sopClassUID, sopInstanceUID: p.sopInstanceUID,
                                                 seriesInstanceUID: p.seriesInstanceUID ?? "", modality: p.modality ?? a.source.modality,
                                                 laterality: nil, viewPosition: nil))
        }
        if let delta = a.globalDelta {
            switch a.trend {
            case .worse: change = ScoreChange(delta: delta, trend: .worse)
            case .better: change = ScoreChange(delta: delta, trend: .better)
            case .stable: change = ScoreChange(delta: delta, trend: .stable)
            default: break
            }
        }
        var alerts: [ReportAlert] = []
        for f in a.alerts where !alerts.contains(Self.alert(f)) { alerts.append(Self.alert(f)) }
        if conf?.isLow == true { alerts.append(.lowConfidence) }
        let (patient, study) = Self.patientAndStudy(d, studyInstanceUID: a.studyInstanceUID)
        var input = ReportInput(
            patient: patient, study: study, source: source, scores: BrixiaScores(zones: zones, global: a.score.global, confidence: conf?.study),
            prior: prior, change: change, alerts: alerts,
            model: a.model,
            equipment: equipment, created: a.createdAt,
            tracking: installation.map { TrackingDerivation.uids(installation: $0, patientID: patient.id, issuer: patient.issuer) })
        input.amendment = Self.amendment(a)
        input.sourceProvenance = a.score.provenance.map(Self.sourceProvenance)
        return input
    }

    /// The replaced report of an amended analysis, as the report writer takes it.
    static func amendment(_ a: StudyAnalysis) -> ReportAmendment? {
        guard let r = a.replaces else { return nil }
        let sr = r.outputs.first { $0.kind == .sr }, sc = r.outputs.first { $0.kind == .sc }
        return ReportAmendment(replacedSRInstanceUID: sr?.seriesInstanceUID == nil ? nil : sr?.sopInstanceUID,
                               replacedSRSeriesUID: sr?.sopInstanceUID == nil ? nil : sr?.seriesInstanceUID,
                               replacedRenderingSeriesUID: sc?.seriesInstanceUID, instanceNumber: a.version,
                               reason: r.reason)
    }

    /// The store's provenance record as the reports state it (issue #14 item 6).
    static func sourceProvenance(_ p: InputProvenance) -> SourceProvenance {
        var steps: [String] = []
        if let pi = p.photometricInterpretation { steps.append(p.inverted ? "\(pi) inverted for display" : pi) }
        if let voi = p.voi { steps.append("VOI \(voi)") }
        return SourceProvenance(lossy: p.lossy, lossyRatio: p.lossyRatio, lossyMethod: p.lossyMethod,
                                preprocessing: steps.joined(separator: ", "))
    }

    /// A study examined but not scored: only the short "AI analysis not performed: <reason>" SR, whatever the
    /// configured kinds (the reading radiologist must see why no score came back; a rendering would show none).
    private func writeNotPerformed(for a: StudyAnalysis, sourceFile: URL, baseName: String,
                                   into directory: URL) throws -> [PublishedOutput] {
        let d: DicomInstance
        do { d = try DicomFile.readInstance(path: sourceFile.path) } catch let e as DicomError {
            throw InputRejection(file: sourceFile.path, reason: e.reason)
        }
        let (patient, study) = Self.patientAndStudy(d, studyInstanceUID: a.studyInstanceUID)
        let source = SourceImage(sopClassUID: a.source.sopClassUID, sopInstanceUID: a.source.sopInstanceUID,
                                 seriesInstanceUID: a.source.seriesInstanceUID, modality: a.source.modality,
                                 laterality: nil, viewPosition: a.source.viewPosition)
        let input = NotPerformedInput(patient: patient, study: study, source: source, reason: a.notScored?.reason ?? "unknown",
                                      model: a.model,
                                      equipment: equipment, created: a.createdAt)
        let w = try writer.writeNotPerformedSR(input, to: directory)
        let named = directory.appendingPathComponent("\(baseName).sr.dcm")
        try FileOps.move(w.path, to: named)
        return [PublishedOutput(kind: .sr, fileName: named.lastPathComponent, sopInstanceUID: w.sopInstanceUID, seriesInstanceUID: w.seriesInstanceUID)]
    }
}
