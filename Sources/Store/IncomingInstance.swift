import BrixiaDomain
import Foundation

/// What the pipeline knows about one received DICOM file. Strings are DICOM values as read
/// (dates DA "YYYYMMDD", times TM, AcquisitionDateTime DT); empty strings count as absent.
public struct IncomingInstance: Sendable, Equatable {
    public var patientID: String
    public var issuerOfPatientID: String?
    public var patientName: String?
    public var patientSex: String?
    public var patientBirthDate: String?

    public var studyInstanceUID: String
    public var studyDate: String?
    public var studyTime: String?
    public var accessionNumber: String?
    public var studyDescription: String?

    public var seriesInstanceUID: String
    public var modality: String?
    public var seriesNumber: Int?
    public var seriesDescription: String?

    public var sopInstanceUID: String
    public var sopClassUID: String?
    /// AcquisitionDateTime, or AcquisitionDate + AcquisitionTime concatenated; the ordering fallback
    /// when the study has no StudyDate.
    public var acquisitionDateTime: String?

    public var filePath: String
    /// SHA-256 of the file's bytes, 64 hex digits.
    public var contentSHA256: String
    /// Whether the pipeline will score this image (e.g. a frontal chest radiograph) and why not.
    public var eligible: Bool
    public var eligibilityReason: String?

    public init(patientID: String, issuerOfPatientID: String? = nil, patientName: String? = nil,
                patientSex: String? = nil, patientBirthDate: String? = nil,
                studyInstanceUID: String, studyDate: String? = nil, studyTime: String? = nil,
                accessionNumber: String? = nil, studyDescription: String? = nil,
                seriesInstanceUID: String, modality: String? = nil, seriesNumber: Int? = nil,
                seriesDescription: String? = nil,
                sopInstanceUID: String, sopClassUID: String? = nil, acquisitionDateTime: String? = nil,
                filePath: String, contentSHA256: String, eligible: Bool, eligibilityReason: String? = nil) {
        self.patientID = patientID
        self.issuerOfPatientID = issuerOfPatientID
        self.patientName = patientName
        self.patientSex = patientSex
        self.patientBirthDate = patientBirthDate
        self.studyInstanceUID = studyInstanceUID
        self.studyDate = studyDate
        self.studyTime = studyTime
        self.accessionNumber = accessionNumber
        self.studyDescription = studyDescription
        self.seriesInstanceUID = seriesInstanceUID
        self.modality = modality
        self.seriesNumber = seriesNumber
        self.seriesDescription = seriesDescription
        self.sopInstanceUID = sopInstanceUID
        self.sopClassUID = sopClassUID
        self.acquisitionDateTime = acquisitionDateTime
        self.filePath = filePath
        self.contentSHA256 = contentSHA256
        self.eligible = eligible
        self.eligibilityReason = eligibilityReason
    }

    /// Checks required identifiers and the hash; returns a copy with values trimmed and the hash lower-cased.
    func validated() throws -> IncomingInstance {
        var copy = self
        func required(_ value: String, _ field: String) throws -> String {
            let trimmed = value.trimmingSpaces
            guard !trimmed.isEmpty else { throw StoreError.invalidInput(field: field, reason: "empty (file \(filePath))") }
            return trimmed
        }
        copy.patientID = try required(patientID, "PatientID")
        copy.studyInstanceUID = try required(studyInstanceUID, "StudyInstanceUID")
        copy.seriesInstanceUID = try required(seriesInstanceUID, "SeriesInstanceUID")
        copy.sopInstanceUID = try required(sopInstanceUID, "SOPInstanceUID")
        copy.filePath = try required(filePath, "file path")
        let hash = contentSHA256.lowercased()
        guard hash.count == 64, hash.allSatisfy({ $0.isASCIIDigit || ("a"..."f").contains($0) }) else {
            throw StoreError.invalidInput(field: "content SHA-256", reason: "expected 64 hex digits (file \(filePath))")
        }
        copy.contentSHA256 = hash
        copy.issuerOfPatientID = issuerOfPatientID?.trimmingSpaces
        for keyPath in [\IncomingInstance.patientName, \.patientSex, \.patientBirthDate, \.studyDate, \.studyTime,
                        \.accessionNumber, \.studyDescription, \.modality, \.seriesDescription, \.sopClassUID,
                        \.acquisitionDateTime, \.eligibilityReason] {
            if let value = copy[keyPath: keyPath]?.trimmingSpaces { copy[keyPath: keyPath] = value.isEmpty ? nil : value }
        }
        return copy
    }
}

/// How `recordInstance` classified a delivery.
public enum IngestOutcome: Equatable, Sendable {
    /// First time this SOP Instance UID was seen.
    case new
    /// Same SOP Instance UID and same content hash: nothing changed.
    case duplicate
    /// Same SOP Instance UID, different content: stored as a new revision (the study will be re-analysed).
    case contentChanged(revision: Int)
}

public struct IngestResult: Equatable, Sendable {
    public let outcome: IngestOutcome
    public let instanceID: Int64
    public let studyID: Int64
    public let studyIsNew: Bool
    /// Job state after the delivery.
    public let jobState: JobState
    /// True when the delivery moved a finished study (done/failed/quarantined) back to queued,
    /// or flagged a study being processed for another run.
    public let requeued: Bool
}
