import BrixiaDomain
import Foundation
import Testing
@testable import Store

@Suite struct JobStateTests {
    @Test func transitionTable() {
        #expect(JobState.received.canTransition(to: .queued))
        #expect(JobState.queued.canTransition(to: .processing))
        #expect(JobState.processing.canTransition(to: .done))
        #expect(JobState.done.canTransition(to: .queued))
        #expect(!JobState.received.canTransition(to: .done))
        #expect(!JobState.received.canTransition(to: .processing))
        #expect(!JobState.queued.canTransition(to: .done))
        #expect(!JobState.done.canTransition(to: .processing))
        #expect(!JobState.failed.canTransition(to: .done))
        #expect(!JobState.queued.canTransition(to: .queued))
        // Every state can leave somewhere; nothing goes back to received.
        for state in JobState.allCases {
            #expect(!(JobState.allowedTransitions[state] ?? []).isEmpty)
            #expect(!state.canTransition(to: .received))
        }
    }

    @Test func illegalTransitionsAreRejected() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        // received -> quarantined is legal, but received -> processing via claim never happens: claim only sees queued.
        #expect(try temp.store.claimNextJob(owner: "w", now: Fixture.t0) == nil)
        try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        #expect(throws: StoreError.illegalTransition(study: "1.1", from: .queued, to: .queued)) {
            try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        }
        let jobID = try #require(try temp.store.job(studyInstanceUID: "1.1")).id
        // Completing a job nobody claimed.
        #expect(throws: StoreError.self) {
            try temp.store.completeJob(jobID: jobID, owner: "w", analysis: Fixture.analysis(sop: nil, grades: [0, 0, 0, 0, 0, 0]))
        }
        let claimed = try #require(try temp.store.claimNextJob(owner: "w", now: Fixture.t0))
        #expect(throws: StoreError.illegalTransition(study: "1.1", from: .processing, to: .queued)) {
            try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        }
        #expect(throws: StoreError.leaseLost(study: "1.1", owner: "intruder")) {
            try temp.store.failJob(jobID: claimed.job.id, owner: "intruder", error: "x", retryable: false)
        }
        #expect(throws: StoreError.illegalTransition(study: "1.1", from: .processing, to: .quarantined)) {
            try temp.store.quarantine(studyInstanceUID: "1.1", reason: "no owner given")
        }
        try temp.store.completeJob(jobID: claimed.job.id, owner: "w",
                                   analysis: Fixture.analysis(sop: "1.1.1.1", grades: [0, 0, 0, 0, 0, 0]), now: Fixture.t0)
        #expect(throws: StoreError.illegalTransition(study: "1.1", from: .done, to: .failed)) {
            try temp.store.failJob(jobID: claimed.job.id, owner: "w", error: "late", retryable: false)
        }
        #expect(throws: StoreError.unknownStudy("9.9")) { try temp.store.enqueue(studyInstanceUID: "9.9") }
        // Illegal attempts left the job as it was.
        #expect(try temp.store.job(studyInstanceUID: "1.1")?.state == .done)
    }

    @Test func analysisVersionsAreNeverDuplicated() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        #expect(throws: (any Error).self) {
            try temp.store.pool.write { db in
                let ref = try Int64.fetchOne(db, sql: "SELECT id FROM studies")!
                for _ in 0..<2 {
                    try db.execute(sql: """
                        INSERT INTO analyses (study_ref, version, model_name, model_version, weights_sha256, zone_a, zone_b,
                            zone_c, zone_d, zone_e, zone_f, global_score, status, created_at)
                        VALUES (?, 1, 'm', 'v', 'w', 0, 0, 0, 0, 0, 0, 0, 'ok', CURRENT_TIMESTAMP)
                        """, arguments: [ref])
                }
            }
        }
    }

    @Test func retryableFailureRequeuesUntilMaxAttempts() throws {
        let temp = try TempStore(configuration: StoreConfiguration(maxAttempts: 2))
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        let first = try #require(try temp.store.claimNextJob(owner: "w", now: Fixture.t0))
        let afterFirst = try temp.store.failJob(jobID: first.job.id, owner: "w", error: "disk full", retryable: true, now: Fixture.t0)
        #expect(afterFirst.state == .queued)
        #expect(afterFirst.attempts == 1)
        #expect(afterFirst.lastError == "disk full")
        #expect(afterFirst.failureKind == .transient)
        // Back-off: retryDelay (60 s) after the first failure, doubled after each further one.
        #expect(afterFirst.retryAt == Fixture.t0.addingTimeInterval(60))
        #expect(try temp.store.claimNextJob(owner: "w", now: Fixture.t0.addingTimeInterval(59)) == nil)
        let second = try #require(try temp.store.claimNextJob(owner: "w", now: Fixture.t0.addingTimeInterval(60)))
        #expect(second.job.attempts == 2)
        let afterSecond = try temp.store.failJob(jobID: second.job.id, owner: "w", error: "disk full", retryable: true)
        #expect(afterSecond.state == .failed)
        // Failed is final until an operator re-queues it.
        #expect(try temp.store.claimNextJob(owner: "w", now: .distantFuture) == nil)
        #expect(try temp.store.retryFailed(actor: "test").map(\.studyInstanceUID) == ["1.1"])
        #expect(try temp.store.job(studyInstanceUID: "1.1")?.attempts == 0)
        #expect(throws: StoreError.self) { try temp.store.retryFailed(studyInstanceUID: "1.1", actor: "test") }
    }

    @Test func deterministicFailureQuarantinesAndThirdCrashIsPoison() throws {
        let temp = try TempStore(configuration: StoreConfiguration(maxAttempts: 5, maxCrashes: 3))
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        try temp.store.recordInstance(Fixture.instance(study: "2.2", sop: "2.2.1.1"), now: Fixture.t0)
        try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        let c = try #require(try temp.store.claimNextJob(owner: "w", now: Fixture.t0))
        let q = try temp.store.failJob(jobID: c.job.id, owner: "w", error: "UID '..' invalid", kind: .deterministic, now: Fixture.t0)
        #expect(q.state == .quarantined && q.failureKind == .deterministic)

        try temp.store.enqueue(studyInstanceUID: "2.2", now: Fixture.t0)
        for crash in 1...3 {
            _ = try #require(try temp.store.claimNextJob(owner: "w\(crash)", now: Fixture.t0))
            let r = try temp.store.recoverAbandonedJobs(scope: .all, now: Fixture.t0)
            #expect(r.first?.job.crashes == crash)
            #expect(r.first?.job.state == (crash < 3 ? .queued : .quarantined))
        }
        let poison = try #require(try temp.store.job(studyInstanceUID: "2.2"))
        #expect(poison.failureKind == .crash)
        #expect(poison.lastError?.hasPrefix("poison") == true)
        let status = try temp.store.queueStatus()
        #expect(status.counts["quarantined"] == 2)
        #expect(Set(status.failures.compactMap(\.failureKind)) == [.crash, .deterministic])
    }

    @Test func crashRecoveryRequeuesAndCountsAttempts() throws {
        let lease: TimeInterval = 60
        let temp = try TempStore(configuration: StoreConfiguration(maxAttempts: 2, leaseDuration: lease))
        let store = temp.store
        try store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        try store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        _ = try #require(try store.claimNextJob(owner: "dead-worker", now: Fixture.t0))

        // Lease still valid: not touched.
        #expect(try store.recoverAbandonedJobs(now: Fixture.t0.addingTimeInterval(lease / 2)).isEmpty)

        let t1 = Fixture.t0.addingTimeInterval(lease + 1)
        let recovered = try store.recoverAbandonedJobs(now: t1)
        #expect(recovered.count == 1)
        #expect(recovered[0].previousOwner == "dead-worker")
        #expect(recovered[0].job.state == .queued)
        #expect(recovered[0].job.attempts == 1)
        #expect(recovered[0].job.owner == nil)

        // The dead worker cannot complete any more.
        let jobID = recovered[0].job.id
        #expect(throws: StoreError.leaseLost(study: "1.1", owner: "dead-worker")) {
            try store.completeJob(jobID: jobID, owner: "dead-worker", analysis: Fixture.analysis(sop: nil, grades: [0, 0, 0, 0, 0, 0]))
        }

        // Second claim dies too: attempts reach the maximum, so recovery marks it failed.
        let again = try #require(try store.claimNextJob(owner: "worker-2", now: t1))
        #expect(again.job.attempts == 2)
        let final = try store.recoverAbandonedJobs(scope: .owner("worker-2"), now: t1)
        #expect(final.map(\.job.state) == [.failed])
        #expect(final[0].job.lastError?.contains("worker-2") == true)
        let history = try store.studyDetail(studyInstanceUID: "1.1").history.filter { $0.kind == "transition" }
        #expect(history.map(\.toState) == ["queued", "processing", "queued", "processing", "failed"])
    }

    @Test func recoveryScopeAllTakesUnexpiredClaims() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        _ = try temp.store.claimNextJob(owner: "previous-run", now: Fixture.t0)
        #expect(try temp.store.recoverAbandonedJobs(now: Fixture.t0).isEmpty)
        #expect(try temp.store.recoverAbandonedJobs(scope: .all, now: Fixture.t0).map(\.job.state) == [.queued])
    }

    @Test func settledStudiesAreQueued() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        try temp.store.recordInstance(Fixture.instance(study: "2.2", sop: "2.2.1.1"), now: Fixture.t0.addingTimeInterval(100))
        let queued = try temp.store.enqueueSettledStudies(lastInstanceBefore: Fixture.t0.addingTimeInterval(50),
                                                          now: Fixture.t0.addingTimeInterval(110))
        #expect(queued.map(\.studyInstanceUID) == ["1.1"])
        #expect(try temp.store.jobs(in: .received).map(\.studyInstanceUID) == ["2.2"])
    }

    @Test func quarantineAndRelease() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1", eligible: false), now: Fixture.t0)
        let q = try temp.store.quarantine(studyInstanceUID: "1.1", reason: "no eligible image", now: Fixture.t0)
        #expect(q.state == .quarantined)
        #expect(q.lastError == "no eligible image")
        let released = try temp.store.enqueue(studyInstanceUID: "1.1", actor: "operator", now: Fixture.t0)
        #expect(released.state == .queued)
    }
}
