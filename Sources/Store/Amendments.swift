import Foundation
import GRDB

// When an exam is reported after a later exam of the same patient (it arrived late, or was
// re-analysed), the later exam's report names the wrong prior or the wrong change. The commit that
// makes it stale queues that exam again in the same transaction, so no crash can lose the amendment;
// the pipeline then re-issues its report under the usual record-then-publish protocol.

extension BrixiaStore {
    /// After `analysis` is stored: the patient's next exam in `ExamOrder` that already has a report is
    /// queued again when that report compared with another prior, or with other grades of this one.
    /// Returns its Study Instance UID, or nil when nothing became stale.
    func queueAmendmentOfNextExam(_ db: Database, after analysis: AnalysisRecord, actor: String,
                                  now: Date) throws -> String? {
        let study = try StudyRecord.fetchOne(db, sql: "SELECT * FROM studies WHERE id = ?", arguments: [analysis.studyRef])!
        guard study.order.isDated else { return nil }   // an undated exam is nobody's prior
        let later = try StudyRecord.fetchAll(db, sql: """
            SELECT * FROM studies WHERE patient_ref = ? AND sort_key IS NOT NULL AND id <> ?
            """, arguments: [study.patientRef, study.id])
            .filter { study.order < $0.order }
            .sorted { $0.order < $1.order }
        for next in later {
            // A study without an analysis is not an exam yet: it finds its prior when it is processed.
            guard let reported = try AnalysisRecord.fetchOne(db, sql: """
                SELECT * FROM analyses WHERE study_ref = ? ORDER BY version DESC LIMIT 1
                """, arguments: [next.id]) else { continue }
            guard try isStale(db, reported, expectedPrior: analysis) else { return nil }
            let job = try jobForStudy(db, studyRef: next.id)
            let why = "amendment: exam of \(study.date ?? "?") was reported after this one; its report is re-issued"
            switch job.state {
            case .done:
                try transition(db, job: job, to: .queued, now: now, actor: actor, message: why, resetAttempts: true)
            case .processing:
                try db.execute(sql: "UPDATE jobs SET rerun_requested = 1, updated_at = ? WHERE id = ?", arguments: [now, job.id])
            case .received, .queued:
                return nil   // its next run compares with the new prior anyway
            case .failed, .quarantined:
                return nil   // in an operator's hands; `brixia retry` re-runs it with the new prior
            }
            try EventLog.append(db, at: now, kind: "amendment-queued", study: next.id, job: job.id, analysis: reported.id,
                                actor: actor, message: why)
            return next.studyInstanceUID
        }
        return nil
    }

    /// Whether `reported` (the latest analysis of the next exam) compared with something other than
    /// `expectedPrior`. An analysis stored without its prior (before migration 0005, or by a caller that
    /// reports no priors) is never amended: what its report said is unknown.
    private func isStale(_ db: Database, _ reported: AnalysisRecord, expectedPrior: AnalysisRecord) throws -> Bool {
        guard reported.priorKnown else { return false }
        guard let ref = reported.priorAnalysisRef,
              let named = try AnalysisRecord.fetchOne(db, sql: "SELECT * FROM analyses WHERE id = ?", arguments: [ref]) else {
            return true   // it said "no prior exam"
        }
        return named.studyRef != expectedPrior.studyRef || named.zones != expectedPrior.zones
    }
}
