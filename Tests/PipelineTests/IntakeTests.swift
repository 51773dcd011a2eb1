import Foundation
import Testing
@testable import Pipeline

@Suite struct IntakeTests {
    @Test func nonDicomAndCorruptFilesAreQuarantinedWithReason() async throws {
        let ws = try Workspace()
        try ws.drop(Data("hello, not an image".utf8), as: "notes.txt")
        try ws.drop(Data((FakeInstance.magic + "{\"meta\": {trunc").utf8), as: "sub/corrupt.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.filesQuarantined == 2)
        #expect(s.isClean)
        #expect(ws.inboxFiles().isEmpty)
        let q = ws.files(ws.config.quarantine)
        #expect(q == ["notes.txt", "notes.txt.reason.txt", "sub/corrupt.dcm", "sub/corrupt.dcm.reason.txt"])
        let reason = try String(contentsOf: ws.config.quarantine.appendingPathComponent("sub/corrupt.dcm.reason.txt"), encoding: .utf8)
        #expect(reason.contains("corrupt DICOM"))
        #expect(reason.contains("file: sub/corrupt.dcm"))
        let reason2 = try String(contentsOf: ws.config.quarantine.appendingPathComponent("notes.txt.reason.txt"), encoding: .utf8)
        #expect(reason2.contains("not a DICOM file"))
    }

    @Test func mixedStudyScoresOnlyEligibleImages() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "1.2.3", sop: "1.2.3.1"), as: "st/pa.dcm")
        try ws.drop(FakeInstance.make(study: "1.2.3", sop: "1.2.3.2", ineligible: "lateral view (ViewPosition LL)", view: "LL"), as: "st/lat.dcm")
        try ws.drop(FakeInstance.make(study: "1.2.3", sop: "1.2.3.3", ineligible: "SOP class is Comprehensive SR, not an image"), as: "st/sr.dcm")
        try ws.drop(FakeInstance.make(study: "1.2.3", sop: "1.2.3.4", ineligible: "produced by Brixia (our own output)"), as: "st/ours.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.studiesProcessed == 1)
        #expect(s.filesQuarantined == 3)
        #expect(s.filesArchived == 1)
        #expect(s.isClean)
        #expect(ws.scorer.scored == ["1.2.3.1"])
        #expect(try ws.analyses("1.2.3").count == 1)
        #expect(ws.outputs() == ["brixia_1.2.3_v1.sc.json", "brixia_1.2.3_v1.sr.json"])
        let lat = try String(contentsOf: ws.config.quarantine.appendingPathComponent("st/lat.dcm.reason.txt"), encoding: .utf8)
        #expect(lat.contains("lateral view"))
        #expect(ws.files(ws.config.archive) == ["1.2.3/pa.dcm"])
    }

    @Test func sameStudyDeliveredTwiceIsNotAnalysedTwice() async throws {
        let ws = try Workspace()
        let inst = FakeInstance.make(study: "9.9", sop: "9.9.1")
        try ws.drop(inst, as: "a/img.dcm")
        _ = try await ws.runner().runOnce()
        // Re-delivery of the identical file (same SOP Instance UID and bytes), twice, other names.
        try ws.drop(inst, as: "b/img.dcm")
        try ws.drop(inst, as: "c/img-copy.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.duplicatesIgnored == 2)
        #expect(s.studiesProcessed == 0)
        #expect(s.isClean)
        #expect(try ws.analyses("9.9").count == 1)
        #expect(ws.outputs().count == 2)
        #expect(ws.files(ws.config.archive).count == 3)
        #expect(ws.scorer.scored == ["9.9.1"])
    }

    @Test func lateInstanceTriggersNewVersion() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "5.5", sop: "5.5.1", grades: [1, 1, 1, 0, 0, 0], acquisition: "20200310080000"), as: "x1.dcm")
        _ = try await ws.runner().runOnce()
        try ws.drop(FakeInstance.make(study: "5.5", sop: "5.5.2", grades: [2, 2, 1, 1, 0, 0], acquisition: "20200310093000"), as: "x2.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.studiesProcessed == 1)
        let a = try ws.analyses("5.5").sorted { $0.version < $1.version }
        #expect(a.map(\.version) == [1, 2])
        #expect(a[1].source.sopInstanceUID == "5.5.2")   // the later acquisition is the primary
        #expect(a[1].instanceUIDs == ["5.5.1", "5.5.2"])
        #expect(ws.files(ws.config.archive) == ["5.5/x1.dcm", "5.5/x2.dcm"])
        #expect(ws.outputs().contains("brixia_5.5_v2.sr.json"))
        #expect(try ws.store.job(studyInstanceUID: "5.5")?.state == .done)
    }

    @Test func changedContentUnderKnownUIDIsReanalysed() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "6.6", sop: "6.6.1", grades: [0, 0, 0, 0, 0, 0]), as: "y.dcm")
        _ = try await ws.runner().runOnce()
        try ws.drop(FakeInstance.make(study: "6.6", sop: "6.6.1", grades: [3, 3, 3, 3, 3, 3]), as: "y.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.duplicatesIgnored == 0)
        let a = try ws.analyses("6.6")
        #expect(a.count == 2)
        #expect(a.map(\.score.global).sorted() == [0, 18])
    }

    @Test func priorsFollowStudyDateNotArrivalOrder() async throws {
        let ws = try Workspace()
        // The newer exam arrives first.
        try ws.drop(FakeInstance.make(study: "S.new", sop: "S.new.1", date: "20200320", grades: [3, 2, 2, 2, 2, 2]), as: "new.dcm")
        _ = try await ws.runner().runOnce()
        try ws.drop(FakeInstance.make(study: "S.old", sop: "S.old.1", date: "20200305", grades: [1, 1, 1, 1, 0, 0]), as: "old.dcm")
        _ = try await ws.runner().runOnce()
        try ws.drop(FakeInstance.make(study: "S.mid", sop: "S.mid.1", date: "20200312", grades: [1, 1, 1, 1, 1, 0]), as: "mid.dcm")
        // Another patient's earlier exam must never be a prior.
        try ws.drop(FakeInstance.make(study: "Q.1", sop: "Q.1.1", patient: "P2", date: "20200301", grades: [0, 0, 0, 0, 0, 0]), as: "other.dcm")
        _ = try await ws.runner().runOnce()

        let old = try #require(try ws.analyses("S.old").first)
        #expect(old.prior == nil)          // the newer exam processed earlier is not its prior
        #expect(old.trend == .baseline)
        let mid = try #require(try ws.analyses("S.mid").first)
        #expect(mid.prior?.studyInstanceUID == "S.old")
        #expect(mid.globalDelta == 1)
        #expect(mid.zoneDeltas == [0, 0, 0, 0, 1, 0])
        #expect(mid.trend == .stable)
        let new = try #require(try ws.analyses("S.new").first)
        #expect(new.prior == nil)          // nothing older existed when it was processed
        #expect(new.alerts.map(\.rule) == ["global>=12"])
        let q = try #require(try ws.analyses("Q.1").first)
        #expect(q.prior == nil)
    }

    @Test func worseningRaisesAlert() async throws {
        let ws = try Workspace()
        try ws.drop(FakeInstance.make(study: "W.1", sop: "W.1.1", date: "20200301", grades: [1, 1, 0, 0, 0, 0]), as: "w1.dcm")
        _ = try await ws.runner().runOnce()
        try ws.drop(FakeInstance.make(study: "W.2", sop: "W.2.1", date: "20200308", grades: [2, 2, 1, 1, 0, 0]), as: "w2.dcm")
        _ = try await ws.runner().runOnce()
        let a = try #require(try ws.analyses("W.2").first)
        #expect(a.globalDelta == 4)
        #expect(a.trend == .worse)
        #expect(a.alerts.map(\.message) == ["global score rose by 4 (2 -> 6) since 2020-03-01"])
    }

    @Test func scorerRejectionQuarantinesStudy() async throws {
        let ws = try Workspace()
        var f = FakeInstance.make(study: "R.1", sop: "R.1.1"); f.scorer = "reject"
        try ws.drop(f, as: "r.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.studiesQuarantined == 1)
        #expect(s.filesQuarantined == 1)
        #expect(s.isClean)
        #expect(try ws.store.job(studyInstanceUID: "R.1")?.state == .quarantined)
        let reason = try String(contentsOf: ws.config.quarantine.appendingPathComponent("r.dcm.reason.txt"), encoding: .utf8)
        #expect(reason.contains("pixel data cannot be decoded"))
    }

    @Test func ignoredNames() {
        #expect(InboxScanner.isIgnoredName(".hidden"))
        #expect(InboxScanner.isIgnoredName("x.dcm.part"))
        #expect(InboxScanner.isIgnoredName("X.TMP"))
        #expect(!InboxScanner.isIgnoredName("1.2.840.113619.2.55.3.dcm"))
        #expect(!InboxScanner.isIgnoredName("CR.1.2.3"))
    }
}
