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
        #expect(job.state == .failed)
        #expect(job.lastError?.contains("Not a directory") == true)

        // The daemon's promotion waits for the retry delay; --once retries failed jobs at once.
        #expect(try ws.store.promote(quietBefore: ws.clock, failedBefore: ws.clock.addingTimeInterval(-ws.config.retryDelay),
                                     includeAllFailed: false, now: ws.clock).isEmpty)
        try FileManager.default.removeItem(at: ws.config.outbox)
        let s2 = try await ws.runner().runOnce()
        #expect(s2.studiesProcessed == 1)
        #expect(s2.isClean)
        #expect(ws.inboxFiles().isEmpty)
        #expect(ws.outputs().count == 2)
        #expect(try ws.store.job(studyInstanceUID: "O.1")?.state == .done)
        #expect(try ws.store.job(studyInstanceUID: "O.1")?.attempts == 1)   // attempts restart when re-queued
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
        #expect(try ws.store.analyses(studyInstanceUID: "D.1").isEmpty)

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
        #expect(try ws.store.analyses(studyInstanceUID: "M.1").map(\.version) == [1])
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
        ws.store.failCommit = FileOpError("commit", "db", errno: EIO)
        try ws.drop(FakeInstance.make(study: "C.1", sop: "C.1.1"), as: "c.dcm")
        let s1 = try await ws.runner().runOnce()
        #expect(s1.studiesFailed == 1)
        let first = try Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_C.1_v1.sr.json"))
        ws.store.failCommit = nil
        let s2 = try await ws.runner().runOnce()
        #expect(s2.isClean)
        // Same staged analysis committed; the published file was not rewritten with new content.
        #expect(try Data(contentsOf: ws.config.outbox.appendingPathComponent("brixia_C.1_v1.sr.json")) == first)
        #expect(ws.scorer.scored == ["C.1.1"])
    }
}
