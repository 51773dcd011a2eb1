import DicomKit
import Foundation

/// InstanceInspector over DicomKit: header parse + the selection rules (InstanceSelector.eligibility).
public struct DicomKitInspector: InstanceInspector {
    public init() {}

    public func inspect(file: URL) throws -> InspectedInstance {
        let d: DicomInstance
        do { d = try DicomFile.readInstance(path: file.path) } catch let e as DicomError {
            switch e {
            case .fileNotFound, .unreadable, .internalError: throw e   // a system problem, not the file's fault
            default: throw InputRejection(file: file.path, reason: e.reason)
            }
        }
        return InspectedInstance(metadata: Self.metadata(d), eligibility: Self.eligibility(d))
    }

    static func eligibility(_ d: DicomInstance) -> Eligibility {
        for (value, name) in [(d.instance.sopInstanceUID, "SOPInstanceUID"), (d.study.instanceUID, "StudyInstanceUID"),
                              (d.series.instanceUID, "SeriesInstanceUID"), (d.patient.id, "PatientID")] where value.isEmpty {
            return .ineligible(reason: "missing \(name): cannot be filed or compared with priors")
        }
        let e = InstanceSelector.eligibility(of: d)
        return e.eligible ? .eligible : .ineligible(reason: e.reason)
    }

    static func metadata(_ d: DicomInstance) -> InstanceMetadata {
        func opt(_ s: String) -> String? { s.isEmpty ? nil : s }
        let acq = d.instance.acquisitionDate.isEmpty ? nil : d.instance.acquisitionDate + d.instance.acquisitionTime
        return InstanceMetadata(
            sopInstanceUID: d.instance.sopInstanceUID, sopClassUID: d.instance.sopClassUID,
            studyInstanceUID: d.study.instanceUID, seriesInstanceUID: d.series.instanceUID, patientID: d.patient.id,
            issuerOfPatientID: opt(d.patient.issuerOfPatientID), studyDate: opt(d.study.date), studyTime: opt(d.study.time),
            acquisitionDateTime: acq, instanceNumber: nil, modality: d.series.modality, viewPosition: opt(d.series.viewPosition))
    }
}
