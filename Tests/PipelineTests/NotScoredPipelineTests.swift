import Foundation
import Store
import Testing
@testable import Pipeline

/// Issue #14 item 3 through the pipeline (real SQLite store): an image that fails the image-content check is a
/// result: the study is done and "not scored" with the reason, one SR goes out (and to the PACS queue path like
/// any output), the input is archived (not quarantined), no alert fires and the next exam's prior skips it.
@Suite struct NotScoredPipelineTests {
    @Test func aFailedCheckIsRecordedReportedAndLeftOutOfPriorsAndAlerts() async throws {
        let ws = try Workspace()
        ws.config.alertRules = [try AlertRule(spec: "global>=1")]
        try ws.drop(FakeInstance.make(study: "7.1", sop: "7.1.1", date: "20200301", grades: [1, 0, 0, 0, 0, 0]), as: "a.dcm")
        var bad = FakeInstance.make(study: "7.2", sop: "7.2.1", date: "20200305", grades: [3, 3, 3, 3, 3, 3])
        bad.scorer = "qc-fail"
        try ws.drop(bad, as: "b.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.isClean, "\(s1.text)")
        #expect(s1.studiesNotScored == 1 && s1.studiesProcessed == 2 && s1.studiesQuarantined == 0)
        #expect(ws.files(ws.config.quarantine).isEmpty, "a failed check is not a quarantine")
        #expect(ws.inboxFiles().isEmpty, "the examined input is archived")

        let store = ws.store.store
        #expect(try store.job(studyInstanceUID: "7.2")?.state == .done)
        let ns = try store.notScored(studyInstanceUID: "7.2")
        #expect(ns.count == 1 && ns[0].reason == "image-content check failed: two lungs not found")
        #expect(try store.analyses(studyInstanceUID: "7.2").isEmpty, "no scores")
        let detail = try store.studyDetail(studyInstanceUID: "7.2")
        #expect(detail.notScored.first?.outputs.map(\.kind) == ["SR"], "only the not-performed SR")
        #expect(ws.outputs().filter { $0.contains("7.2") }.count == 1)
        #expect(try store.studies().first { $0.studyInstanceUID == "7.2" }?.notScoredReason != nil)
        // The scored exam's alert fired; the not-scored one has none and is not a trend point.
        #expect(try store.trend(patientID: "P1").exams.map(\.studyInstanceUID) == ["7.1"])

        // The next exam compares with 7.1, not with the not-scored 7.2.
        try ws.drop(FakeInstance.make(study: "7.3", sop: "7.3.1", date: "20200309", grades: [1, 1, 0, 0, 0, 0]), as: "c.dcm")
        #expect(try await ws.runner().runOnce().isClean)
        #expect(try store.priorAnalysis(studyInstanceUID: "7.3")?.study.studyInstanceUID == "7.1")
        #expect(try store.trend(patientID: "P1").exams.map(\.studyInstanceUID) == ["7.1", "7.3"])
    }

    /// A second image of the same study that passes is scored instead of reporting "not scored".
    @Test func anotherImageOfTheStudyThatPassesIsScored() async throws {
        let ws = try Workspace()
        var bad = FakeInstance.make(study: "6.1", sop: "6.1.1", date: "20200301")
        bad.scorer = "qc-fail"
        try ws.drop(bad, as: "a1.dcm")
        try ws.drop(FakeInstance.make(study: "6.1", sop: "6.1.2", date: "20200301"), as: "a2.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.isClean && s.studiesNotScored == 0)
        let store = ws.store.store
        #expect(try store.analyses(studyInstanceUID: "6.1").count == 1)
        #expect(try store.notScored(studyInstanceUID: "6.1").isEmpty)
    }

    /// The not-scored result goes through the same staging / manifest / rename / commit steps: a crash at any
    /// of them, then a restart, leaves exactly one not-scored result and one SR, the input archived.
    @Test(arguments: ProcessingStep.allCases)
    func crashAtEveryStepRecordsItExactlyOnce(step: ProcessingStep) async throws {
        let ws = try Workspace()
        var bad = FakeInstance.make(study: "5.1", sop: "5.1.1", date: "20200301")
        bad.scorer = "qc-fail"
        try ws.drop(bad, as: "a.dcm")
        let crashing = ws.runner()
        crashing.engine.interruptCheck = { $0 == step }
        await #expect(throws: ProcessingInterrupted.self) { _ = try await crashing.runOnce() }
        let s = try await ws.runner().runOnce()
        #expect(s.isClean, "\(s.text)")
        // Recovery's path: re-queued before anything was staged, the staged result finished after.
        #expect(s.recovered == ([.claimed, .scored].contains(step) ? [.requeued(study: "5.1")] : [.finishedStaged(study: "5.1")]), "\(step)")
        let store = ws.store.store
        #expect(try store.notScored(studyInstanceUID: "5.1").map(\.version) == [1])
        #expect(try store.analyses(studyInstanceUID: "5.1").isEmpty)
        #expect(ws.outputs() == ["brixia_5.1_v1.sr.json"])
        #expect(try store.studyDetail(studyInstanceUID: "5.1").notScored.first?.outputs.count == 1)
        #expect(ws.inboxFiles().isEmpty && ws.files(ws.config.quarantine).isEmpty)
        #expect(try store.job(studyInstanceUID: "5.1")?.state == .done)
    }
}
