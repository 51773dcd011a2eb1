import Foundation
import Testing
@testable import Store

@Suite struct IngestTests {
    @Test func newStudyGetsAReceivedJob() throws {
        let temp = try TempStore()
        let result = try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        #expect(result.outcome == .new)
        #expect(result.studyIsNew)
        #expect(result.jobState == .received)
        let second = try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.2"), now: Fixture.t0)
        #expect(second.outcome == .new)
        #expect(!second.studyIsNew)
        #expect(second.studyID == result.studyID)
        let assembly = try temp.store.assembly(studyInstanceUID: "1.1")
        #expect(assembly.instances.map(\.sopInstanceUID) == ["1.1.1.1", "1.1.1.2"])
        #expect(assembly.patient.issuer == "HOSP")
        #expect(assembly.study.sortKey == "20200301101500.000000")
    }

    @Test func duplicateInstanceIsIgnored() throws {
        let temp = try TempStore()
        let item = Fixture.instance(study: "1.1", sop: "1.1.1.1")
        let first = try temp.store.recordInstance(item, now: Fixture.t0)
        let dup = try temp.store.recordInstance(item, now: Fixture.t0.addingTimeInterval(5))
        #expect(dup.outcome == .duplicate)
        #expect(dup.instanceID == first.instanceID)
        #expect(!dup.requeued)
        let instances = try temp.store.assembly(studyInstanceUID: "1.1").instances
        #expect(instances.count == 1)
        #expect(instances[0].revision == 1)
        let kinds = try temp.store.studyDetail(studyInstanceUID: "1.1").history.map(\.kind)
        #expect(kinds.contains("duplicate"))
    }

    @Test func redeliveryWithNewContentGivesAnalysisVersion2() throws {
        let temp = try TempStore()
        let first = try Fixture.scoredStudy(temp.store, study: "1.1", date: "20200301", grades: [1, 1, 1, 1, 1, 1])
        #expect(first.analysis.version == 1)

        var changed = Fixture.instance(study: "1.1", sop: "1.1.1.1", content: "corrected pixels")
        changed.filePath = "/inbox/corrected.dcm"
        let result = try temp.store.recordInstance(changed, now: Fixture.t0.addingTimeInterval(60))
        #expect(result.outcome == .contentChanged(revision: 2))
        #expect(result.requeued)
        #expect(result.jobState == .queued)

        let claimed = try #require(try temp.store.claimNextJob(owner: "w2", now: Fixture.t0.addingTimeInterval(61)))
        #expect(claimed.assembly.instances[0].revision == 2)
        #expect(claimed.assembly.instances[0].filePath == "/inbox/corrected.dcm")
        let second = try temp.store.completeJob(jobID: claimed.job.id, owner: "w2",
                                                analysis: Fixture.analysis(sop: "1.1.1.1", grades: [2, 2, 1, 1, 1, 1]),
                                                now: Fixture.t0.addingTimeInterval(62))
        #expect(second.analysis.version == 2)
        #expect(second.analysis.instanceRevision == 2)
        #expect(try temp.store.analyses(studyInstanceUID: "1.1").map(\.version) == [1, 2])
        // The trend uses the latest version.
        #expect(try temp.store.trend(patientID: "P1").exams.map(\.global) == [8])
    }

    @Test func lateInstanceRequeuesDoneStudy() throws {
        let temp = try TempStore()
        try Fixture.scoredStudy(temp.store, study: "1.1", date: "20200301", grades: [0, 0, 0, 0, 0, 0])
        let late = try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.7"), now: Fixture.t0.addingTimeInterval(30))
        #expect(late.outcome == .new)
        #expect(late.requeued)
        #expect(try temp.store.job(studyInstanceUID: "1.1")?.state == .queued)
        #expect(try temp.store.job(studyInstanceUID: "1.1")?.attempts == 0)
        #expect(try temp.store.nextAnalysisVersion(studyInstanceUID: "1.1") == 2)
    }

    @Test func ineligibleLateInstanceDoesNotRequeue() throws {
        let temp = try TempStore()
        try Fixture.scoredStudy(temp.store, study: "1.1", date: "20200301", grades: [0, 0, 0, 0, 0, 0])
        let late = try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.8", eligible: false),
                                                 now: Fixture.t0.addingTimeInterval(30))
        #expect(!late.requeued)
        #expect(late.jobState == .done)
        let stored = try temp.store.assembly(studyInstanceUID: "1.1").instances.first { $0.sopInstanceUID == "1.1.1.8" }
        #expect(stored?.eligible == false)
        #expect(stored?.eligibilityReason == "lateral view")
    }

    @Test func newContentDuringProcessingRerunsAfterCompletion() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        try temp.store.enqueue(studyInstanceUID: "1.1", now: Fixture.t0)
        let claimed = try #require(try temp.store.claimNextJob(owner: "w", now: Fixture.t0))
        let late = try temp.store.recordInstance(Fixture.instance(study: "1.1", sop: "1.1.1.2"), now: Fixture.t0)
        #expect(late.jobState == .processing)
        #expect(late.requeued)
        let done = try temp.store.completeJob(jobID: claimed.job.id, owner: "w",
                                              analysis: Fixture.analysis(sop: "1.1.1.1", grades: [1, 0, 0, 0, 0, 0]),
                                              now: Fixture.t0)
        #expect(done.requeued)
        #expect(try temp.store.job(studyInstanceUID: "1.1")?.state == .queued)
    }

    @Test func conflictingStudyPatientIsRejected() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(patient: "P1", study: "1.1", sop: "1.1.1.1"), now: Fixture.t0)
        #expect(throws: StoreError.self) {
            try temp.store.recordInstance(Fixture.instance(patient: "P2", study: "1.1", sop: "1.1.1.2"), now: Fixture.t0)
        }
        // The failed transaction left nothing behind.
        #expect(try temp.store.assembly(studyInstanceUID: "1.1").instances.count == 1)
    }

    @Test func invalidInputNamesTheFile() throws {
        let temp = try TempStore()
        var bad = Fixture.instance(study: "1.1", sop: "1.1.1.1")
        bad.contentSHA256 = "xyz"
        do {
            try temp.store.recordInstance(bad)
            Issue.record("expected an error")
        } catch let error as StoreError {
            #expect(error.description.contains("/inbox/1.1.1.1.dcm"))
        }
        var noUID = Fixture.instance(study: "", sop: "1.1.1.1")
        noUID.studyInstanceUID = "  "
        #expect(throws: StoreError.invalidInput(field: "StudyInstanceUID", reason: "empty (file /inbox/1.1.1.1.dcm)")) {
            try temp.store.recordInstance(noUID)
        }
    }
}
