import BrixiaDomain
import Foundation
import SyntheticHistory
import Testing
@testable import Store

@Suite struct TrendTests {
    private func exam(_ uid: String, _ key: String?, _ g: [Int]) throws -> ExamScore {
        ExamScore(studyInstanceUID: uid, sortKey: key,
                  zones: try ZoneGrades(a: g[0], b: g[1], c: g[2], d: g[3], e: g[4], f: g[5]))
    }

    @Test func labelsUseTheThreshold() throws {
        let exams = [try exam("3", "20200310", [3, 3, 2, 2, 1, 1]),  // 12
                     try exam("1", "20200301", [1, 1, 1, 1, 1, 1]),  // 6
                     try exam("2", "20200305", [2, 1, 1, 1, 1, 1]),  // 7
                     try exam("4", "20200320", [1, 1, 1, 1, 1, 1]),  // 6
                     try exam("X", nil, [0, 0, 0, 0, 0, 0])]
        let trend = TrendCalculator.compute(patientID: "P", exams: exams, options: TrendOptions(threshold: 2, rules: []))
        #expect(trend.exams.map(\.studyInstanceUID) == ["1", "2", "3", "4", "X"])
        #expect(trend.exams.map(\.delta) == [nil, 1, 5, -6, nil])
        #expect(trend.exams.map(\.trend) == [.baseline, .stable, .worse, .better, .undated])
        #expect(trend.exams.map(\.date) == ["2020-03-01", "2020-03-05", "2020-03-10", "2020-03-20", nil])

        let strict = TrendCalculator.compute(patientID: "P", exams: exams, options: TrendOptions(threshold: 1, rules: []))
        #expect(strict.exams[1].trend == .worse)
    }

    @Test func alertRulesParseAndFire() throws {
        #expect(try AlertRule(spec: "global>=12") == .globalAtLeast(12))
        #expect(try AlertRule(spec: "rise >= 3") == .globalRiseAtLeast(3))
        #expect(try AlertRule(spec: "zone-rise>=2") == .zoneRiseAtLeast(2))
        #expect(throws: StoreError.invalidRule("global>12")) { try AlertRule(spec: "global>12") }
        #expect(throws: StoreError.invalidRule("foo>=1")) { try AlertRule(spec: "foo>=1") }
        #expect(AlertRule.defaults.map(\.spec) == ["rise>=3", "global>=12"])

        let prior = try ZoneGrades(a: 1, b: 1, c: 1, d: 1, e: 1, f: 1)
        let current = try ZoneGrades(a: 3, b: 1, c: 2, d: 2, e: 1, f: 1)
        #expect(AlertRule.globalRiseAtLeast(3).evaluate(current: current, prior: prior, priorDate: nil)?.value == 4)
        #expect(AlertRule.globalRiseAtLeast(5).evaluate(current: current, prior: prior, priorDate: nil) == nil)
        #expect(AlertRule.globalRiseAtLeast(3).evaluate(current: current, prior: nil, priorDate: nil) == nil)
        #expect(AlertRule.globalAtLeast(10).evaluate(current: current, prior: nil, priorDate: nil)?.value == 10)
        #expect(AlertRule.globalAtLeast(11).evaluate(current: current, prior: nil, priorDate: nil) == nil)
        let zoneAlert = AlertRule.zoneRiseAtLeast(2).evaluate(current: current, prior: prior, priorDate: "2020-03-01")
        #expect(zoneAlert?.value == 2)
        #expect(zoneAlert?.message == "zone grade rise A +2 since 2020-03-01")
    }

    @Test func zoneGradesAreValidated() {
        #expect(throws: GradeError.self) { try ZoneGrades(a: 4, b: 0, c: 0, d: 0, e: 0, f: 0) }
        #expect(throws: GradeError.self) { try ZoneGrades([.A: 1]) }
    }

