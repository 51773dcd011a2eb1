import BrixiaDomain
import Foundation
import Testing
@testable import Store

/// Issue #14 item 3: a not-scored result is recorded with its reason, shown by studies/show/status, shares the
/// study's version sequence, and never enters priors, trends or alerts.
@Suite struct NotScoredTests {
    static func notScoredStudy(_ store: BrixiaStore, study: String, date: String, reason: String) throws -> NotScoredRecord {
        let sop = "\(study).1.1"
        try store.recordInstance(Fixture.instance(study: study, date: date, sop: sop), now: Fixture.t0)
        try store.enqueue(studyInstanceUID: study, now: Fixture.t0)
        let claimed = try require_(store.claimNextJob(owner: "worker-1", now: Fixture.t0), "claimed job")
        let provenance = InputProvenance(transferSyntaxUID: "1.2.840.10008.1.2.4.50", lossy: true, lossyRatio: [12],
                                         lossyMethod: ["ISO_10918_1"], photometricInterpretation: "MONOCHROME1",
                                         inverted: true, voi: "window")
        return try store.completeJobNotScored(
            jobID: claimed.job.id, owner: "worker-1",
            result: NewNotScored(sopInstanceUID: sop, stage: .qualityCheck, reason: reason, qc: ["polarityMargin": -0.2],
                                 model: ModelIdentity(name: "BS-Net", version: "1.0.0", weightsSHA256: String(repeating: "ab", count: 32)),
                                 provenance: provenance),
            outputs: [NewOutput(kind: "SR", sopInstanceUID: "2.25.77\(study.count)", filePath: "/outbox/\(study).sr.dcm")],
            now: Fixture.t0)
    }

    @Test func recordedVisibleAndOutsideTrendsAndPriors() throws {
        let temp = try TempStore()
        let store = temp.store
        try Fixture.scoredStudy(store, study: "S1", date: "20200301", grades: [1, 1, 1, 1, 1, 1])
        let r = try Self.notScoredStudy(store, study: "S2", date: "20200305", reason: "image-content check failed: lungs not darker")
        #expect(r.version == 1 && r.stage == "quality-check" && r.provenance?.lossy == true && r.qc?["polarityMargin"] == -0.2)
        #expect(try store.job(studyInstanceUID: "S2")?.state == .done)

        // studies: the reason; show: the result with its SR; status: counted with the reason.
        let s2 = try #require(try store.studies().first { $0.studyInstanceUID == "S2" })
        #expect(s2.notScoredReason == "image-content check failed: lungs not darker" && s2.global == nil)
        #expect(try store.studies().first { $0.studyInstanceUID == "S1" }?.notScoredReason == nil)
        let d = try store.studyDetail(studyInstanceUID: "S2")
        #expect(d.analyses.isEmpty && d.notScored.count == 1 && d.notScored[0].outputs.map(\.kind) == ["SR"])
        #expect(d.notScored[0].examinedInstance == "S2.1.1")
        #expect(d.history.contains { $0.kind == "not-scored" })
        let st = try store.queueStatus()
        #expect(st.notScoredStudies == 1 && st.recentNotScored.first?.studyInstanceUID == "S2")

        // No trend point, and a later exam's prior is S1, not the not-scored S2.
        #expect(try store.trend(patientID: "P1", issuer: "HOSP").exams.map(\.studyInstanceUID) == ["S1"])
        try store.recordInstance(Fixture.instance(study: "S3", date: "20200309", sop: "S3.1.1"), now: Fixture.t0)
        #expect(try store.priorAnalysis(studyInstanceUID: "S3")?.study.studyInstanceUID == "S1")
        // Versions are shared: the next result of S2 is version 2.
        #expect(try store.nextAnalysisVersion(studyInstanceUID: "S2") == 2)
    }

    @Test func anEmptyReasonIsRefused() throws {
        let temp = try TempStore()
        #expect(throws: StoreError.self) { try Self.notScoredStudy(temp.store, study: "S9", date: "20200301", reason: "  ") }
    }
}
