import Foundation
import Testing
@testable import Store

@Suite struct JSONOutputTests {
    private func parse(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    private func populated() throws -> TempStore {
        let temp = try TempStore()
        try Fixture.scoredStudy(temp.store, study: "S1", date: "20200301", grades: [1, 1, 0, 0, 0, 0])
        try Fixture.scoredStudy(temp.store, study: "S2", date: "20200305", grades: [2, 2, 1, 1, 1, 1])
        try temp.store.recordInstance(Fixture.instance(study: "S3", date: "20200309", sop: "S3.1.1"), now: Fixture.t0)
        return temp
    }

    /// `brixia trend --json`: {"patientID", "exams": [{"studyInstanceUID", "date", "zones", "global", "delta", "trend", "alerts"}]}.
    @Test func trendJSONShape() throws {
        let temp = try populated()
        let json = try #require(try parse(StoreJSON.encode(temp.store.trend(patientID: "P1"))) as? [String: Any])
        #expect(Set(json.keys) == ["patientID", "exams"])
        #expect(json["patientID"] as? String == "P1")
        let exams = try #require(json["exams"] as? [[String: Any]])
        #expect(exams.count == 2)
        for exam in exams {
            #expect(Set(exam.keys) == ["studyInstanceUID", "date", "zones", "global", "delta", "trend", "alerts"])
            let zones = try #require(exam["zones"] as? [String: Int])
            #expect(Set(zones.keys) == ["A", "B", "C", "D", "E", "F"])
        }
        #expect(exams.map { $0["studyInstanceUID"] as? String } == ["S1", "S2"])
        #expect(exams[0]["delta"] is NSNull)
        #expect(exams[0]["trend"] as? String == "baseline")
        #expect(exams[1]["delta"] as? Int == 6)
        #expect(exams[1]["trend"] as? String == "worse")
        #expect(exams[1]["global"] as? Int == 8)
        #expect(exams[1]["date"] as? String == "2020-03-05T10:15:00")
        let alerts = try #require(exams[1]["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["rule"] as? String } == ["rise>=3"])
        // Decodes back to the same value.
        let text = try StoreJSON.encode(temp.store.trend(patientID: "P1"))
        let decoded = try JSONDecoder().decode(PatientTrend.self, from: Data(text.utf8))
        #expect(decoded.exams.map(\.global) == [2, 8])
    }

    @Test func studiesJSONParses() throws {
        let temp = try populated()
        let list = try #require(try parse(StoreJSON.encode(temp.store.studies())) as? [[String: Any]])
        #expect(list.map { $0["studyInstanceUID"] as? String } == ["S3", "S2", "S1"])
        #expect(list[0]["state"] as? String == "received")
        #expect(list[1]["latestVersion"] as? Int == 1)
        #expect(list.allSatisfy { !$0.keys.contains { $0.lowercased().contains("name") } }, "no patient names in study lists")
        #expect(try temp.store.studies(since: "2020-03-04").count == 2)
        #expect(try temp.store.studies(state: .done).map(\.studyInstanceUID) == ["S2", "S1"])
        #expect(throws: StoreError.self) { try temp.store.studies(since: "yesterday") }
    }

    @Test func showJSONParses() throws {
        let temp = try populated()
        let detail = try #require(try parse(StoreJSON.encode(temp.store.studyDetail(studyInstanceUID: "S2"))) as? [String: Any])
        #expect(Set(detail.keys) == ["patient", "study", "date", "series", "instances", "analyses", "job", "history", "notScored"])
        let analyses = try #require(detail["analyses"] as? [[String: Any]])
        #expect(analyses.count == 1)
        let outputs = try #require(analyses[0]["outputs"] as? [[String: Any]])
        #expect(outputs.first?["kind"] as? String == "SR")
        let analysis = try #require(analyses[0]["analysis"] as? [String: Any])
        #expect(analysis["modelName"] as? String == "BS-Net")
        #expect((detail["job"] as? [String: Any])?["state"] as? String == "done")
        #expect(throws: StoreError.unknownStudy("nope")) { try temp.store.studyDetail(studyInstanceUID: "nope") }
    }

    @Test func statusJSONParses() throws {
        let temp = try populated()
        let status = try #require(try parse(StoreJSON.encode(temp.store.queueStatus())) as? [String: Any])
        let counts = try #require(status["counts"] as? [String: Int])
        #expect(counts == ["received": 1, "queued": 0, "processing": 0, "done": 2, "failed": 0, "quarantined": 0])
        #expect((status["lastProcessed"] as? [String: Any])?["studyInstanceUID"] as? String != nil)
    }
}
