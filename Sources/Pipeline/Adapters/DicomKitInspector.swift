import DicomKit
import Foundation

/// InstanceInspector over DicomKit: header parse, the pixel geometry check, the selection rules
/// (InstanceSelector.eligibility) and what the report writers will need (OutputReadiness), so a file that
/// could never be scored or reported is quarantined at intake instead of failing (and retrying) later.
public struct DicomKitInspector: InstanceInspector {
    public let limits: DicomLimits

    public init(limits: DicomLimits = .default) { self.limits = limits }

    public func inspect(file: URL) throws -> InspectedInstance {
        let d: DicomInstance
        do {
            let f = try DicomFile(path: file.path, limits: limits)
            // Header only: a declared image that the limits or the Pixel Data length refuse is rejected here,
            // before the scorer would allocate for it.
            try f.checkPixelGeometry()
            d = f.instance
        } catch let e as DicomError {
            switch e {
            case .fileNotFound, .unreadable, .internalError: throw e   // a system problem, not the file's fault
            default: throw InputRejection(file: file.path, reason: OutputReadiness.printable(e.reason))
            }
        }
        return InspectedInstance(metadata: Self.metadata(d),
                                 eligibility: Self.eligibility(d, fileName: file.lastPathComponent))
    }

    static func eligibility(_ d: DicomInstance, fileName: String) -> Eligibility {
        for (value, name) in [(d.instance.sopInstanceUID, "SOPInstanceUID"), (d.study.instanceUID, "StudyInstanceUID"),
                              (d.series.instanceUID, "SeriesInstanceUID"), (d.patient.id, "PatientID")] where value.isEmpty {
            return .reject("missing \(name): cannot be filed or compared with priors")
        }
        let e = InstanceSelector.eligibility(of: d)
        guard e.eligible else { return e }
        if let problem = OutputReadiness.problem(of: d, fileName: fileName) {
            return .reject("the reports could not be written: \(problem)")
        }
        return e
    }

    /// Every value escaped: an ineligible instance's UIDs are written into its quarantine reason file and logs
    /// (an eligible one passed OutputReadiness, so escaping changes nothing there).
    static func metadata(_ d: DicomInstance) -> InstanceMetadata {
        func p(_ s: String) -> String { OutputReadiness.printable(s, limit: 128) }
        func opt(_ s: String) -> String? { s.isEmpty ? nil : p(s) }
        let acq = d.instance.acquisitionDate.isEmpty ? nil : p(d.instance.acquisitionDate + d.instance.acquisitionTime)
        return InstanceMetadata(
            sopInstanceUID: p(d.instance.sopInstanceUID), sopClassUID: p(d.instance.sopClassUID),
            studyInstanceUID: p(d.study.instanceUID), seriesInstanceUID: p(d.series.instanceUID), patientID: p(d.patient.id),
            issuerOfPatientID: opt(d.patient.issuerOfPatientID), studyDate: opt(d.study.date), studyTime: opt(d.study.time),
            acquisitionDateTime: acq, instanceNumber: nil, modality: p(d.series.modality), viewPosition: opt(d.series.viewPosition))
    }
}
