#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import Pipeline

@Suite struct FailureTests {
    @Test func unwritableOutboxFailsJobKeepsInputAndRetriesLater() async throws {
        let ws = try Workspace()
        // A regular file where the outbox folder should be: creating it fails (works as root too).
        try Data("in the way".utf8).write(to: ws.config.outbox)
        try ws.drop(FakeInstance.make(study: "O.1", sop: "O.1.1"), as: "o.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesFailed == 1)
        #expect(!s1.isClean)
        #expect(s1.failures.first?.contains("outbox") == true)
        #expect(ws.inboxFiles() == ["o.dcm"])                  // input kept
        let job = try #require(try ws.store.job(studyInstanceUID: "O.1"))
        #expect(job.state == .queued)                          // transient: waits out a back-off
        #expect(job.lastError?.contains("Not a directory") == true)

        // The daemon does not claim it before the back-off; the operator's next --once does.
        #expect(try ws.store.claimNext(now: ws.clock, retryBefore: ws.clock, excluding: []) == nil)
        try FileManager.default.removeItem(at: ws.config.outbox)
        let s2 = try await ws.runner().runOnce()
        #expect(s2.studiesProcessed == 1)
        #expect(s2.isClean)
        #expect(ws.inboxFiles().isEmpty)
        #expect(ws.outputs().count == 2)
        #expect(try ws.store.job(studyInstanceUID: "O.1")?.state == .done)
        #expect(try ws.store.job(studyInstanceUID: "O.1")?.attempts == 2)   // the retry was the second attempt
    }

    @Test func diskFullDuringOutputWriteLeavesNoPartialOutput() async throws {
        let ws = try Workspace()
        ws.sink.failWithENOSPC = true
        try ws.drop(FakeInstance.make(study: "D.1", sop: "D.1.1"), as: "d.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesFailed == 1)
        #expect(s1.failures.first?.contains("No space left on device") == true)
        #expect(ws.outputs().isEmpty)                          // nothing partial reached the outbox
        #expect(ws.files(ws.config.outbox.appendingPathComponent(PipelineEngine.stagingFolderName)).isEmpty)
        #expect(ws.inboxFiles() == ["d.dcm"])
        #expect(try ws.analyses("D.1").isEmpty)

        ws.sink.failWithENOSPC = false
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        #expect(ws.outputs() == ["brixia_D.1_v1.sc.json", "brixia_D.1_v1.sr.json"])
    }

    @Test func diskFullWritingManifestFailsCleanly() async throws {
        let ws = try Workspace()
        ws.writer.failuresLeft = 1                             // the manifest write
        try ws.drop(FakeInstance.make(study: "M.1", sop: "M.1.1"), as: "m.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesFailed == 1)
        #expect(ws.outputs().isEmpty)
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        #expect(ws.outputs().count == 2)
        #expect(try ws.analyses("M.1").map(\.version) == [1])
    }

    @Test func diskFullWritingReasonKeepsFileInInbox() async throws {
        let ws = try Workspace()
        ws.writer.failuresLeft = 1
        try ws.drop(Data("garbage".utf8), as: "g.bin")
        let s1 = try await ws.runner().runOnce()
        #expect(!s1.isClean)
        #expect(ws.inboxFiles() == ["g.bin"])                  // not dropped, not half-quarantined
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        #expect(ws.files(ws.config.quarantine) == ["g.bin", "g.bin.reason.txt"])
    }

    @Test func commitFailureAfterPublishDoesNotReissueOutputs() async throws {
        let ws = try Workspace()
        try ws.refuseCommits(true)
        try ws.drop(FakeInstance.make(study: "C.1", sop: "C.1.1"), as: "c.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesFailed == 1)
        let first = try Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_C.1_v1.sr.json"))
        try ws.refuseCommits(false)
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        // Same staged analysis committed; the published file was not rewritten with new content.
        #expect(try Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_C.1_v1.sr.json")) == first)
        #expect(ws.scorer.scored == ["C.1.1"])
    }

    @Test func transientFailuresAreBoundedThenFailedUntilRetried() async throws {
        let ws = try Workspace()
        try Data("in the way".utf8).write(to: ws.config.outbox)
        try ws.drop(FakeInstance.make(study: "8.8", sop: "8.8.1"), as: "o.dcm")
        let store = ws.store
        // Each --once run retries it once (never twice in one run), up to maxAttempts (3).
        for attempt in 1...3 {
            let s = try await ws.runner().runOnce()
            #expect(s.studiesFailed == 1)
            #expect(try store.job(studyInstanceUID: "8.8")?.attempts == attempt)
        }
        #expect(try store.job(studyInstanceUID: "8.8")?.state == .failed)
        // Failed is final: a fourth run does not touch it, the input stays in the inbox.
        let s4 = try await ws.runner().runOnce()
        #expect(s4.studiesFailed == 0 && s4.studiesProcessed == 0)
        #expect(ws.inboxFiles() == ["o.dcm"])
        #expect(try store.job(studyInstanceUID: "8.8")?.state == .failed)
        // Only an explicit retry re-queues it.
        try FileManager.default.removeItem(at: ws.config.outbox)
        #expect(try store.store.retryFailed(studyInstanceUID: "8.8", actor: "test").count == 1)
        let s5 = try await ws.runner().runOnce()
        #expect(s5.isClean && s5.studiesProcessed == 1)
        #expect(try store.job(studyInstanceUID: "8.8")?.state == .done)
    }

    @Test func daemonRetriesATransientFailureOnlyAfterItsBackoff() throws {
        let ws = try Workspace()
        try Data("in the way".utf8).write(to: ws.config.outbox)
        try ws.drop(FakeInstance.make(study: "9.9", sop: "9.9.1"), as: "o.dcm")
        let engine = ws.engine()
        try engine.intake(ws.config.inbox.appendingPathComponent("o.dcm"))
        try ws.store.promote(quietBefore: .distantFuture, now: ws.clock)
        if case .failed = try #require(try engine.processNext()).outcome {} else { Issue.record("expected a failure") }
        try FileManager.default.removeItem(at: ws.config.outbox)
        // Back-off 60 s after the first failure (retryDelay): nothing to claim before it.
        ws.clock = ws.clock.addingTimeInterval(59)
        #expect(try engine.processNext() == nil)
        ws.clock = ws.clock.addingTimeInterval(2)
        let r = try #require(try engine.processNext())
        #expect(r.outcome == .done(version: 1))
    }

    @Test func reportRefusalQuarantinesTheStudyInsteadOfLooping() async throws {
        let ws = try Workspace()
        ws.sink.rejectInput = "invalid report input StudyInstanceUID: '..' is not a valid UID"
        try ws.drop(FakeInstance.make(study: "5.5", sop: "5.5.1"), as: "bad.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesQuarantined == 1)
        #expect(s1.studiesFailed == 0)
        #expect(s1.isClean)
        #expect(ws.inboxFiles().isEmpty)
        let reason = try String(contentsOf: ws.config.quarantine.appendingPathComponent("bad.dcm.reason.txt"), encoding: .utf8)
        #expect(reason.contains("is not a valid UID"))
        #expect(try ws.store.job(studyInstanceUID: "5.5")?.state == .quarantined)
        // A second run has nothing to do.
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean && s2.studiesProcessed == 0 && s2.studiesQuarantined == 0)
    }

    @Test func aStudyThatKeepsKillingTheWorkerIsQuarantinedAsPoison() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "6.6", sop: "6.6.1"), as: "p.dcm")
        // Three runs, each dying right after the claim (as a crash would).
        for _ in 1...3 {
            let engine = ws.engine()
            engine.interruptCheck = { $0 == .claimed }
            try engine.recover()
            try engine.intake(ws.config.inbox.appendingPathComponent("p.dcm"))
            try ws.store.promote(quietBefore: .distantFuture, now: ws.clock)
            #expect(throws: ProcessingInterrupted.self) { try engine.processNext(retryBefore: .distantFuture) }
        }
        let engine = ws.engine()
        try engine.recover()
        #expect(try ws.store.job(studyInstanceUID: "6.6")?.state == .quarantined)
        #expect(ws.inboxFiles().isEmpty)
        let reason = try String(contentsOf: ws.config.quarantine.appendingPathComponent("p.dcm.reason.txt"), encoding: .utf8)
        #expect(reason.contains("poison"))
        #expect(reason.contains("history"))
        #expect(engine.summary.studiesQuarantined == 1)
    }
}
