import BrixiaDomain
import Foundation
import GRDB

/// A study examined but not scored (issue #14 item 3): the job finishes `done` with this result instead of
/// an analysis. Nothing here enters priors, trends or alerts (they read `analyses` only).
public struct NewNotScored: Sendable, Equatable {
    public enum Stage: String, Sendable, Codable { case eligibility, qualityCheck = "quality-check" }
    public var sopInstanceUID: String?
    public var stage: Stage
    public var reason: String
    /// The image-content check's measures, by name.
    public var qc: [String: Double]?
    public var model: ModelIdentity
    /// Provenance of the examined input (see `InputProvenance`), nil when unknown.
    public var provenance: InputProvenance?

    public init(sopInstanceUID: String?, stage: Stage, reason: String, qc: [String: Double]? = nil, model: ModelIdentity,
                provenance: InputProvenance? = nil) {
        self.sopInstanceUID = sopInstanceUID; self.stage = stage; self.reason = reason; self.qc = qc
        self.model = model
        self.provenance = provenance
    }
}

/// Where an analysed image came from and what was done to it before the network (issue #14 item 6).
public struct InputProvenance: Sendable, Equatable, Codable {
    public var transferSyntaxUID: String?
    /// Lossy Image Compression (0028,2110) "01", or a lossy transfer syntax.
    public var lossy: Bool
    public var lossyRatio: [Double]
    public var lossyMethod: [String]
    public var photometricInterpretation: String?
    /// MONOCHROME1 shown inverted (or Presentation LUT Shape INVERSE applied).
    public var inverted: Bool
    /// The VOI used to display: window, voiLUT, fullRange or minMax (docs/dicom-input.md section 3).
    public var voi: String?

    public init(transferSyntaxUID: String?, lossy: Bool, lossyRatio: [Double] = [], lossyMethod: [String] = [],
                photometricInterpretation: String?, inverted: Bool, voi: String?) {
        self.transferSyntaxUID = transferSyntaxUID; self.lossy = lossy; self.lossyRatio = lossyRatio
        self.lossyMethod = lossyMethod; self.photometricInterpretation = photometricInterpretation
        self.inverted = inverted; self.voi = voi
    }
}

public struct NotScoredRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let studyRef: Int64
    public let instanceRef: Int64?
    public let version: Int
    public let stage: String
    public let reason: String
    public let qc: [String: Double]?
    public let modelName: String
    public let modelVersion: String
    public let weightsSHA256: String
    public let provenance: InputProvenance?
    public let createdAt: Date

    public var model: ModelIdentity { ModelIdentity(name: modelName, version: modelVersion, weightsSHA256: weightsSHA256) }

    public init(row: Row) throws {
        id = row["id"]; studyRef = row["study_ref"]; instanceRef = row["instance_ref"]; version = row["version"]
        stage = row["stage"]; reason = row["reason"]
        qc = try JSONColumn.decode([String: Double].self, row["qc"])
        modelName = row["model_name"]; modelVersion = row["model_version"]; weightsSHA256 = row["weights_sha256"]
        provenance = try JSONColumn.decode(InputProvenance.self, row["input_provenance"])
        createdAt = row["created_at"]
    }
}

public struct NotScoredOutputRecord: Codable, Equatable, Sendable, FetchableRecord {
    public let id: Int64
    public let notScoredRef: Int64
    public let kind: String
    public let sopInstanceUID: String
    public let seriesInstanceUID: String?
    public let filePath: String
    public let createdAt: Date

    public init(row: Row) throws {
        id = row["id"]; notScoredRef = row["not_scored_ref"]; kind = row["kind"]
        sopInstanceUID = row["sop_instance_uid"]; seriesInstanceUID = row["series_uid"]
        filePath = row["file_path"]; createdAt = row["created_at"]
    }
}

/// `brixia show`: a not-scored result with its outputs.
public struct NotScoredDetail: Codable, Sendable, Equatable {
    public let result: NotScoredRecord
    public let examinedInstance: String?
    public let outputs: [NotScoredOutputRecord]
}

