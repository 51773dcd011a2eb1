import Foundation
import Testing
@testable import Store

/// The store queries the web console adds: audit log (migration 0007), alerted studies, job durations.
@Suite struct ConsoleQueriesTests {
    @Test func auditEntriesRoundTripNewestFirstAndRejectUnknownRoles() throws {
        let t = try TempStore()
        try t.store.recordAudit(AuditEntry(at: Fixture.t0, user: "alice", role: "viewer", action: "view-patient", patientID: "P1",
                                           remote: "127.0.0.1"))
        try t.store.recordAudit(AuditEntry(at: Fixture.t0.addingTimeInterval(1), user: "olivia", role: "operator", action: "retry",
                                           patientID: "P1", studyInstanceUID: "1.2.3", detail: "study queued again"))
        let e = try t.store.auditEntries(limit: 10)
        #expect(e.map(\.user) == ["olivia", "alice"])
        #expect(e[0].studyInstanceUID == "1.2.3" && e[1].remote == "127.0.0.1" && e[1].studyInstanceUID == nil)
        #expect(try t.store.auditEntries(limit: 1).count == 1)
        #expect(throws: (any Error).self) {
            try t.store.recordAudit(AuditEntry(user: "mallory", role: "admin", action: "view-patient"))
        }
    }

    @Test func alertedStudiesAreThoseWhoseLatestAnalysisFired() throws {
        let t = try TempStore()
        try Fixture.scoredStudy(t.store, study: "1.1", date: "20200301", grades: [0, 0, 0, 0, 0, 0])
        let second = try Fixture.scoredStudy(t.store, study: "1.2", date: "20200305", grades: [3, 3, 3, 3, 3, 3],
                                             now: Fixture.t0.addingTimeInterval(60))
        #expect(!second.newAlerts.isEmpty, "the default rules fire on 0 -> 18")
        #expect(try t.store.alertedStudyUIDs() == ["1.2"])
    }

    @Test func durationsComeFromFinishedJobsOnly() throws {
        let t = try TempStore()
        try Fixture.scoredStudy(t.store, study: "1.1", date: "20200301", grades: [1, 1, 1, 1, 1, 1])
        try t.store.recordInstance(Fixture.instance(study: "2.1", sop: "2.1.1.1"), now: Fixture.t0)
        let d = try t.store.finishedJobDurations()
        #expect(d == [0], "one done job (claimed and completed at the same instant); the received one has none")
    }
}
