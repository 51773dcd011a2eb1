import BrixiaDomain
import Foundation
import GRDB

// Typed rows as stored. Column names are snake_case in SQL; these structs map them explicitly.

public struct PatientRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let patientID: String
    /// "" when the instances carried no IssuerOfPatientID.
    public let issuer: String
    public let name: String?
    public let sex: String?
    public let birthDate: String?

    public init(row: Row) throws {
        id = row["id"]; patientID = row["patient_id"]; issuer = row["issuer"]
        name = row["name"]; sex = row["sex"]; birthDate = row["birth_date"]
    }
}

public struct StudyRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let studyInstanceUID: String
    public let patientRef: Int64
    public let studyDate: String?
    public let studyTime: String?
    public let acquisitionDateTime: String?
    /// Chronological key (see `DicomDateKey`); nil when the study carries no date.
    public let sortKey: String?
    public let accessionNumber: String?
    public let description: String?
    public let createdAt: Date

    /// ISO 8601 date (and time when known) used for ordering.
    public var date: String? { DicomDateKey.display(sortKey) }

    /// Where the study stands among the patient's exams (`ExamOrder`, the one ordering rule).
    public var order: ExamOrder {
        ExamOrder(dateKey: sortKey, acquisitionKey: DicomDateKey.key(dateTime: acquisitionDateTime), studyInstanceUID: studyInstanceUID)
    }

    public init(row: Row) throws {
        id = row["id"]; studyInstanceUID = row["study_uid"]; patientRef = row["patient_ref"]
        studyDate = row["study_date"]; studyTime = row["study_time"]
        acquisitionDateTime = row["acquisition_datetime"]; sortKey = row["sort_key"]
        accessionNumber = row["accession_number"]; description = row["description"]; createdAt = row["created_at"]
    }
}

public struct SeriesRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let seriesInstanceUID: String
    public let studyRef: Int64
    public let modality: String?
    public let seriesNumber: Int?
    public let description: String?

    public init(row: Row) throws {
        id = row["id"]; seriesInstanceUID = row["series_uid"]; studyRef = row["study_ref"]
        modality = row["modality"]; seriesNumber = row["series_number"]; description = row["description"]
    }
}

public struct InstanceRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let sopInstanceUID: String
    public let sopClassUID: String?
    public let seriesRef: Int64
    public let studyRef: Int64
    public let filePath: String
    public let contentSHA256: String
    public let acquisitionDateTime: String?
    public let eligible: Bool
    public let eligibilityReason: String?
    /// 1 for the first content received under this UID, +1 for each different content.
    public let revision: Int
    public let receivedAt: Date
    public let updatedAt: Date

    public init(row: Row) throws {
        id = row["id"]; sopInstanceUID = row["sop_instance_uid"]; sopClassUID = row["sop_class_uid"]
        seriesRef = row["series_ref"]; studyRef = row["study_ref"]; filePath = row["file_path"]
        contentSHA256 = row["content_sha256"]; acquisitionDateTime = row["acquisition_datetime"]
        eligible = row["eligible"]; eligibilityReason = row["eligibility_reason"]; revision = row["revision"]
        receivedAt = row["received_at"]; updatedAt = row["updated_at"]
    }
}

