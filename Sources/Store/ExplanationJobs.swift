import Foundation
import GRDB

/// States of an explanation job (Schemas/0010_explanation_jobs.sql). Legal moves are `allowedTransitions`;
/// anything else throws `StoreError.explanationTransition`.
public enum ExplanationJobState: String, Sendable, Codable, CaseIterable {
    case queued, running, done, failed

    public static let allowedTransitions: [ExplanationJobState: Set<ExplanationJobState>] = [
        .queued: [.running, .done, .failed],
        // running -> queued: the worker ended without a result, or the pipeline stopped while it ran.
        .running: [.done, .queued, .failed],
        .failed: [.queued],
        .done: [],
    ]
}

/// Why an explanation job is queued again or failed.
public enum ExplanationFailureKind: String, Sendable, Codable, CaseIterable {
    /// The worker exited without a result: retried up to maxAttempts launches.
    case workerFailed = "worker-failed"
    /// The pipeline stopped while the worker ran: retried up to maxAttempts launches.
    case crash
    /// The worker said the image cannot be explained, or the job folder is gone: failed at once.
    case permanent
    /// maxAttempts launches without a result.
    case exhausted
    /// Set aside by an older brixia, which recorded no kind.
    case unrecorded
}

public struct ExplanationJobRecord: Sendable, Equatable, Codable {
    public var id: Int64
    public var analysisID: Int64
    public var studyInstanceUID: String
    public var version: Int
    /// Folder name under the explanation root.
    public var folder: String
    public var state: ExplanationJobState
    public var attempts: Int
    public var failureKind: ExplanationFailureKind?
    public var lastError: String?
    /// The worker process of the latest launch (to stop a stale one after a restart).
    public var workerPID: Int32?
    public var queuedAt: Date
    public var updatedAt: Date
}

/// Counts per state and the latest failures, for `brixia status`.
public struct ExplanationQueueStatus: Sendable, Equatable, Codable {
    /// Every state, zero included.
    public var counts: [String: Int]
    /// Failed jobs and jobs queued again after a failure, most recent first.
    public var failures: [ExplanationJobRecord]
}

extension BrixiaStore {
    static let explanationColumns = """
        SELECT e.*, s.study_uid, a.version FROM explanation_jobs e
        JOIN analyses a ON a.id = e.analysis_ref JOIN studies s ON s.id = a.study_ref
        """

    /// Queues the explanation of a stored analysis in `folder` (a name under the explanation root).
    /// Idempotent: an analysis has at most one job; asking again returns it unchanged.
    @discardableResult
    public func enqueueExplanation(studyInstanceUID: String, version: Int, folder: String, attempts: Int = 0,
                                   now: Date = Date()) throws -> ExplanationJobRecord {
        guard !folder.isEmpty, !folder.contains("/"), folder != ".", folder != ".." else {
            throw StoreError.invalidInput(field: "explanation folder", reason: "'\(folder)' is not a plain name")
        }
        return try pool.write { db in
            guard let analysis = try Int64.fetchOne(db, sql: """
                SELECT a.id FROM analyses a JOIN studies s ON s.id = a.study_ref WHERE s.study_uid = ? AND a.version = ?
                """, arguments: [studyInstanceUID, version]) else {
                throw StoreError.invalidInput(field: "analysis", reason: "study \(studyInstanceUID) has no analysis version \(version)")
            }
            if let existing = try Self.explanationJob(db, where: "e.analysis_ref = ?", [analysis]) { return existing }
            try db.execute(sql: """
                INSERT INTO explanation_jobs (analysis_ref, folder, state, attempts, queued_at, updated_at)
                VALUES (?, ?, 'queued', ?, ?, ?)
                """, arguments: [analysis, folder, max(0, attempts), now, now])
            let id = db.lastInsertedRowID
            try Self.auditExplanation(db, id: id, analysis: analysis, at: now, from: nil, to: .queued, actor: nil, message: "queued")
            return try Self.explanationJob(db, where: "e.id = ?", [id])!
        }
    }

