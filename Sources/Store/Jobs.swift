import BrixiaDomain
import Foundation
import GRDB

/// A job handed to a worker, with everything needed to process the study.
public struct ClaimedJob: Sendable {
    public let job: JobRecord
    public let assembly: StudyAssembly
}

/// What `completeJob` stored.
public struct JobCompletion: Sendable {
    public let analysis: AnalysisRecord
    public let outputs: [OutputRecord]
    /// Alerts newly recorded for this patient (this exam, or a later exam whose prior changed).
    public let newAlerts: [AlertRecord]
    /// The job went back to `queued` because new content arrived while it was processed.
    public let requeued: Bool
    /// The later exam whose report this analysis made stale, queued to be re-issued (amended).
    public let amendmentQueued: String?
}

public struct RecoveredJob: Sendable, Equatable {
    public let job: JobRecord
    public let previousOwner: String?
}

/// Which `processing` jobs `recoverAbandonedJobs` treats as abandoned.
public enum RecoveryScope: Sendable, Equatable {
    /// Claims whose lease has expired (any owner).
    case expiredLeases
    /// All claims of one owner known to be dead (e.g. this daemon's previous run), lease or not.
    case owner(String)
    /// Every claim: for a single-worker deployment starting up, when no other worker can be alive.
    case all
}

extension BrixiaStore {
    // MARK: reading

    public func job(studyInstanceUID uid: String) throws -> JobRecord? {
        try pool.read { db in
            try JobRecord.fetchOne(db, sql: JobRecord.selectSQL + " WHERE studies.study_uid = ?", arguments: [uid])
        }
    }

    public func jobs(in state: JobState) throws -> [JobRecord] {
        try pool.read { db in
            try JobRecord.fetchAll(db, sql: JobRecord.selectSQL + " WHERE jobs.state = ? ORDER BY jobs.queued_at, jobs.id",
                                   arguments: [state.rawValue])
        }
    }

    // MARK: transitions

    /// Moves a study's job to `queued`: from `received` (study assembled), or from done/failed/quarantined
    /// (manual re-run; attempts restart at 0). Other states throw `illegalTransition`.
    @discardableResult
    public func enqueue(studyInstanceUID uid: String, actor: String = "pipeline", reason: String? = nil,
                        now: Date = Date()) throws -> JobRecord {
        try pool.write { db in
            let job = try jobForStudy(db, uid: uid)
            // processing -> queued belongs to recovery and retries only: never take a job from a live worker.
            guard job.state != .processing else {
                throw StoreError.illegalTransition(study: uid, from: .processing, to: .queued)
            }
            try transition(db, job: job, to: .queued, now: now, actor: actor, message: reason ?? "enqueued",
                           resetAttempts: job.state != .received)
            return try jobForStudy(db, studyRef: job.studyRef)
        }
    }

    /// Queues every `received` study whose last instance arrived before `cutoff` (the study is considered
    /// complete once no instance arrived for a while). Returns the queued jobs.
    @discardableResult
    public func enqueueSettledStudies(lastInstanceBefore cutoff: Date, now: Date = Date()) throws -> [JobRecord] {
        try pool.write { db in
            let jobs = try JobRecord.fetchAll(db, sql: JobRecord.selectSQL + """
                 WHERE jobs.state = 'received'
                   AND (SELECT MAX(updated_at) FROM instances WHERE instances.study_ref = jobs.study_ref) < ?
                 ORDER BY jobs.id
                """, arguments: [cutoff])
            return try jobs.map { job in
                try transition(db, job: job, to: .queued, now: now, actor: "pipeline", message: "study settled")
                return try jobForStudy(db, studyRef: job.studyRef)
            }
        }
    }

