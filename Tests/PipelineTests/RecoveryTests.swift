import Foundation
import Testing
@testable import Pipeline

@Suite struct RecoveryTests {
    /// A crash (abandonment) after every durable step, then a restart: the study ends processed
    /// exactly once, with one complete set of outputs and every input archived.
    @Test(arguments: ProcessingStep.allCases)
    func crashAtEveryStepRecoversExactlyOnce(step: ProcessingStep) async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "K.1", sop: "K.1.1", grades: [2, 1, 0, 0, 1, 2]), as: "k/1.dcm")
        try ws.drop(FakeInstance.make(study: "K.1", sop: "K.1.2", ineligible: "lateral view"), as: "k/2.dcm")
        let crashing = ws.runner()
        crashing.engine.interruptCheck = { $0 == step }
        await #expect(throws: ProcessingInterrupted.self) { _ = try await crashing.runOnce() }

        let s = try await ws.runner().runOnce()
        #expect(s.isClean)
        // The path recovery took: before anything was staged the study is queued again and scored anew; from
        // the staged manifest on, the staged analysis is finished (never scored twice).
        let expected: [RecoveryAction] = [.claimed, .scored].contains(step) ? [.requeued(study: "K.1")] : [.finishedStaged(study: "K.1")]
        #expect(s.recovered == expected, "\(step)")
        #expect(ws.scorer.scored.count == (step == .scored ? 2 : 1))   // a claimed study was not scored yet
        #expect(ws.inboxFiles().isEmpty)
        #expect(try ws.analyses("K.1").map(\.version) == [1])
        #expect(ws.outputs() == ["brixia_K.1_v1.sc.json", "brixia_K.1_v1.sr.json"])
        #expect(ws.files(ws.config.archive) == ["K.1/1.dcm"])
        #expect((try ws.publishedOutputs("K.1"))?.map(\.fileName) == ["brixia_K.1_v1.sc.json", "brixia_K.1_v1.sr.json"])
        #expect(ws.files(ws.config.quarantine) == ["k/2.dcm", "k/2.dcm.reason.txt"])
        #expect(try ws.store.job(studyInstanceUID: "K.1")?.state == .done)
        #expect(ws.files(ws.config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName)).isEmpty)
        // Every published output is a complete document (the double writes the whole analysis).
        for name in ws.outputs() {
            let data = try Data(contentsOf: ws.config.outbox.appendingPathComponent(name))
            let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
            #expect(try dec.decode(StudyAnalysis.self, from: data).score.global == 6)
        }
    }

    @Test func restartAfterCrashRunsRecoveryTwiceSafely() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "T.1", sop: "T.1.1"), as: "t.dcm")
        let r1 = ws.runner()
        r1.engine.interruptCheck = { $0 == .publishedOne }
        await #expect(throws: ProcessingInterrupted.self) { _ = try await r1.runOnce() }
        let r2 = ws.runner()
        r2.engine.interruptCheck = { $0 == .committed }   // crash again, during recovery's publish
        await #expect(throws: ProcessingInterrupted.self) { _ = try await r2.runOnce() }
        let s = try await ws.runner().runOnce()
        #expect(s.isClean)
        #expect(try ws.analyses("T.1").count == 1)
        #expect(ws.outputs().count == 2)
        #expect(ws.files(ws.config.archive) == ["T.1/t.dcm"])
    }
}
