import BrixiaDomain
import Foundation
import Testing
@testable import Store

/// The one exam-ordering rule (ExamOrder), batch claiming in that order, and amendments queued when an
/// earlier exam is reported after a later one.
@Suite struct ExamOrderTests {
    private func o(_ date: String?, t time: String? = nil, acq: [String?] = [], _ uid: String) -> ExamOrder {
        ExamOrder(studyDate: date, studyTime: time, acquisitionDateTimes: acq, studyInstanceUID: uid)
    }

    @Test func studyDateThenAcquisitionThenUID() {
        // StudyDate/Time first.
        #expect(o("20200301", t: "235959", "9") < o("20200302", t: "000000", "1"))
        // No StudyDate: the earliest acquisition dates the exam.
        let acquisitionOnly = o(nil, acq: ["20200305083000+0100", "20200304120000"], "2")
        #expect(acquisitionOnly.day == "20200304")
        #expect(o("20200303", "1") < acquisitionOnly && acquisitionOnly < o("20200305", "3"))
        // Same day, no StudyTime: the acquisition time decides, not the UID.
        #expect(o("20200301", acq: ["20200301080000"], "9") < o("20200301", acq: ["20200301170000"], "1"))
        // Nothing else differs: the Study Instance UID (text order).
        #expect(o("20200301", "1.2.10") < o("20200301", "1.2.9"))
        // Undated exams come after every dated one and are not dated.
        #expect(o("20991231", "9") < o(nil, "1"))
        #expect(!o(nil, "1").isDated && o(nil, "1").day == nil)
        // Malformed dates count as absent.
        #expect(!o("2020-13-01", "1").isDated)
    }

    @Test func trendAndPriorsFollowTheRuleOnSameDayStudies() throws {
        let temp = try TempStore()
        // Same StudyDate, no StudyTime: the acquisition time orders them (the UIDs would say the opposite).
        try Fixture.scoredStudy(temp.store, study: "S9", date: "20200301", time: nil, acquisition: "20200301080000",
                                grades: [1, 0, 0, 0, 0, 0])
        try Fixture.scoredStudy(temp.store, study: "S1", date: "20200301", time: nil, acquisition: "20200301170000",
                                grades: [2, 0, 0, 0, 0, 0])
        #expect(try temp.store.trend(patientID: "P1").exams.map(\.studyInstanceUID) == ["S9", "S1"])
        #expect(try temp.store.priorAnalysis(studyInstanceUID: "S1")?.study.studyInstanceUID == "S9")
        #expect(try temp.store.priorStudies(studyInstanceUID: "S9").isEmpty)
    }

    /// A batch takes a patient's exams in date order whatever order they were queued in; other
    /// patients keep first-in first-out.
    @Test func claimTakesThePatientsEarliestExamFirst() throws {
        let temp = try TempStore()
        let s = temp.store
        for (study, patient, date) in [("P1-D35", "P1", "20200405"), ("P2-D9", "P2", "20200101"),
                                       ("P1-D7", "P1", "20200308"), ("P1-D0", "P1", "20200301")] {
            try s.recordInstance(Fixture.instance(patient: patient, study: study, date: date, sop: study + ".1"), now: Fixture.t0)
            try s.enqueue(studyInstanceUID: study, now: Fixture.t0)
        }
        var order: [String] = []
        while let c = try s.claimNextJob(owner: "w", now: Fixture.t0) {
            order.append(c.job.studyInstanceUID)
            _ = try s.completeJob(jobID: c.job.id, owner: "w", analysis: Fixture.analysis(sop: nil, grades: [0, 0, 0, 0, 0, 0]),
                                  now: Fixture.t0)
        }
        #expect(order == ["P1-D0", "P1-D7", "P1-D35", "P2-D9"])
    }

    /// A patient's later exam is not claimed while an earlier one is still arriving (received, not yet
    /// queued): its report would name the wrong prior. Other patients are not held up.
    @Test func aLaterExamWaitsWhileAnEarlierOneOfThePatientIsStillArriving() throws {
        let temp = try TempStore()
        let s = temp.store
        try s.recordInstance(Fixture.instance(patient: "P1", study: "P1-D35", date: "20200405", sop: "P1-D35.1"), now: Fixture.t0)
        try s.enqueue(studyInstanceUID: "P1-D35", now: Fixture.t0)
        try s.recordInstance(Fixture.instance(patient: "P2", study: "P2-D9", date: "20200101", sop: "P2-D9.1"), now: Fixture.t0)
        try s.enqueue(studyInstanceUID: "P2-D9", now: Fixture.t0)
        // Still in its quiet period: recorded, not queued.
        try s.recordInstance(Fixture.instance(patient: "P1", study: "P1-D0", date: "20200301", sop: "P1-D0.1"), now: Fixture.t0)
        let first = try #require(try s.claimNextJob(owner: "w", now: Fixture.t0))
        #expect(first.job.studyInstanceUID == "P2-D9")
        _ = try s.completeJob(jobID: first.job.id, owner: "w", analysis: Fixture.analysis(sop: nil, grades: [0, 0, 0, 0, 0, 0]), now: Fixture.t0)
        #expect(try s.claimNextJob(owner: "w", now: Fixture.t0) == nil, "P1-D35 must wait for P1-D0")
        try s.enqueue(studyInstanceUID: "P1-D0", now: Fixture.t0)
        #expect(try s.claimNextJob(owner: "w", now: Fixture.t0)?.job.studyInstanceUID == "P1-D0")
    }