    /// Atomically claims the oldest queued job for `owner` (attempts +1, lease set) and returns it with
    /// its study. Jobs waiting out a back-off (`retry_at` after `retryBefore`, default `now`) are
    /// skipped. Nil when nothing can be claimed.
    /// `excluding` skips studies by UID (`run --once` does not retry within the run what failed in it).
    public func claimNextJob(owner: String, now: Date = Date(), retryBefore: Date? = nil,
                             excluding: Set<String> = []) throws -> ClaimedJob? {
        try pool.write { db in
            let skip = excluding.sorted()
            let marks = skip.isEmpty ? "" : " AND studies.study_uid NOT IN (" + skip.map { _ in "?" }.joined(separator: ",") + ")"
            var args: [any DatabaseValueConvertible] = [retryBefore ?? now]
            args += skip
            let claimable = JobRecord.selectSQL + """
                 WHERE jobs.state = 'queued' AND (jobs.retry_at IS NULL OR jobs.retry_at <= ?)\(marks)
                """
            // First in, first out across patients; within the patient of that job, the earliest exam
            // (`ExamOrder`) first, so that a batch never reports a later exam before its prior. A patient
            // whose earlier exam is still arriving (received, quiet period not over) waits for it: it
            // is queued within one quiet period, and reporting now would name the wrong prior.
            var job: JobRecord?
            var skippedPatients = Set<Int64>()
            for candidate in try JobRecord.fetchAll(db, sql: claimable + " ORDER BY jobs.queued_at, jobs.id",
                                                    arguments: StatementArguments(args)) {
                guard let patient = try Int64.fetchOne(db, sql: "SELECT patient_ref FROM studies WHERE id = ?",
                                                       arguments: [candidate.studyRef]),
                      !skippedPatients.contains(patient) else { continue }
                let earliest = try earliestExamOfSamePatient(db, as: candidate, claimable: claimable, arguments: args)
                if try earlierExamStillArriving(db, patient: patient, than: earliest.studyRef) {
                    skippedPatients.insert(patient)
                    continue
                }
                job = earliest
                break
            }
            guard let job else { return nil }
            try transition(db, job: job, to: .processing, now: now, actor: owner, message: "claimed", owner: owner)
            let claimed = try jobForStudy(db, studyRef: job.studyRef)
            return ClaimedJob(job: claimed, assembly: try assembly(db, studyRef: job.studyRef))
        }
    }

    /// True when the patient has a study in `received` (instances still arriving) dated before `studyRef`.
    private func earlierExamStillArriving(_ db: Database, patient: Int64, than studyRef: Int64) throws -> Bool {
        guard let order = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE id = ?", arguments: [studyRef])?.order
        else { return false }
        let arriving = try StudyRecord.fetchAll(db, sql: """
            SELECT studies.* FROM studies JOIN jobs ON jobs.study_ref = studies.id
            WHERE studies.patient_ref = ? AND jobs.state = 'received' AND studies.id != ?
            """, arguments: [patient, studyRef])
        return arriving.contains { $0.order < order }
    }

    private func earliestExamOfSamePatient(_ db: Database, as job: JobRecord, claimable: String,
                                           arguments: [any DatabaseValueConvertible]) throws -> JobRecord {
        let samePatient = try JobRecord.fetchAll(db, sql: claimable + """
             AND studies.patient_ref = (SELECT patient_ref FROM studies WHERE id = ?)
            """, arguments: StatementArguments(arguments + [job.studyRef]))
        guard samePatient.count > 1 else { return job }
        var orders: [Int64: ExamOrder] = [:]
        for j in samePatient {
            orders[j.studyRef] = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE id = ?", arguments: [j.studyRef])!.order
        }
        return samePatient.min { orders[$0.studyRef]! < orders[$1.studyRef]! } ?? job
    }

