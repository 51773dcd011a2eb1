import Foundation
import Testing
@testable import Store

/// The explanation queue's state machine (Schemas/0010_explanation_jobs.sql): guarded, audited, bounded.
@Suite struct ExplanationJobsTests {
    let t0 = Fixture.t0

    @Test func aJobBelongsToAStoredAnalysisAndIsQueuedOnce() throws {
        let temp = try TempStore()
        try Fixture.scoredStudy(temp.store, study: "1.2.3", date: "20200301", grades: [1, 1, 1, 1, 1, 1])
        let a = try temp.store.enqueueExplanation(studyInstanceUID: "1.2.3", version: 1, folder: "abc-v1", now: t0)
        let b = try temp.store.enqueueExplanation(studyInstanceUID: "1.2.3", version: 1, folder: "other", now: t0)
        #expect(a == b && a.state == .queued && a.attempts == 0 && a.studyInstanceUID == "1.2.3" && a.version == 1)
        #expect(throws: StoreError.self) { try temp.store.enqueueExplanation(studyInstanceUID: "1.2.3", version: 2, folder: "x", now: t0) }
        #expect(throws: StoreError.self) { try temp.store.enqueueExplanation(studyInstanceUID: "9.9", version: 1, folder: "y", now: t0) }
        for bad in ["", "../up", "a/b", ".", ".."] {
            #expect(throws: StoreError.self) { try temp.store.enqueueExplanation(studyInstanceUID: "1.2.3", version: 1, folder: bad, now: t0) }
        }
    }

    @Test func failuresAreRetriedUpToMaxAttemptsThenFailedWithTheirKind() throws {
        let temp = try TempStore()
        let s = temp.store
        try Fixture.scoredStudy(s, study: "1.2.4", date: "20200301", grades: [1, 1, 1, 1, 1, 1])
        let job = try s.enqueueExplanation(studyInstanceUID: "1.2.4", version: 1, folder: "j", now: t0)
        #expect(try s.startExplanation(id: job.id, now: t0).attempts == 1)
        try s.setExplanationWorker(id: job.id, pid: 4242)
        var after = try s.explanationFailed(id: job.id, kind: .workerFailed, error: "status 1", maxAttempts: 2, now: t0)
        #expect(after.state == .queued && after.failureKind == .workerFailed && after.workerPID == 4242)
        // Only a running job can get a worker.
        #expect(throws: StoreError.explanationTransition(id: job.id, from: "queued", to: "running")) {
            try s.setExplanationWorker(id: job.id, pid: 1)
        }
        try s.startExplanation(id: job.id, now: t0)
        after = try s.explanationFailed(id: job.id, kind: .crash, error: "pipeline stopped", maxAttempts: 2, now: t0)
        #expect(after.state == .failed && after.failureKind == .exhausted && after.attempts == 2)
        #expect(try s.explanationStatus().counts == ["queued": 0, "running": 0, "done": 0, "failed": 1])
        #expect(try s.explanationStatus().failures.map(\.id) == [job.id])
        // A failed job does not run, and a finished one cannot go anywhere.
        #expect(throws: StoreError.explanationTransition(id: job.id, from: "failed", to: "running")) { try s.startExplanation(id: job.id, now: t0) }
        #expect(try s.retryFailedExplanations(actor: "ops", now: t0).map(\.id) == [job.id])
        #expect(try s.startExplanation(id: job.id, now: t0).attempts == 1)
        try s.completeExplanation(id: job.id, now: t0)
        #expect(throws: StoreError.explanationTransition(id: job.id, from: "done", to: "done")) { try s.completeExplanation(id: job.id, now: t0) }
        #expect(throws: StoreError.explanationTransition(id: job.id, from: "done", to: "failed")) {
            try s.explanationFailed(id: job.id, kind: .permanent, error: "late", maxAttempts: 2, now: t0)
        }
        let path = try s.explanationHistory(id: job.id).map { "\($0.fromState ?? "-")>\($0.toState ?? "-")" }
        #expect(path == ["->queued", "queued>running", "running>queued", "queued>running", "running>failed", "failed>queued",
                         "queued>running", "running>done"])
        #expect(try s.explanationHistory(id: job.id)[5].actor == "ops")
    }

    @Test func aPermanentFailureIsNotRetried() throws {
        let temp = try TempStore()
        try Fixture.scoredStudy(temp.store, study: "1.2.5", date: "20200301", grades: [0, 0, 0, 0, 0, 0])
        let job = try temp.store.enqueueExplanation(studyInstanceUID: "1.2.5", version: 1, folder: "k", now: t0)
        try temp.store.startExplanation(id: job.id, now: t0)
        let after = try temp.store.explanationFailed(id: job.id, kind: .permanent, error: "no lung", maxAttempts: 5, now: t0)
        #expect(after.state == .failed && after.failureKind == .permanent && after.lastError == "no lung")
    }
}