    /// Jobs in the given states, oldest first.
    public func explanationJobs(states: [ExplanationJobState]) throws -> [ExplanationJobRecord] {
        guard !states.isEmpty else { return [] }
        return try pool.read { db in
            let marks = databaseQuestionMarks(count: states.count)
            return try Row.fetchAll(db, sql: Self.explanationColumns + " WHERE e.state IN (\(marks)) ORDER BY e.id",
                                    arguments: StatementArguments(states.map(\.rawValue))).map(Self.explanationRecord)
        }
    }

    /// The job kept in `folder`, if any.
    public func explanationJob(folder: String) throws -> ExplanationJobRecord? {
        try pool.read { db in try Self.explanationJob(db, where: "e.folder = ?", [folder]) }
    }

    /// queued -> running before a worker is launched: counts the attempt.
    @discardableResult
    public func startExplanation(id: Int64, now: Date = Date()) throws -> ExplanationJobRecord {
        try explanationTransition(id: id, to: .running, now: now, message: "worker launched") { db in
            try db.execute(sql: "UPDATE explanation_jobs SET attempts = attempts + 1, worker_pid = NULL WHERE id = ?", arguments: [id])
        }
    }

    /// The launched worker's process id (only while running).
    public func setExplanationWorker(id: Int64, pid: Int32) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE explanation_jobs SET worker_pid = ? WHERE id = ? AND state = 'running'", arguments: [pid, id])
            if db.changesCount == 0 {
                let state = try String.fetchOne(db, sql: "SELECT state FROM explanation_jobs WHERE id = ?", arguments: [id])
                throw StoreError.explanationTransition(id: id, from: state ?? "absent", to: "running")
            }
        }
    }

    /// running -> queued or failed: the worker ended without a result (`workerFailed`), the pipeline stopped
    /// while it ran (`crash`), or the job cannot be explained (`permanent`, failed at once). A retried kind
    /// fails as `exhausted` once `maxAttempts` launches are used up. Returns the job after the change.
    @discardableResult
    public func explanationFailed(id: Int64, kind: ExplanationFailureKind, error: String, maxAttempts: Int,
                                  now: Date = Date()) throws -> ExplanationJobRecord {
        try pool.write { db in
            guard let job = try Self.explanationJob(db, where: "e.id = ?", [id]) else {
                throw StoreError.explanationTransition(id: id, from: "absent", to: "failed")
            }
            let retried = kind == .workerFailed || kind == .crash
            let finalKind: ExplanationFailureKind = retried && job.attempts >= maxAttempts ? .exhausted : kind
            let next: ExplanationJobState = finalKind == kind && retried ? .queued : .failed
            try Self.moveExplanation(db, job, to: next, now: now, actor: nil, message: "\(finalKind.rawValue): \(error)")
            try db.execute(sql: "UPDATE explanation_jobs SET failure_kind = ?, last_error = ? WHERE id = ?",
                           arguments: [finalKind.rawValue, error, id])
            return try Self.explanationJob(db, where: "e.id = ?", [id])!
        }
    }

    /// -> done once the outputs are recorded and published.
    public func completeExplanation(id: Int64, now: Date = Date()) throws {
        try explanationTransition(id: id, to: .done, now: now, message: "published") { _ in }
    }

    /// failed -> queued with a fresh count of attempts (the operator fixed the cause). Returns the jobs.
    @discardableResult
    public func retryFailedExplanations(actor: String, now: Date = Date()) throws -> [ExplanationJobRecord] {
        try pool.write { db in
            let failed = try Row.fetchAll(db, sql: Self.explanationColumns + " WHERE e.state = 'failed' ORDER BY e.id")
                .map(Self.explanationRecord)
            for job in failed {
                try Self.moveExplanation(db, job, to: .queued, now: now, actor: actor, message: "retry")
                try db.execute(sql: "UPDATE explanation_jobs SET attempts = 0, worker_pid = NULL WHERE id = ?", arguments: [job.id])
            }
            return failed
        }
    }

    /// Counts per state and the 20 latest jobs that failed or are queued again after a failure.
    public func explanationStatus() throws -> ExplanationQueueStatus {
        try pool.read { db in
            var counts = Dictionary(uniqueKeysWithValues: ExplanationJobState.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM explanation_jobs GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            let failures = try Row.fetchAll(db, sql: Self.explanationColumns + """
                 WHERE e.failure_kind IS NOT NULL AND e.state IN ('failed', 'queued') ORDER BY e.updated_at DESC, e.id DESC LIMIT 20
                """).map(Self.explanationRecord)
            return ExplanationQueueStatus(counts: counts, failures: failures)
        }
    }

    /// The audit trail of one explanation job, oldest first.
    public func explanationHistory(id: Int64) throws -> [EventRecord] {
        try pool.read { db in
            try EventRecord.fetchAll(db, sql: "SELECT * FROM events WHERE kind = 'explanation' AND explanation_ref = ? ORDER BY id",
                                     arguments: [id])
        }
    }

    @discardableResult
    private func explanationTransition(id: Int64, to: ExplanationJobState, now: Date, message: String,
                                       _ body: (Database) throws -> Void) throws -> ExplanationJobRecord {
        try pool.write { db in
            guard let job = try Self.explanationJob(db, where: "e.id = ?", [id]) else {
                throw StoreError.explanationTransition(id: id, from: "absent", to: to.rawValue)
            }
            try Self.moveExplanation(db, job, to: to, now: now, actor: nil, message: message)
            try body(db)
            return try Self.explanationJob(db, where: "e.id = ?", [id])!
        }
    }

    static func moveExplanation(_ db: Database, _ job: ExplanationJobRecord, to: ExplanationJobState, now: Date,
                                actor: String?, message: String) throws {
        guard ExplanationJobState.allowedTransitions[job.state]?.contains(to) == true else {
            throw StoreError.explanationTransition(id: job.id, from: job.state.rawValue, to: to.rawValue)
        }
        try db.execute(sql: "UPDATE explanation_jobs SET state = ?, updated_at = ? WHERE id = ?", arguments: [to.rawValue, now, job.id])
        try auditExplanation(db, id: job.id, analysis: job.analysisID, at: now, from: job.state, to: to, actor: actor, message: message)
    }

    static func auditExplanation(_ db: Database, id: Int64, analysis: Int64, at: Date, from: ExplanationJobState?,
                                 to: ExplanationJobState, actor: String?, message: String) throws {
        try db.execute(sql: """
            INSERT INTO events (at, kind, explanation_ref, analysis_ref, study_ref, from_state, to_state, actor, message)
            VALUES (?, 'explanation', ?, ?, (SELECT study_ref FROM analyses WHERE id = ?), ?, ?, ?, ?)
            """, arguments: [at, id, analysis, analysis, from?.rawValue, to.rawValue, actor, message])
    }

    static func explanationJob(_ db: Database, where condition: String, _ args: [DatabaseValueConvertible]) throws -> ExplanationJobRecord? {
        try Row.fetchOne(db, sql: explanationColumns + " WHERE " + condition, arguments: StatementArguments(args))
            .map(explanationRecord)
    }

    /// A row as a record; a state or kind this program does not know is an error, not a guess.
    static func explanationRecord(_ r: Row) throws -> ExplanationJobRecord {
        let id: Int64 = r["id"]
        let state = try r.required(ExplanationJobState.self, "state", table: "explanation_jobs")
        let kind = try r.known(ExplanationFailureKind.self, "failure_kind", table: "explanation_jobs")
        return ExplanationJobRecord(id: id, analysisID: r["analysis_ref"], studyInstanceUID: r["study_uid"], version: r["version"],
                                    folder: r["folder"], state: state, attempts: r["attempts"], failureKind: kind,
                                    lastError: r["last_error"], workerPID: (r["worker_pid"] as Int64?).map { Int32(truncatingIfNeeded: $0) },
                                    queuedAt: r["queued_at"], updatedAt: r["updated_at"])
    }
}