    /// Re-queues failed jobs on an operator's request (`brixia retry`): attempts and crash counts
    /// restart. Only `failed` jobs qualify; the returned list names the studies queued.
    @discardableResult
    public func retryFailed(studyInstanceUID uid: String? = nil, actor: String, now: Date = Date()) throws -> [JobRecord] {
        try pool.write { db in
            let jobs: [JobRecord]
            if let uid {
                let job = try jobForStudy(db, uid: uid)
                guard job.state == .failed else {
                    throw StoreError.illegalTransition(study: uid, from: job.state, to: .queued)
                }
                jobs = [job]
            } else {
                jobs = try JobRecord.fetchAll(db, sql: JobRecord.selectSQL + " WHERE jobs.state = 'failed' ORDER BY jobs.id")
            }
            return try jobs.map { job in
                try transition(db, job: job, to: .queued, now: now, actor: actor, message: "retry requested by \(actor)",
                               resetAttempts: true)
                return try jobForStudy(db, studyRef: job.studyRef)
            }
        }
    }

    /// Extends the claim of a long-running job.
    @discardableResult
    public func renewLease(jobID: Int64, owner: String, now: Date = Date()) throws -> JobRecord {
        try pool.write { db in
            let job = try ownedJob(db, jobID: jobID, owner: owner, intended: .processing)
            try db.execute(sql: "UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE id = ?",
                           arguments: [now.addingTimeInterval(configuration.leaseDuration), now, job.id])
            return try jobForStudy(db, studyRef: job.studyRef)
        }
    }

    /// Stores the analysis (next version for the study) and its outputs, evaluates alert rules for the
    /// patient, and moves the job to `done` (or back to `queued` when new content arrived meanwhile):
    /// all in one transaction.
    public func completeJob(jobID: Int64, owner: String, analysis: NewAnalysis, outputs: [NewOutput] = [],
                            now: Date = Date()) throws -> JobCompletion {
        try pool.write { db in
            let job = try ownedJob(db, jobID: jobID, owner: owner, intended: .done)
            let stored = try insertAnalysis(db, studyRef: job.studyRef, analysis: analysis, now: now)
            let storedOutputs = try insertOutputs(db, analysisRef: stored.id, outputs: outputs, now: now)
            try EventLog.append(db, at: now, kind: "analysis-recorded", study: job.studyRef, job: job.id,
                                analysis: stored.id, actor: owner,
                                message: "version \(stored.version), global \(stored.global), model \(analysis.model.name) \(analysis.model.version)")
            try transition(db, job: job, to: .done, now: now, actor: owner, message: "analysis version \(stored.version)")
            var requeued = false
            if job.rerunRequested {
                try transition(db, job: try jobForStudy(db, studyRef: job.studyRef), to: .queued, now: now,
                               actor: owner, message: "new content arrived while processing", resetAttempts: true)
                requeued = true
            }
            let patientRef = try Int64.fetchOne(db, sql: "SELECT patient_ref FROM studies WHERE id = ?",
                                                arguments: [job.studyRef])!
            let amended = try queueAmendmentOfNextExam(db, after: stored, actor: owner, now: now)
            let alerts = try recordAlerts(db, patientRef: patientRef, now: now)
            return JobCompletion(analysis: stored, outputs: storedOutputs, newAlerts: alerts, requeued: requeued,
                                 amendmentQueued: amended)
        }
    }