public struct JobRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let studyRef: Int64
    public let studyInstanceUID: String
    public let state: JobState
    /// Claims made by workers in the current processing cycle (reset when new content re-queues the study).
    public let attempts: Int
    /// New content arrived while processing: finishing the job re-queues it.
    public let rerunRequested: Bool
    public let lastError: String?
    public let owner: String?
    public let leaseExpiresAt: Date?
    public let createdAt: Date
    public let updatedAt: Date
    public let queuedAt: Date?
    public let startedAt: Date?
    public let finishedAt: Date?
    /// What the last failure was (nil when nothing failed in this processing cycle).
    public let failureKind: FailureKind?
    /// Times a worker died holding this job (crash recovery); at `maxCrashes` the study is poison.
    public let crashes: Int
    /// A queued job waiting out its back-off is not claimed before this.
    public let retryAt: Date?

    /// Expects the jobs columns plus `study_uid` (see `JobRecord.selectSQL`).
    public init(row: Row) throws {
        id = row["id"]; studyRef = row["study_ref"]; studyInstanceUID = row["study_uid"]
        state = try row.required(JobState.self, "state", table: "jobs")
        attempts = row["attempts"]; rerunRequested = row["rerun_requested"]; lastError = row["last_error"]
        owner = row["owner"]; leaseExpiresAt = row["lease_expires_at"]
        createdAt = row["created_at"]; updatedAt = row["updated_at"]
        queuedAt = row["queued_at"]; startedAt = row["started_at"]; finishedAt = row["finished_at"]
        failureKind = try row.known(FailureKind.self, "failure_kind", table: "jobs")
        crashes = row["crashes"]; retryAt = row["retry_at"]
    }

    static let selectSQL = "SELECT jobs.*, studies.study_uid FROM jobs JOIN studies ON studies.id = jobs.study_ref"
}

/// The prior exam an analysis's report names.
public enum ReportedPrior: Sendable, Equatable {
    /// Not recorded (the caller does not report priors).
    case unknown
    /// "No prior exam".
    case none
    /// The latest analysis of this study at the time of the commit.
    case study(String)
}

/// A model result to store; the store assigns the version (1, 2, ... per study).
public struct NewAnalysis: Sendable, Equatable {
    /// The analysed image (must belong to the study); nil when not tied to one instance.
    public var sopInstanceUID: String?
    public var model: ModelIdentity
    public var zones: ZoneGrades
    /// Class probabilities (grades 0...3) per zone.
    public var probabilities: [Zone: [Double]]?
    /// The alignment network's 2x3 affine matrix, row-major (6 values).
    public var theta: [Double]?
    /// Study confidence (0...1): mean of `zoneConfidence` (docs/model-card.md, "Calibration").
    public var confidence: Double?
    /// Calibrated probability of the reported grade, per zone (0...1).
    public var zoneConfidence: [Zone: Double]?
    /// Temperature the probabilities were scaled with (nil: uncalibrated model).
    public var calibrationTemperature: Double?
    /// Stage timings in milliseconds (e.g. "decode", "inference", "reports").
    public var timingsMS: [String: Double]
    public var status: AnalysisStatus
    /// The prior exam the report of this analysis compares against (what `completeJob` checks to
    /// re-issue a later exam's report when an earlier exam arrives late).
    public var reportedPrior: ReportedPrior = .unknown
    /// Where the analysed image came from and how it was prepared (issue #14 item 6); nil when unknown.
    public var provenance: InputProvenance? = nil

    public init(sopInstanceUID: String?, model: ModelIdentity, zones: ZoneGrades, probabilities: [Zone: [Double]]? = nil, theta: [Double]? = nil,
                confidence: Double? = nil, timingsMS: [String: Double] = [:], status: AnalysisStatus = .ok) {
        self.sopInstanceUID = sopInstanceUID
        self.model = model
        self.zones = zones
        self.probabilities = probabilities
        self.theta = theta
        self.confidence = confidence
        self.timingsMS = timingsMS
        self.status = status
    }
}

