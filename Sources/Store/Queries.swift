import BrixiaDomain
import Foundation
import GRDB

/// One line of `brixia studies`. No patient name (lists go to terminals and logs).
public struct StudySummary: Codable, Equatable, Sendable {
    public let studyInstanceUID: String
    public let patientID: String
    public let issuer: String
    /// ISO 8601 date (and time when known); null when the study is undated.
    public let date: String?
    public let accessionNumber: String?
    public let description: String?
    public let instances: Int
    public let eligibleInstances: Int
    public let state: JobState?
    public let attempts: Int?
    public let latestVersion: Int?
    public let global: Int?
    public let updatedAt: Date
    /// The reason when the study's latest result is "not scored" (issue #14 item 3); nil otherwise.
    public var notScoredReason: String? = nil
    /// The job's last error while it is failed or quarantined (why it has no current result); nil otherwise.
    public var failureReason: String? = nil
    /// The latest analysis's study confidence (nil: none recorded) and status (`ok`, `low-confidence`).
    public var confidence: Double? = nil
    public var analysisStatus: AnalysisStatus? = nil
}

/// `brixia show`: everything stored about one study.
public struct StudyDetail: Codable, Sendable {
    public struct AnalysisDetail: Codable, Sendable {
        public let analysis: AnalysisRecord
        public let analysedInstance: String?
        public let outputs: [OutputRecord]
        public let alerts: [AlertRecord]
    }
    public let patient: PatientRecord
    public let study: StudyRecord
    public let date: String?
    public let series: [SeriesRecord]
    public let instances: [InstanceRecord]
    public let analyses: [AnalysisDetail]
    public let job: JobRecord?
    public let history: [EventRecord]
    /// Results that were not scored (the image failed the image-content check), oldest first.
    public var notScored: [NotScoredDetail] = []
}

/// `brixia status`: queue depth per state, failures, last processed study.
public struct QueueStatus: Codable, Equatable, Sendable {
    public struct Failure: Codable, Equatable, Sendable {
        public let studyInstanceUID: String
        public let state: JobState
        public let attempts: Int
        public let lastError: String?
        public let updatedAt: Date
        /// transient, deterministic or crash (nil for rows from before migration 0003).
        public let failureKind: FailureKind?
    }
    public struct LastProcessed: Codable, Equatable, Sendable {
        public let studyInstanceUID: String
        public let finishedAt: Date
        public let version: Int?
        public let global: Int?
    }
    /// A file set aside at intake (unreadable, not eligible, not a regular file, poison study input).
    public struct QuarantinedFile: Codable, Equatable, Sendable {
        public let at: Date
        /// Path relative to the inbox, as it was received.
        public let file: String
        public let reason: String
    }
    /// Every state, zero included.
    public let counts: [String: Int]
    public let failures: [Failure]
    public let lastProcessed: LastProcessed?
    /// Files quarantined so far (all time) and the most recent ones.
    public let quarantinedFiles: Int
    public let recentQuarantine: [QuarantinedFile]
    /// A study whose latest result is "not scored", with the reason (issue #14 item 3).
    public struct NotScoredStudy: Codable, Equatable, Sendable {
        public let studyInstanceUID: String
        public let at: Date
        public let reason: String
    }
    /// Studies whose latest result is "not scored" (all time), and the most recent ones.
    public var notScoredStudies: Int = 0
    public var recentNotScored: [NotScoredStudy] = []
}