    /// Records a processing failure of kind `kind`:
    /// - transient and retryable with attempts left: back to `queued`, not claimed before the back-off
    ///   (`StoreConfiguration.backoff`) has passed;
    /// - transient otherwise: `failed` (final until `retryFailed`);
    /// - deterministic: `quarantined` (the input cannot be processed; retrying cannot help).
    /// The error text is kept in `lastError`, the kind in `failureKind`.
    @discardableResult
    public func failJob(jobID: Int64, owner: String, error: String, kind: FailureKind = .transient,
                        retryable: Bool = true, now: Date = Date()) throws -> JobRecord {
        try pool.write { db in
            let job = try ownedJob(db, jobID: jobID, owner: owner, intended: .failed)
            if kind == .deterministic {
                try transition(db, job: job, to: .quarantined, now: now, actor: owner, message: error, lastError: error,
                               failureKind: .deterministic)
                return try jobForStudy(db, studyRef: job.studyRef)
            }
            let retry = retryable && job.attempts < configuration.maxAttempts
            if retry {
                let delay = configuration.backoff(afterAttempt: job.attempts)
                try transition(db, job: job, to: .queued, now: now, actor: owner,
                               message: "retry in \(Int(delay)) s after error: \(error)", lastError: error,
                               failureKind: kind, retryAt: now.addingTimeInterval(delay))
            } else {
                let why = retryable ? "; max attempts (\(configuration.maxAttempts)) reached" : ""
                try transition(db, job: job, to: .failed, now: now, actor: owner, message: error + why,
                               lastError: error, failureKind: kind)
            }
            return try jobForStudy(db, studyRef: job.studyRef)
        }
    }

    /// Sets a study aside for a human (unusable input). Allowed from received/queued, or from processing
    /// by the owning worker.
    @discardableResult
    public func quarantine(studyInstanceUID uid: String, reason: String, owner: String? = nil,
                           now: Date = Date()) throws -> JobRecord {
        try pool.write { db in
            var job = try jobForStudy(db, uid: uid)
            if job.state == .processing {
                guard let owner else { throw StoreError.illegalTransition(study: uid, from: .processing, to: .quarantined) }
                job = try ownedJob(db, jobID: job.id, owner: owner, intended: .quarantined)
            }
            try transition(db, job: job, to: .quarantined, now: now, actor: owner ?? "pipeline", message: reason,
                           lastError: reason, failureKind: .deterministic)
            return try jobForStudy(db, studyRef: job.studyRef)
        }
    }

    /// Crash recovery: `processing` jobs whose worker is gone go back to `queued` (attempts are kept,
    /// they were counted at claim time); a job that already used `maxAttempts` goes to `failed`.
    @discardableResult
    public func recoverAbandonedJobs(scope: RecoveryScope = .expiredLeases, now: Date = Date()) throws -> [RecoveredJob] {
        try pool.write { db in
            var sql = JobRecord.selectSQL + " WHERE jobs.state = 'processing'"
            var arguments: StatementArguments = []
            switch scope {
            case .expiredLeases:
                sql += " AND (jobs.lease_expires_at IS NULL OR jobs.lease_expires_at < ?)"
                arguments = [now]
            case .owner(let owner):
                sql += " AND jobs.owner = ?"
                arguments = [owner]
            case .all:
                break
            }
            let abandoned = try JobRecord.fetchAll(db, sql: sql + " ORDER BY jobs.id", arguments: arguments)
            return try abandoned.map { job in
                let crashes = job.crashes + 1
                let error = "worker \(job.owner ?? "?") stopped during attempt \(job.attempts)"
                if crashes >= configuration.maxCrashes {
                    // Poison: it keeps killing the worker; a human must look at it.
                    let why = "poison: the worker stopped \(crashes) times while processing this study (last: \(error))"
                    try transition(db, job: job, to: .quarantined, now: now, actor: "recovery", message: why,
                                   lastError: why, failureKind: .crash, crashes: crashes)
                } else if job.attempts >= configuration.maxAttempts {
                    try transition(db, job: job, to: .failed, now: now, actor: "recovery",
                                   message: "\(error); max attempts (\(configuration.maxAttempts)) reached",
                                   lastError: error, failureKind: .crash, crashes: crashes)
                } else {
                    try transition(db, job: job, to: .queued, now: now, actor: "recovery", message: error,
                                   lastError: error, failureKind: .crash, crashes: crashes)
                }
                return RecoveredJob(job: try jobForStudy(db, studyRef: job.studyRef), previousOwner: job.owner)
            }
        }
    }

    // MARK: internals

