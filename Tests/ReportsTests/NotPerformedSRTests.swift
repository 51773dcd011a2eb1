import Foundation
import Testing
@testable import Reports

/// Issue #14 item 3: the short SR that says why no score was reported.
@Suite("Not-performed SR")
struct NotPerformedSRTests {
    static func input(reason: String = "image-content check failed: lungs not darker than the mediastinum") -> NotPerformedInput {
        let r = Fixtures.input(withPrior: false)
        return NotPerformedInput(patient: r.patient, study: r.study, source: r.source, reason: reason, model: r.model,
                                 equipment: r.equipment, created: r.created)
    }

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func validatesStatesTheReasonAndCarriesNoScore() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let out = try ReportWriter().writeNotPerformedSR(Self.input(), to: dir)
        let path = out.path.path
        #expect(out.sopClassUID == ReportWriter.srSOPClassUID)
        let v = try Fixtures.dciodvfyErrors(path)
        #expect(v.iod.contains("ComprehensiveSR"))
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
        let dump = try Fixtures.run("dsrdump", ["+Pc", "+Pl", path])
        #expect(dump.status == 0, "dsrdump failed: \(dump.stderr)")
        #expect(dump.stdout.contains("AI analysis not performed: image-content check failed: lungs not darker than the mediastinum"))
        #expect(dump.stdout.contains("not verified by a physician"))
        #expect(!dump.stdout.contains("BRX-ZONE") && !dump.stdout.contains("BRX-GLOBAL"), "no score in a not-performed SR")
        #expect(try Fixtures.tag(path, "VerificationFlag") == ["UNVERIFIED"])
        #expect(try Fixtures.tag(path, "SeriesNumber") == ["9901"], "the series number of Brixia's SRs")
        #expect(try Fixtures.tag(path, "StudyInstanceUID") == [Self.input().study.studyInstanceUID])
        #expect(try Fixtures.tag(path, "Manufacturer") == ["Brixia"])
    }

    @Test func anEmptyReasonIsRefused() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ReportError.self) { try ReportWriter().writeNotPerformedSR(Self.input(reason: " "), to: dir) }
    }
}