    /// Studies arrive (and are analysed) out of date order; priors and deltas follow the dates.
    @Test func outOfOrderArrivalGivesCorrectPriorsAndDeltas() throws {
        let temp = try TempStore()
        let store = temp.store
        try Fixture.scoredStudy(store, study: "S3", date: "20200310", grades: [2, 2, 2, 2, 2, 2])  // 12
        try Fixture.scoredStudy(store, study: "S1", date: "20200301", grades: [1, 1, 1, 1, 0, 0])  // 4
        // No StudyDate: ordered by acquisition date/time (2020-03-05).
        try Fixture.scoredStudy(store, study: "S2", date: nil, time: nil, acquisition: "20200305083000.000000+0100",
                                grades: [1, 1, 1, 1, 1, 0])  // 5
        // Another patient's and another issuer's studies never count as priors.
        try Fixture.scoredStudy(store, patient: "P2", study: "O1", date: "20200302", grades: [3, 3, 3, 3, 3, 3])
        try Fixture.scoredStudy(store, patient: "P1", issuer: "OTHER", study: "O2", date: "20200303", grades: [3, 3, 3, 3, 3, 3])

        let trend = try store.trend(patientID: "P1", issuer: "HOSP")
        #expect(trend.exams.map(\.studyInstanceUID) == ["S1", "S2", "S3"])
        #expect(trend.exams.map(\.date) == ["2020-03-01T10:15:00", "2020-03-05T08:30:00", "2020-03-10T10:15:00"])
        #expect(trend.exams.map(\.global) == [4, 5, 12])
        #expect(trend.exams.map(\.delta) == [nil, 1, 7])
        #expect(trend.exams.map(\.trend) == [.baseline, .stable, .worse])
        #expect(trend.exams[2].alerts.map(\.rule) == ["rise>=3", "global>=12"])

        #expect(try store.priorStudies(studyInstanceUID: "S3").map(\.studyInstanceUID) == ["S2", "S1"])
        #expect(try store.priorStudies(studyInstanceUID: "S1").isEmpty)
        #expect(try store.priorAnalysis(studyInstanceUID: "S3")?.study.studyInstanceUID == "S2")

        #expect(throws: StoreError.ambiguousPatient(patientID: "P1", issuers: ["HOSP", "OTHER"])) {
            try store.trend(patientID: "P1")
        }
        #expect(throws: StoreError.unknownPatient(patientID: "NOPE", issuer: nil)) { try store.trend(patientID: "NOPE") }
        #expect(try store.trend(patientID: "P2").exams.count == 1)
    }

    /// Alerts are recorded on completion; a late-arriving prior is re-evaluated and nothing is recorded twice.
    @Test func alertsAreRecordedOnceAndFollowLatePriors() throws {
        let temp = try TempStore()
        let store = temp.store
        let first = try Fixture.scoredStudy(store, study: "S2", date: "20200305", grades: [2, 2, 1, 1, 1, 1])  // 8
        #expect(first.newAlerts.isEmpty)  // no prior, below 12

        // The earlier exam arrives later: S2 now rose by 6 versus S1.
        let late = try Fixture.scoredStudy(store, study: "S1", date: "20200301", grades: [1, 1, 0, 0, 0, 0])  // 2
        #expect(late.newAlerts.map(\.rule) == ["rise>=3"])
        #expect(late.newAlerts[0].value == 6)
        #expect(late.newAlerts[0].analysisRef == first.analysis.id)
        #expect(late.newAlerts[0].priorAnalysisRef == late.analysis.id)

        let critical = try Fixture.scoredStudy(store, study: "S3", date: "20200310", grades: [3, 3, 2, 2, 2, 2])  // 14
        #expect(Set(critical.newAlerts.map(\.rule)) == ["rise>=3", "global>=12"])
        #expect(try store.alerts(studyInstanceUID: "S2").count == 1)
        #expect(try store.alerts(studyInstanceUID: "S3").count == 2)
    }
}

@Suite struct SyntheticFillTests {
    @Test func syntheticFillIsQueryable() throws {
        let temp = try TempStore()
        let result = try temp.store.fillSynthetic(patients: 3, studiesPerPatient: 4)
        #expect(result.studies == 12)
        #expect(try temp.store.syntheticPatientCount() == 3)
        let trend = try temp.store.trend(patientID: BrixiaStore.syntheticPatientID(2), issuer: BrixiaStore.syntheticIssuer)
        #expect(trend.exams.count == 4)
        #expect(trend.exams.map(\.date) == trend.exams.map(\.date).sorted { ($0 ?? "") < ($1 ?? "") })
    }
}
