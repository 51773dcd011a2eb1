import Foundation
import GRDB

/// One row of the console's audit log (migration 0007): a view of patient data or an operator action.
public struct AuditEntry: Codable, Equatable, Sendable {
    public let at: Date
    public let user: String
    public let role: String
    public let action: String
    public let patientID: String?
    public let studyInstanceUID: String?
    public let remote: String?
    public let detail: String?

    public init(at: Date = Date(), user: String, role: String, action: String, patientID: String? = nil,
                studyInstanceUID: String? = nil, remote: String? = nil, detail: String? = nil) {
        self.at = at; self.user = user; self.role = role; self.action = action; self.patientID = patientID
        self.studyInstanceUID = studyInstanceUID; self.remote = remote; self.detail = detail
    }
}

/// Small queries the web console needs beyond those of the command line.
extension BrixiaStore {
    public func recordAudit(_ e: AuditEntry) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO audit_log (at, user, role, action, patient_id, study_uid, remote, detail)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [e.at, e.user, e.role, e.action, e.patientID, e.studyInstanceUID, e.remote, e.detail])
        }
    }

    /// Most recent first.
    public func auditEntries(limit: Int = 100) throws -> [AuditEntry] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [max(0, limit)]).map { r in
                AuditEntry(at: r["at"], user: r["user"], role: r["role"], action: r["action"], patientID: r["patient_id"],
                           studyInstanceUID: r["study_uid"], remote: r["remote"], detail: r["detail"])
            }
        }
    }

    /// Studies whose latest analysis fired at least one alert.
    public func alertedStudyUIDs() throws -> Set<String> {
        try pool.read { db in
            Set(try String.fetchAll(db, sql: """
                SELECT DISTINCT s.study_uid FROM alerts al
                JOIN analyses a ON a.id = al.analysis_ref
                JOIN studies s ON s.id = a.study_ref
                WHERE a.version = (SELECT MAX(version) FROM analyses WHERE study_ref = s.id)
                """))
        }
    }

    /// Seconds from claim to completion of the most recently finished jobs (for latency histograms).
    public func finishedJobDurations(limit: Int = 10_000) throws -> [TimeInterval] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT started_at, finished_at FROM jobs
                WHERE state = 'done' AND started_at IS NOT NULL AND finished_at IS NOT NULL
                ORDER BY finished_at DESC LIMIT ?
                """, arguments: [max(0, limit)]).compactMap { r -> TimeInterval? in
                guard let s: Date = r["started_at"], let f: Date = r["finished_at"] else { return nil }
                return max(0, f.timeIntervalSince(s))
            }
        }
    }
}