extension BrixiaStore {
    /// Studies, most recent first. `since` is a day ("YYYY-MM-DD" or "YYYYMMDD") compared with the
    /// study date (undated studies are then left out); `state` filters on the job state.
    public func studies(since: String? = nil, state: JobState? = nil, limit: Int? = nil) throws -> [StudySummary] {
        var conditions = [String]()
        var arguments: StatementArguments = []
        if let since {
            guard let key = DicomDateKey.key(day: since) else {
                throw StoreError.invalidInput(field: "--since", reason: "'\(since)' is not a date (YYYY-MM-DD)")
            }
            conditions.append("s.sort_key >= ?")
            arguments += [key]
        }
        if let state {
            conditions.append("j.state = ?")
            arguments += [state.rawValue]
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limitClause = limit.map { " LIMIT \(max(0, $0))" } ?? ""
        return try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.study_uid, s.sort_key, s.accession_number, s.description, s.updated_at,
                       p.patient_id, p.issuer, j.state, j.attempts, j.updated_at AS job_updated, j.last_error,
                       (SELECT COUNT(*) FROM instances i WHERE i.study_ref = s.id) AS n,
                       (SELECT COUNT(*) FROM instances i WHERE i.study_ref = s.id AND i.eligible) AS n_eligible,
                       a.version, a.global_score, \(Self.latestNotScoredReasonSQL) AS not_scored_reason,
                       a.confidence, a.status AS analysis_status
                FROM studies s
                JOIN patients p ON p.id = s.patient_ref
                LEFT JOIN jobs j ON j.study_ref = s.id
                LEFT JOIN analyses a ON a.study_ref = s.id
                      AND a.version = (SELECT MAX(version) FROM analyses WHERE study_ref = s.id)
                \(whereClause)
                ORDER BY s.sort_key IS NULL, s.sort_key DESC, s.study_uid\(limitClause)
                """, arguments: arguments).map { row in
                let stateText: String? = row["state"]
                let studyUpdated: Date = row["updated_at"]
                let jobUpdated: Date? = row["job_updated"]
                let analysisStatus: String? = row["analysis_status"]
                var summary = StudySummary(studyInstanceUID: row["study_uid"], patientID: row["patient_id"], issuer: row["issuer"],
                                    date: DicomDateKey.display(row["sort_key"]), accessionNumber: row["accession_number"],
                                    description: row["description"], instances: row["n"], eligibleInstances: row["n_eligible"],
                                    state: stateText.flatMap(JobState.init(rawValue:)), attempts: row["attempts"],
                                    latestVersion: row["version"], global: row["global_score"],
                                    updatedAt: max(studyUpdated, jobUpdated ?? studyUpdated))
                summary.notScoredReason = row["not_scored_reason"]
                if summary.state == .failed || summary.state == .quarantined { summary.failureReason = row["last_error"] }
                summary.confidence = row["confidence"]
                summary.analysisStatus = analysisStatus.flatMap(AnalysisStatus.init(rawValue:))
                return summary
            }
        }
    }

    public func studyDetail(studyInstanceUID uid: String) throws -> StudyDetail {
        try pool.read { db in
            guard let ref = try Int64.fetchOne(db, sql: "SELECT id FROM studies WHERE study_uid = ?", arguments: [uid]) else {
                throw StoreError.unknownStudy(uid)
            }
            let assembly = try assembly(db, studyRef: ref)
            let analyses = try AnalysisRecord.fetchAll(db, sql: "SELECT * FROM analyses WHERE study_ref = ? ORDER BY version",
                                                       arguments: [ref])
            let details = try analyses.map { analysis in
                StudyDetail.AnalysisDetail(
                    analysis: analysis,
                    analysedInstance: assembly.instances.first { $0.id == analysis.instanceRef }?.sopInstanceUID,
                    outputs: try OutputRecord.fetchAll(db, sql: "SELECT * FROM outputs WHERE analysis_ref = ? ORDER BY id",
                                                       arguments: [analysis.id]),
                    alerts: try AlertRecord.fetchAll(db, sql: "SELECT * FROM alerts WHERE analysis_ref = ? ORDER BY id",
                                                     arguments: [analysis.id]))
            }
            let job = try JobRecord.fetchOne(db, sql: JobRecord.selectSQL + " WHERE jobs.study_ref = ?", arguments: [ref])
            let history = try EventRecord.fetchAll(db, sql: "SELECT * FROM events WHERE study_ref = ? ORDER BY id",
                                                   arguments: [ref])
            var detail = StudyDetail(patient: assembly.patient, study: assembly.study, date: assembly.study.date,
                                     series: assembly.series, instances: assembly.instances, analyses: details, job: job,
                                     history: history)
            detail.notScored = try notScoredDetails(db, studyRef: ref, instances: assembly.instances)
            return detail
        }
    }

    public func queueStatus(maxFailures: Int = 20) throws -> QueueStatus {
        try pool.read { db in
            var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            let failures = try Row.fetchAll(db, sql: JobRecord.selectSQL + """
                 WHERE jobs.state IN ('failed', 'quarantined') ORDER BY jobs.updated_at DESC LIMIT ?
                """, arguments: [maxFailures]).map { row in
                let job = try JobRecord(row: row)
                return QueueStatus.Failure(studyInstanceUID: job.studyInstanceUID, state: job.state, attempts: job.attempts,
                                           lastError: job.lastError, updatedAt: job.updatedAt, failureKind: job.failureKind)
            }
            let last = try Row.fetchOne(db, sql: """
                SELECT s.study_uid, j.finished_at,
                       (SELECT MAX(version) FROM analyses WHERE study_ref = s.id) AS version,
                       (SELECT global_score FROM analyses WHERE study_ref = s.id ORDER BY version DESC LIMIT 1) AS global_score
                FROM jobs j JOIN studies s ON s.id = j.study_ref
                WHERE j.state = 'done' ORDER BY j.finished_at DESC LIMIT 1
                """).map { row in
                QueueStatus.LastProcessed(studyInstanceUID: row["study_uid"], finishedAt: row["finished_at"],
                                          version: row["version"], global: row["global_score"])
            }
            let quarantined = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE kind = 'file-quarantined'") ?? 0
            let recent = try Row.fetchAll(db, sql: """
                SELECT at, actor, message FROM events WHERE kind = 'file-quarantined' ORDER BY id DESC LIMIT ?
                """, arguments: [maxFailures]).map { row in
                QueueStatus.QuarantinedFile(at: row["at"], file: row["actor"] ?? "", reason: row["message"] ?? "")
            }
            var status = QueueStatus(counts: counts, failures: failures, lastProcessed: last, quarantinedFiles: quarantined,
                                     recentQuarantine: recent)
            let notScored = try Row.fetchAll(db, sql: """
                SELECT s.study_uid, ns.created_at, ns.reason FROM not_scored ns JOIN studies s ON s.id = ns.study_ref
                WHERE ns.version > COALESCE((SELECT MAX(version) FROM analyses WHERE study_ref = s.id), 0)
                  AND ns.version = (SELECT MAX(version) FROM not_scored WHERE study_ref = s.id)
                ORDER BY ns.created_at DESC
                """)
            status.notScoredStudies = notScored.count
            status.recentNotScored = notScored.prefix(maxFailures).map {
                QueueStatus.NotScoredStudy(studyInstanceUID: $0["study_uid"], at: $0["created_at"], reason: $0["reason"])
            }
            return status
        }
    }
}

/// JSON as printed by the commands: pretty, keys sorted (Linux Foundation does not keep declaration order), ISO 8601 dates.
public enum StoreJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension BrixiaStore {
    /// Records a file the pipeline set aside (the event log keeps it; `status` lists them). The
    /// inbox-relative path goes in `actor`, the reason in `message`; neither holds a patient name.
    public func recordQuarantinedFile(_ relativePath: String, reason: String, now: Date = Date()) throws {
        try pool.write { db in
            try EventLog.append(db, at: now, kind: "file-quarantined", actor: relativePath, message: reason)
        }
    }
}