extension BrixiaStore {
    /// Stores a not-scored result and finishes the job (done, or queued again when content arrived meanwhile),
    /// in one transaction, like `completeJob`. No alert is evaluated.
    @discardableResult
    public func completeJobNotScored(jobID: Int64, owner: String, result: NewNotScored, outputs: [NewOutput] = [],
                                     now: Date = Date()) throws -> NotScoredRecord {
        try pool.write { db in
            let job = try ownedJob(db, jobID: jobID, owner: owner, intended: .done)
            guard !result.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw StoreError.invalidInput(field: "reason", reason: "empty")
            }
            var instanceRef: Int64?
            if let uid = result.sopInstanceUID {
                instanceRef = try Int64.fetchOne(db, sql: "SELECT id FROM instances WHERE sop_instance_uid = ? AND study_ref = ?",
                                                 arguments: [uid, job.studyRef])
            }
            let version = try nextVersion(db, studyRef: job.studyRef)
            try db.execute(sql: """
                INSERT INTO not_scored (study_ref, instance_ref, version, stage, reason, qc, model_name, model_version,
                    weights_sha256, input_provenance, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [job.studyRef, instanceRef, version, result.stage.rawValue, result.reason,
                                 try JSONColumn.encode(result.qc), result.model.name, result.model.version,
                                 result.model.weightsSHA256, try JSONColumn.encode(result.provenance), now])
            let id = db.lastInsertedRowID
            for o in outputs {
                guard !o.kind.isEmpty, !o.sopInstanceUID.isEmpty, !o.filePath.isEmpty else {
                    throw StoreError.invalidInput(field: "output", reason: "kind, SOP Instance UID and file path are required")
                }
                try db.execute(sql: """
                    INSERT INTO not_scored_outputs (not_scored_ref, kind, sop_instance_uid, series_uid, file_path, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [id, o.kind, o.sopInstanceUID, o.seriesInstanceUID, o.filePath, now])
            }
            try EventLog.append(db, at: now, kind: "not-scored", study: job.studyRef, job: job.id, actor: owner,
                                message: "version \(version): \(result.reason)")
            try transition(db, job: job, to: .done, now: now, actor: owner, message: "not scored (version \(version)): \(result.reason)")
            if job.rerunRequested {
                try transition(db, job: try jobForStudy(db, studyRef: job.studyRef), to: .queued, now: now,
                               actor: owner, message: "new content arrived while processing", resetAttempts: true)
            }
            return try NotScoredRecord.fetchOne(db, sql: "SELECT * FROM not_scored WHERE id = ?", arguments: [id])!
        }
    }

    /// All not-scored results of a study, oldest version first.
    public func notScored(studyInstanceUID uid: String) throws -> [NotScoredRecord] {
        try pool.read { db in
            try NotScoredRecord.fetchAll(db, sql: """
                SELECT not_scored.* FROM not_scored JOIN studies ON studies.id = not_scored.study_ref
                WHERE studies.study_uid = ? ORDER BY not_scored.version
                """, arguments: [uid])
        }
    }

    func notScoredDetails(_ db: Database, studyRef: Int64, instances: [InstanceRecord]) throws -> [NotScoredDetail] {
        try NotScoredRecord.fetchAll(db, sql: "SELECT * FROM not_scored WHERE study_ref = ? ORDER BY version",
                                     arguments: [studyRef]).map { r in
            NotScoredDetail(result: r, examinedInstance: instances.first { $0.id == r.instanceRef }?.sopInstanceUID,
                            outputs: try NotScoredOutputRecord.fetchAll(
                                db, sql: "SELECT * FROM not_scored_outputs WHERE not_scored_ref = ? ORDER BY id", arguments: [r.id]))
        }
    }

    /// The reason of a study's latest result when that result is not-scored (nil when it was scored or never
    /// processed).
    static let latestNotScoredReasonSQL = """
        (SELECT ns.reason FROM not_scored ns WHERE ns.study_ref = s.id
            AND ns.version > COALESCE((SELECT MAX(version) FROM analyses WHERE study_ref = s.id), 0)
            ORDER BY ns.version DESC LIMIT 1)
        """
}