    func jobForStudy(_ db: Database, studyRef: Int64) throws -> JobRecord {
        guard let job = try JobRecord.fetchOne(db, sql: JobRecord.selectSQL + " WHERE jobs.study_ref = ?",
                                               arguments: [studyRef]) else {
            throw StoreError.unknownStudy("#\(studyRef)")
        }
        return job
    }

    func jobForStudy(_ db: Database, uid: String) throws -> JobRecord {
        guard let job = try JobRecord.fetchOne(db, sql: JobRecord.selectSQL + " WHERE studies.study_uid = ?",
                                               arguments: [uid]) else {
            throw StoreError.unknownStudy(uid)
        }
        return job
    }

    /// The job, if it is `processing` and claimed by `owner`.
    func ownedJob(_ db: Database, jobID: Int64, owner: String, intended: JobState) throws -> JobRecord {
        guard let job = try JobRecord.fetchOne(db, sql: JobRecord.selectSQL + " WHERE jobs.id = ?", arguments: [jobID]) else {
            throw StoreError.unknownJob(jobID)
        }
        guard job.state == .processing else {
            if job.owner == nil && job.state == .queued { throw StoreError.leaseLost(study: job.studyInstanceUID, owner: owner) }
            throw StoreError.illegalTransition(study: job.studyInstanceUID, from: job.state, to: intended)
        }
        guard job.owner == owner else { throw StoreError.leaseLost(study: job.studyInstanceUID, owner: owner) }
        return job
    }

    /// The only place job states change: validates the move, sets the columns that belong to the
    /// target state, and logs the transition.
    func transition(_ db: Database, job: JobRecord, to next: JobState, now: Date, actor: String?, message: String?,
                    resetAttempts: Bool = false, owner: String? = nil, lastError: String? = nil,
                    failureKind: FailureKind? = nil, retryAt: Date? = nil, crashes: Int? = nil) throws {
        guard job.state.canTransition(to: next) else {
            throw StoreError.illegalTransition(study: job.studyInstanceUID, from: job.state, to: next)
        }
        var sets = ["state = :state", "updated_at = :now"]
        var arguments: [String: (any DatabaseValueConvertible)?] = ["state": next.rawValue, "now": now, "id": job.id]
        switch next {
        case .received:
            break
        case .queued:
            sets += ["queued_at = :now", "owner = NULL", "lease_expires_at = NULL", "finished_at = NULL",
                     "retry_at = :retryAt"]
            arguments.updateValue(retryAt, forKey: "retryAt")   // keeps the key when nil (subscript would drop it)
            if resetAttempts {
                sets += ["attempts = 0", "rerun_requested = 0", "crashes = 0", "failure_kind = NULL", "last_error = NULL"]
            }
        case .processing:
            sets += ["owner = :owner", "lease_expires_at = :lease", "attempts = attempts + 1", "started_at = :now",
                     "finished_at = NULL", "rerun_requested = 0"]
            arguments["owner"] = owner
            arguments["lease"] = now.addingTimeInterval(configuration.leaseDuration)
        case .done:
            sets += ["finished_at = :now", "owner = NULL", "lease_expires_at = NULL", "last_error = NULL",
                     "failure_kind = NULL", "crashes = 0"]
        case .failed, .quarantined:
            sets += ["finished_at = :now", "owner = NULL", "lease_expires_at = NULL"]
        }
        if let lastError {
            sets.append("last_error = :error")
            arguments["error"] = lastError
        }
        if let failureKind {
            sets.append("failure_kind = :kind")
            arguments["kind"] = failureKind.rawValue
        }
        if let crashes {
            sets.append("crashes = :crashes")
            arguments["crashes"] = crashes
        }
        try db.execute(sql: "UPDATE jobs SET \(sets.joined(separator: ", ")) WHERE id = :id",
                       arguments: StatementArguments(arguments))
        try EventLog.append(db, at: now, kind: "transition", study: job.studyRef, job: job.id, from: job.state,
                            to: next, actor: actor, message: message)
    }
}
