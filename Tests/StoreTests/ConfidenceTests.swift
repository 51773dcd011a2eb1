import BrixiaDomain
import Foundation
import Testing
@testable import Store

/// Per-zone and per-study confidence (migration 0008) and alert rules that require a minimum confidence.
@Suite struct ConfidenceTests {
    private func complete(_ store: BrixiaStore, study: String, date: String, grades: [Int], confidence: Double?,
                          status: AnalysisStatus = .ok) throws -> JobCompletion {
        let sop = "\(study).1.1"
        try store.recordInstance(Fixture.instance(study: study, date: date, sop: sop), now: Fixture.t0)
        try store.enqueue(studyInstanceUID: study, now: Fixture.t0)
        let claimed = try require_(store.claimNextJob(owner: "w", now: Fixture.t0), "claimed job")
        var a = try Fixture.analysis(sop: sop, grades: grades)
        a.confidence = confidence
        a.zoneConfidence = confidence.map { c in Dictionary(uniqueKeysWithValues: Zone.allCases.map { ($0, c) }) }
        a.calibrationTemperature = confidence == nil ? nil : 1.8
        a.status = status
        return try store.completeJob(jobID: claimed.job.id, owner: "w", analysis: a, now: Fixture.t0)
    }

    @Test func confidencesRoundTrip() throws {
        let temp = try TempStore()
        var a = try Fixture.analysis(sop: "S1.1.1", grades: [1, 2, 0, 1, 3, 0])
        a.confidence = 0.41
        a.zoneConfidence = [.A: 0.5, .B: 0.3, .C: 0.9, .D: 0.25, .E: 0.4, .F: 0.11]
        a.calibrationTemperature = 1.75
        a.status = .lowConfidence
        try temp.store.recordInstance(Fixture.instance(study: "S1", sop: "S1.1.1"), now: Fixture.t0)
        try temp.store.enqueue(studyInstanceUID: "S1", now: Fixture.t0)
        let job = try require_(temp.store.claimNextJob(owner: "w", now: Fixture.t0))
        _ = try temp.store.completeJob(jobID: job.job.id, owner: "w", analysis: a, now: Fixture.t0)

        let stored = try require_(temp.store.analyses(studyInstanceUID: "S1").last)
        #expect(stored.confidence == 0.41)
        #expect(stored.zoneConfidence == ["A": 0.5, "B": 0.3, "C": 0.9, "D": 0.25, "E": 0.4, "F": 0.11])
        #expect(stored.calibrationTemperature == 1.75)
        #expect(stored.status == .lowConfidence)
        let summary = try require_(temp.store.studies().first { $0.studyInstanceUID == "S1" })
        #expect(summary.confidence == 0.41 && summary.analysisStatus == .lowConfidence)
        let json = try StoreJSON.encode([summary])
        #expect(json.contains("\"confidence\"") && json.contains("low-confidence"))
    }

    @Test func uncalibratedAnalysesStoreNoConfidence() throws {
        let temp = try TempStore()
        _ = try complete(temp.store, study: "S1", date: "20200301", grades: [0, 0, 0, 0, 0, 1], confidence: nil)
        let stored = try require_(temp.store.analyses(studyInstanceUID: "S1").last)
        #expect(stored.confidence == nil && stored.zoneConfidence == nil && stored.calibrationTemperature == nil)
        #expect(stored.status == .ok)
    }

    @Test func outOfRangeConfidenceIsRefused() throws {
        let temp = try TempStore()
        #expect(throws: StoreError.self) {
            _ = try complete(temp.store, study: "S1", date: "20200301", grades: [0, 0, 0, 0, 0, 1], confidence: 1.5)
        }
        #expect(try temp.store.analyses(studyInstanceUID: "S1").isEmpty)
    }

    @Test func minimumConfidenceRuleParses() throws {
        #expect(try AlertRule(spec: "global>=12@0.6") == .withMinimumConfidence(.globalAtLeast(12), 0.6))
        #expect(try AlertRule(spec: "rise >= 3 @ 0.5").spec == "rise>=3@0.5")
        #expect(try AlertRule(spec: AlertRule(spec: "zone-rise>=2@0.75").spec) == .withMinimumConfidence(.zoneRiseAtLeast(2), 0.75))
        for bad in ["global>=12@0", "global>=12@1.5", "global>=12@x", "global>=12@0.5@0.6", "global>=12@", "@0.5"] {
            #expect(throws: StoreError.invalidRule(bad)) { try AlertRule(spec: bad) }
        }
    }

    @Test func minimumConfidenceRuleFiresOnlyWhenSureEnough() throws {
        let rule = AlertRule.withMinimumConfidence(.globalAtLeast(12), 0.6)
        let g = try ZoneGrades(a: 3, b: 3, c: 2, d: 2, e: 1, f: 1)  // 12
        #expect(rule.evaluate(current: g, prior: nil, priorDate: nil, confidence: 0.59) == nil)
        #expect(rule.evaluate(current: g, prior: nil, priorDate: nil, confidence: nil) == nil)
        let fired = try #require(rule.evaluate(current: g, prior: nil, priorDate: nil, confidence: 0.6))
        #expect(fired.rule == "global>=12@0.6" && fired.value == 12 && fired.message.contains("confidence 0.60"))
        let low = try ZoneGrades(a: 1, b: 1, c: 1, d: 1, e: 1, f: 1)
        #expect(rule.evaluate(current: low, prior: nil, priorDate: nil, confidence: 0.99) == nil)
    }

    @Test func storeRecordsMinimumConfidenceAlertsFromStoredConfidence() throws {
        let rules = [try AlertRule(spec: "global>=12@0.6")]
        let temp = try TempStore(configuration: StoreConfiguration(trend: TrendOptions(threshold: 2, rules: rules)))
        let unsure = try complete(temp.store, study: "S1", date: "20200301", grades: [3, 3, 2, 2, 1, 1], confidence: 0.45,
                                  status: .lowConfidence)
        #expect(unsure.newAlerts.isEmpty)
        let sure = try complete(temp.store, study: "S2", date: "20200305", grades: [3, 3, 2, 2, 2, 2], confidence: 0.7)
        #expect(sure.newAlerts.map(\.rule) == ["global>=12@0.6"])
        #expect(try temp.store.alerts(studyInstanceUID: "S1").isEmpty)
    }
}
