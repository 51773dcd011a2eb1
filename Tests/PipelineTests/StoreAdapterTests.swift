import Foundation
import Testing
import Store
@testable import Pipeline

/// The same pipeline over the real Store (SQLite through GRDB): the adapter honours the contract.
@Suite struct StoreAdapterTests {
    @Test func processesDuplicatesLateInstancesAndPriorsThroughTheRealStore() async throws {
        let ws = try Workspace()
        let store = ws.store.store
        try ws.drop(FakeInstance.make(study: "1.9.1", sop: "1.9.1.1", date: "20200320", grades: [3, 2, 2, 2, 2, 2]), as: "a/new.dcm")
        try ws.drop(FakeInstance.make(study: "1.9.1", sop: "1.9.1.9", ineligible: "lateral view"), as: "a/lat.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.isClean)
        #expect(s1.studiesProcessed == 1)
        #expect(try store.job(studyInstanceUID: "1.9.1")?.state == .done)

        // An older exam of the same patient arrives later; then the first exam is re-delivered.
        try ws.drop(FakeInstance.make(study: "1.9.0", sop: "1.9.0.1", date: "20200305", grades: [1, 1, 1, 1, 0, 0]), as: "b/old.dcm")
        try ws.drop(FakeInstance.make(study: "1.9.1", sop: "1.9.1.1", date: "20200320", grades: [3, 2, 2, 2, 2, 2]), as: "a/new.dcm")
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        #expect(s2.duplicatesIgnored == 1)
        // The older exam arrived after 1.9.1 was reported: 1.9.1's report is re-issued once (amended, v2).
        #expect(try store.analyses(studyInstanceUID: "1.9.1").map(\.version) == [1, 2])
        #expect(try store.analyses(studyInstanceUID: "1.9.0").map(\.version) == [1])
        // Trend by date, not arrival: old (4) then new (13), delta +9.
        let trend = try store.trend(patientID: "P1")
        #expect(trend.exams.map(\.studyInstanceUID) == ["1.9.0", "1.9.1"])
        #expect(trend.exams.last?.delta == 9)
        #expect(Set(try store.alerts(studyInstanceUID: "1.9.1").map(\.rule)) == ["global>=12", "rise>=3"])

        // A late instance re-analyses the study as version 3, with the old exam as prior.
        try ws.drop(FakeInstance.make(study: "1.9.1", sop: "1.9.1.2", date: "20200320", grades: [3, 3, 2, 2, 2, 2],
                                      acquisition: "20200320120000"), as: "a/late.dcm")
        let s3 = try await ws.runner().runOnce()
        #expect(s3.isClean)
        #expect(try store.analyses(studyInstanceUID: "1.9.1").map(\.version) == [1, 2, 3])
        #expect(ws.outputs().contains("brixia_1.9.1_v2.sr.json") && ws.outputs().contains("brixia_1.9.1_v3.sr.json"))
        let outputs = try store.outputs(analysisID: try #require(try store.analyses(studyInstanceUID: "1.9.1").last).id)
        #expect(outputs.map(\.kind).sorted() == ["SC", "SR"])
        #expect(ws.inboxFiles().isEmpty)
    }

    @Test(arguments: ProcessingStep.allCases)
    func crashAtEveryStepThroughTheRealStore(step: ProcessingStep) async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "4.4", sop: "4.4.1", grades: [2, 1, 0, 0, 1, 2]), as: "k/1.dcm")
        let crashing = ws.runner()
        crashing.engine.interruptCheck = { $0 == step }
        await #expect(throws: ProcessingInterrupted.self) { _ = try await crashing.runOnce() }
        // A new process: new store connection, same database file.
        let ws2 = ws.reopened()
        let s = try await ws2.runner().runOnce()
        #expect(s.isClean)
        // Recovery's path: re-queued before anything was staged, the staged result finished after.
        #expect(s.recovered == ([.claimed, .scored].contains(step) ? [.requeued(study: "4.4")] : [.finishedStaged(study: "4.4")]), "\(step)")
        let store = ws2.store.store
        #expect(try store.analyses(studyInstanceUID: "4.4").map(\.version) == [1])
        #expect(try store.job(studyInstanceUID: "4.4")?.state == .done)
        #expect(ws.outputs() == ["brixia_4.4_v1.sc.json", "brixia_4.4_v1.sr.json"])
        #expect(ws.files(ws.config.archive) == ["4.4/1.dcm"])
        #expect(ws.inboxFiles().isEmpty)
    }

    @Test func failedJobWaitsForRetryDelayThenSucceeds() async throws {
        let ws = try Workspace()
        try Data("in the way".utf8).write(to: ws.config.outbox)
        try ws.drop(FakeInstance.make(study: "7.7", sop: "7.7.1"), as: "o.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesFailed == 1)
        let store = ws.store
        #expect(try store.job(studyInstanceUID: "7.7")?.state == .queued)
        #expect(try store.job(studyInstanceUID: "7.7")?.lastError?.contains("Not a directory") == true)
        let now = ws.clock
        #expect(try store.claimNext(now: now, retryBefore: now.addingTimeInterval(59), excluding: []) == nil)
        try FileManager.default.removeItem(at: ws.config.outbox)
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        #expect(try store.job(studyInstanceUID: "7.7")?.state == .done)
    }
}