public struct AnalysisRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let studyRef: Int64
    public let instanceRef: Int64?
    public let instanceRevision: Int?
    public let version: Int
    public let modelName: String
    public let modelVersion: String
    public let weightsSHA256: String
    public let zones: ZoneGrades
    public let global: Int
    public let probabilities: [String: [Double]]?
    public let theta: [Double]?
    public let confidence: Double?
    /// Per zone ("A"..."F"), migration 0008; nil for analyses without a calibrated model.
    public let zoneConfidence: [String: Double]?
    public let calibrationTemperature: Double?
    public let timingsMS: [String: Double]
    public let status: AnalysisStatus
    public let createdAt: Date
    /// The prior analysis its report compared against; meaningful only when `priorKnown`.
    public let priorAnalysisRef: Int64?
    /// False for analyses recorded without their prior (before migration 0005, or `.unknown`).
    public let priorKnown: Bool
    /// Input provenance (Schemas/0004_not_scored.sql); nil for rows written before it.
    public let provenance: InputProvenance?

    public var model: ModelIdentity { ModelIdentity(name: modelName, version: modelVersion, weightsSHA256: weightsSHA256) }

    public init(row: Row) throws {
        id = row["id"]; studyRef = row["study_ref"]; instanceRef = row["instance_ref"]
        instanceRevision = row["instance_revision"]; version = row["version"]
        modelName = row["model_name"]; modelVersion = row["model_version"]; weightsSHA256 = row["weights_sha256"]
        zones = ZoneGrades(unchecked: ["zone_a", "zone_b", "zone_c", "zone_d", "zone_e", "zone_f"].map { row[$0] })
        global = row["global_score"]
        probabilities = try JSONColumn.decode([String: [Double]].self, row["probabilities"])
        theta = try JSONColumn.decode([Double].self, row["theta"])
        confidence = row["confidence"]
        zoneConfidence = try JSONColumn.decode([String: Double].self, row["zone_confidence"])
        calibrationTemperature = row["calibration_temperature"]
        timingsMS = try JSONColumn.decode([String: Double].self, row["timings"]) ?? [:]
        let rawStatus: String = row["status"]
        status = AnalysisStatus(rawValue: rawStatus) ?? .ok
        createdAt = row["created_at"]
        priorAnalysisRef = row["prior_analysis_ref"]
        priorKnown = (row["prior_known"] as Int?) == 1
        provenance = try JSONColumn.decode(InputProvenance.self, row["input_provenance"])
    }
}

/// A DICOM object written for an analysis (kind e.g. "SR", "SC").
public struct NewOutput: Sendable, Equatable {
    public var kind: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String?
    public var filePath: String

    public init(kind: String, sopInstanceUID: String, seriesInstanceUID: String? = nil, filePath: String) {
        self.kind = kind
        self.sopInstanceUID = sopInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.filePath = filePath
    }
}

public struct OutputRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let analysisRef: Int64
    public let kind: String
    public let sopInstanceUID: String
    public let seriesInstanceUID: String?
    public let filePath: String
    public let createdAt: Date

    public init(row: Row) throws {
        id = row["id"]; analysisRef = row["analysis_ref"]; kind = row["kind"]
        sopInstanceUID = row["sop_instance_uid"]; seriesInstanceUID = row["series_uid"]
        filePath = row["file_path"]; createdAt = row["created_at"]
    }
}

public struct AlertRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let analysisRef: Int64
    public let priorAnalysisRef: Int64?
    public let rule: String
    public let value: Int
    public let message: String
    public let createdAt: Date

    public init(row: Row) throws {
        id = row["id"]; analysisRef = row["analysis_ref"]; priorAnalysisRef = row["prior_analysis_ref"]
        rule = row["rule"]; value = row["value"]; message = row["message"]; createdAt = row["created_at"]
    }
}

public struct EventRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let at: Date
    public let kind: String
    public let studyRef: Int64?
    public let jobRef: Int64?
    public let instanceRef: Int64?
    public let analysisRef: Int64?
    public let fromState: String?
    public let toState: String?
    public let actor: String?
    public let message: String?

    public init(row: Row) throws {
        id = row["id"]; at = row["at"]; kind = row["kind"]; studyRef = row["study_ref"]; jobRef = row["job_ref"]
        instanceRef = row["instance_ref"]; analysisRef = row["analysis_ref"]
        fromState = row["from_state"]; toState = row["to_state"]; actor = row["actor"]; message = row["message"]
    }
}

enum JSONColumn {
    static func encode<T: Encodable>(_ value: T?) throws -> String? {
        guard let value else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