    /// Runs the claimed study to done the way the pipeline does: its report names the store's prior.
    @discardableResult
    private func report(_ s: BrixiaStore, _ study: String, grades: [Int]) throws -> JobCompletion {
        let c = try #require(try s.claimNextJob(owner: "w", now: Fixture.t0))
        #expect(c.job.studyInstanceUID == study)
        var a = try Fixture.analysis(sop: nil, grades: grades)
        a.reportedPrior = try s.priorAnalysis(studyInstanceUID: study).map { .study($0.study.studyInstanceUID) } ?? .none
        return try s.completeJob(jobID: c.job.id, owner: "w", analysis: a, now: Fixture.t0)
    }

    private func arrive(_ s: BrixiaStore, _ study: String, _ date: String) throws {
        try s.recordInstance(Fixture.instance(study: study, date: date, sop: study + ".1"), now: Fixture.t0)
        try s.enqueue(studyInstanceUID: study, now: Fixture.t0)
    }

    /// Three exams delivered in reverse date order: each later exam is queued for an amended report
    /// exactly once, and only when the prior its report named changed.
    @Test func lateEarlierExamQueuesTheNextExamOnce() throws {
        let temp = try TempStore()
        let s = temp.store
        try arrive(s, "D35", "20200405")
        #expect(try report(s, "D35", grades: [2, 2, 2, 1, 1, 1]).amendmentQueued == nil)

        try arrive(s, "D7", "20200308")
        #expect(try report(s, "D7", grades: [1, 1, 1, 1, 1, 1]).amendmentQueued == "D35")
        #expect(try s.job(studyInstanceUID: "D35")?.state == .queued)
        // The amended D35 now names D7: nothing after it is stale.
        #expect(try report(s, "D35", grades: [2, 2, 2, 1, 1, 1]).amendmentQueued == nil)
        #expect(try s.analyses(studyInstanceUID: "D35").last?.priorAnalysisRef == s.analyses(studyInstanceUID: "D7").last?.id)

        try arrive(s, "D0", "20200301")
        #expect(try report(s, "D0", grades: [0, 0, 0, 0, 0, 0]).amendmentQueued == "D7")
        // D7 re-issued with the same grades: D35's prior (D7, same grades) still holds, so D35 is not re-issued again.
        #expect(try report(s, "D7", grades: [1, 1, 1, 1, 1, 1]).amendmentQueued == nil)
        #expect(try s.claimNextJob(owner: "w", now: Fixture.t0) == nil)
        #expect(try s.analyses(studyInstanceUID: "D0").count == 1)
        #expect(try s.analyses(studyInstanceUID: "D7").count == 2)
        #expect(try s.analyses(studyInstanceUID: "D35").count == 2)
        let events = try s.studyDetail(studyInstanceUID: "D35").history.filter { $0.kind == "amendment-queued" }
        #expect(events.count == 1)
    }

    /// A re-analysis of the prior that changes its grades makes the next report's change wrong: re-issued.
    /// Analyses recorded without their prior (`.unknown`, or before migration 0005) are never amended.
    @Test func changedPriorGradesQueueAnAmendmentUnknownPriorsDoNot() throws {
        let temp = try TempStore()
        let s = temp.store
        try arrive(s, "A", "20200301")
        try report(s, "A", grades: [1, 1, 1, 1, 1, 1])
        try arrive(s, "B", "20200310")
        try report(s, "B", grades: [2, 2, 2, 2, 2, 2])
        try s.enqueue(studyInstanceUID: "A", now: Fixture.t0)   // e.g. a late instance
        #expect(try report(s, "A", grades: [1, 1, 1, 1, 1, 0]).amendmentQueued == "B")
        try report(s, "B", grades: [2, 2, 2, 2, 2, 2])

        try arrive(s, "L", "20200601")
        let c = try #require(try s.claimNextJob(owner: "w", now: Fixture.t0))
        _ = try s.completeJob(jobID: c.job.id, owner: "w", analysis: Fixture.analysis(sop: nil, grades: [0, 0, 0, 0, 0, 0]),
                              now: Fixture.t0)   // reportedPrior .unknown
        try arrive(s, "K", "20200501")
        #expect(try report(s, "K", grades: [3, 0, 0, 0, 0, 0]).amendmentQueued == nil)
    }
}
