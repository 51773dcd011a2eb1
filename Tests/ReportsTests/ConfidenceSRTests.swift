import BrixiaDomain
import Foundation
import Testing
@testable import Reports

/// Calibrated per-zone and study confidence in the SR (coded, UCUM "1") and its validation.
@Suite("Confidence in the SR")
struct ConfidenceSRTests {
    static let zoneConfidence: [Zone: Double] = [.A: 0.61, .B: 0.42, .C: 0.77, .D: 0.9, .E: 0.35, .F: 0.55]

    static func input() -> ReportInput {
        var input = Fixtures.input(withPrior: false)
        input.scores.zones = input.scores.zones.map {
            ZoneScore(zone: $0.zone, grade: $0.grade, probabilities: $0.probabilities, confidence: zoneConfidence[$0.zone])
        }
        input.scores.confidence = zoneConfidence.values.reduce(0, +) / 6
        input.alerts.append(.lowConfidence)
        return input
    }

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func srCarriesCodedZoneAndStudyConfidence() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let input = Self.input()
        let sr = try ReportWriter().writeSR(input, to: dir)
        let v = try Fixtures.dciodvfyErrors(sr.path.path)
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
        let dump = try Fixtures.run("dsrdump", ["+Pc", sr.path.path])
        #expect(dump.status == 0, "dsrdump failed: \(dump.stderr)")
        let lines = dump.stdout.split(separator: "\n").map(String.init)
        let zoneLines = lines.filter { $0.contains("(BRX-ZCONF,99BRIXIA,\"Calibrated confidence of zone grade\")") }
        #expect(zoneLines.count == 6)
        #expect(zoneLines.allSatisfy { $0.contains("(1,UCUM,\"no units\")") })
        // In zone order A..F, each in its zone's measurement group.
        let values = zoneLines.compactMap { l -> String? in
            guard let r = l.range(of: ")=\"") else { return nil }
            return String(l[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(values == Zone.allCases.map { String(format: "%.4f", Self.zoneConfidence[$0]!) })
        let study = String(format: "%.4f", input.scores.confidence!)
        #expect(dump.stdout.contains("(BRX-CONF,99BRIXIA,\"Calibrated confidence of Brixia score\")=\"\(study)\" (1,UCUM,\"no units\")"))
        #expect(dump.stdout.contains("BRX-ALERT-LOWCNF"))
        // Each zone's confidence follows that zone's grade, not another zone's.
        for zone in Zone.allCases {
            let grade = lines.firstIndex { $0.contains("(BRX-ZONE-\(zone.rawValue),") }!
            let conf = lines[grade...].firstIndex { $0.contains("BRX-ZCONF") }!
            #expect(lines[conf].contains(String(format: "%.4f", Self.zoneConfidence[zone]!)))
        }
        let sc = try ReportWriter().writeSecondaryCapture(input, trend: [], to: dir)
        #expect(try Fixtures.dciodvfyErrors(sc.path.path).errors.isEmpty)
    }

    @Test func outOfRangeZoneConfidenceIsRefused() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        for bad in [1.2, -0.1, .nan] {
            var input = Self.input()
            input.scores.zones[2].confidence = bad
            #expect(throws: (any Error).self) { try ReportWriter().writeSR(input, to: dir) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func renderingShowsTheConfidenceAndTheLowMark() {
        let with = ReportRenderer.render(Self.input(), trend: [])
        var plain = Self.input()
        plain.scores.confidence = nil
        plain.scores.zones = plain.scores.zones.map { ZoneScore(zone: $0.zone, grade: $0.grade, probabilities: $0.probabilities) }
        plain.alerts.removeAll { $0 == .lowConfidence }
        let without = ReportRenderer.render(plain, trend: [])
        #expect(with.pixels != without.pixels)
    }
}
