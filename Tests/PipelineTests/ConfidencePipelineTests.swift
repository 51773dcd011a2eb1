import Foundation
import Testing
import Store
@testable import Pipeline

/// Calibrated confidence through the pipeline and the real store: stored per zone and per study, the
/// `low-confidence` status below the model's threshold, and alert rules with a minimum confidence.
@Suite struct ConfidencePipelineTests {
    @Test func lowConfidenceStatusAndMinimumConfidenceAlerts() async throws {
        let owner = try Workspace()
        owner.config.alertRules = [try AlertRule(spec: "global>=12@0.6"), .globalAtLeast(15)]
        let ws = owner.reopened()   // the store reads its rules when opened
        defer { withExtendedLifetime(owner) {} }
        let store = ws.store.store
        var unsure = FakeInstance.make(study: "7.1", sop: "7.1.1", patient: "P1", grades: [3, 3, 2, 2, 1, 1])  // 12
        unsure.confidence = [0.5, 0.4, 0.45, 0.3, 0.5, 0.35]                                                 // 0.417 < 0.5
        var sure = FakeInstance.make(study: "7.2", sop: "7.2.1", patient: "P2", grades: [3, 3, 2, 2, 2, 2])    // 14
        sure.confidence = [0.8, 0.7, 0.6, 0.9, 0.7, 0.6]                                                     // 0.717
        let uncalibrated = FakeInstance.make(study: "7.3", sop: "7.3.1", patient: "P3", grades: [3, 3, 3, 2, 2, 2])  // 15
        try ws.drop(unsure, as: "u.dcm")
        try ws.drop(sure, as: "s.dcm")
        try ws.drop(uncalibrated, as: "n.dcm")
        let s = try await ws.runner().runOnce()
        #expect(s.isClean && s.studiesProcessed == 3)

        let u = try #require(try store.analyses(studyInstanceUID: "7.1").last)
        #expect(u.status == .lowConfidence)
        #expect(abs((u.confidence ?? 0) - 0.4167) < 1e-3)
        #expect(u.zoneConfidence == ["A": 0.5, "B": 0.4, "C": 0.45, "D": 0.3, "E": 0.5, "F": 0.35])
        #expect(u.calibrationTemperature == 1.5)
        #expect(try store.alerts(studyInstanceUID: "7.1").isEmpty)   // 12 but not sure enough

        let v = try #require(try store.analyses(studyInstanceUID: "7.2").last)
        #expect(v.status == .ok)
        #expect(try store.alerts(studyInstanceUID: "7.2").map(\.rule) == ["global>=12@0.6"])

        // No calibration: no confidence stored, status ok; rules without a minimum still fire, those with one do not.
        let n = try #require(try store.analyses(studyInstanceUID: "7.3").last)
        #expect(n.confidence == nil && n.zoneConfidence == nil && n.status == .ok)
        #expect(try store.alerts(studyInstanceUID: "7.3").map(\.rule) == ["global>=15"])

        // The staged record the reports are written from carries the confidence and the same alerts.
        let sr = try String(contentsOf: ws.config.outbox.appendingPathComponent("brixia_7.1_v1.sr.json"), encoding: .utf8)
        #expect(sr.contains("\"lowBelow\":0.5") && !sr.contains("global>=12@0.6"))
        let sr2 = try String(contentsOf: ws.config.outbox.appendingPathComponent("brixia_7.2_v1.sr.json"), encoding: .utf8)
        #expect(sr2.contains("global>=12@0.6"))
    }

    @Test func configAcceptsMinimumConfidenceRules() throws {
        let cwd = URL(fileURLWithPath: NSTemporaryDirectory())
        var f = ConfigOverrides(); f["alertRules"] = "global>=12@0.6,rise>=3"
        let c = try ConfigResolver.resolve(flags: f, configPath: nil, environment: [:], currentDirectory: cwd)
        #expect(c.alertRules == [.withMinimumConfidence(.globalAtLeast(12), 0.6), .globalRiseAtLeast(3)])
        let env = try ConfigResolver.resolve(flags: ConfigOverrides(), configPath: nil,
                                             environment: ["BRIXIA_ALERT_RULES": "zone-rise>=2@0.5,global>=14"], currentDirectory: cwd)
        #expect(env.alertRules == [.withMinimumConfidence(.zoneRiseAtLeast(2), 0.5), .globalAtLeast(14)])
        f["alertRules"] = "global>=12@1.5"
        let e = #expect(throws: ConfigError.self) {
            try ConfigResolver.resolve(flags: f, configPath: nil, environment: [:], currentDirectory: cwd)
        }
        #expect(e?.description.contains("global>=12@1.5") == true)
    }
}
