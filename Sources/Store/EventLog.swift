import BrixiaDomain
import Foundation
import GRDB

/// Appends to the audit log inside the caller's transaction. Messages never contain patient names.
enum EventLog {
    static func append(_ db: Database, at: Date, kind: String, study: Int64? = nil, job: Int64? = nil,
                       instance: Int64? = nil, analysis: Int64? = nil, from: JobState? = nil, to: JobState? = nil,
                       actor: String? = nil, message: String? = nil) throws {
        try db.execute(sql: """
            INSERT INTO events (at, kind, study_ref, job_ref, instance_ref, analysis_ref, from_state, to_state, actor, message)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [at, kind, study, job, instance, analysis, from?.rawValue, to?.rawValue, actor, message])
    }
}
