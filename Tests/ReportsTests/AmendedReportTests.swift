import Foundation
import Testing
@testable import Reports

/// An amended report (a re-issue after the patient's exam history changed) joins the replaced report's
/// series, names the replaced SR in the Predecessor Documents Sequence and says why, in the SR and on
/// the rendering; it stays dciodvfy-clean.
@Suite("Amended reports")
struct AmendedReportTests {
    static let why = "replaces version 1: the patient's exam history changed (prior is now the exam of 2020-03-19); change and trend recomputed"

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func amendedSRNamesItsPredecessorInTheSameSeries() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let writer = ReportWriter()
        let original = try writer.writeSR(Fixtures.input(withPrior: false), to: dir)
        let originalSC = try writer.writeSecondaryCapture(Fixtures.input(withPrior: false), trend: [], to: dir)
        var input = Fixtures.input(withPrior: true)
        input.amendment = ReportAmendment(replacedSRInstanceUID: original.sopInstanceUID,
                                          replacedSRSeriesUID: original.seriesInstanceUID,
                                          replacedRenderingSeriesUID: originalSC.seriesInstanceUID,
                                          instanceNumber: 2, reason: Self.why)
        let amended = try writer.writeSR(input, to: dir)
        let path = amended.path.path
        let v = try Fixtures.dciodvfyErrors(path)
        #expect(v.iod.contains("ComprehensiveSR"))
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")

        #expect(amended.sopInstanceUID != original.sopInstanceUID)
        #expect(amended.seriesInstanceUID == original.seriesInstanceUID)
        #expect(try Fixtures.tag(path, "SeriesInstanceUID") == [original.seriesInstanceUID])
        #expect(try Fixtures.tag(path, "InstanceNumber") == ["2"])
        #expect(try Fixtures.tag(path, "(0040,a360).(0020,000d)") == [Fixtures.studyUID])
        #expect(try Fixtures.tag(path, "(0040,a360).(0008,1115).(0020,000e)") == [original.seriesInstanceUID])
        #expect(try Fixtures.tag(path, "(0040,a360).(0008,1115).(0008,1199).(0008,1155)") == [original.sopInstanceUID])
        #expect(try Fixtures.tag(path, "(0040,a360).(0008,1115).(0008,1199).(0008,1150)") == [ReportWriter.srSOPClassUID])
        let texts = try Fixtures.run("dcmdump", ["+L", "+P", "TextValue", path]).stdout
        #expect(texts.contains(Self.why))
        #expect(try Fixtures.tag(path, "VerificationFlag") == ["UNVERIFIED"])
        // The original has no predecessor.
        #expect(try Fixtures.tag(original.path.path, "(0040,a360).(0020,000d)").isEmpty)

        let sc = try writer.writeSecondaryCapture(input, trend: Fixtures.trend, to: dir)
        #expect(sc.seriesInstanceUID == originalSC.seriesInstanceUID && sc.sopInstanceUID != originalSC.sopInstanceUID)
        let vsc = try Fixtures.dciodvfyErrors(sc.path.path)
        #expect(vsc.errors.isEmpty, "dciodvfy errors: \(vsc.errors)")
        #expect(try Fixtures.tag(sc.path.path, "InstanceNumber") == ["2"])
    }

    /// The rendering shows the amendment line; an original rendering does not.
    @Test func renderingSaysItIsAmended() throws {
        var input = Fixtures.input(withPrior: true)
        let plain = ReportRenderer.render(input, trend: Fixtures.trend)
        input.amendment = ReportAmendment(replacedSRInstanceUID: nil, replacedSRSeriesUID: nil, replacedRenderingSeriesUID: nil,
                                          instanceNumber: 2, reason: Self.why)
        let amended = ReportRenderer.render(input, trend: Fixtures.trend)
        // Red ink in the amendment line's band (y 640...656, left of the chart), none there without it.
        func redPixels(_ img: RGBImage) -> Int {
            var n = 0
            for y in 640..<656 { for x in 20..<500 {
                let i = (y * img.width + x) * 3
                if img.pixels[i] > 150 && img.pixels[i + 1] < 80 && img.pixels[i + 2] < 80 { n += 1 }
            } }
            return n
        }
        #expect(redPixels(plain) == 0)
        #expect(redPixels(amended) > 100)
    }

    @Test func invalidAmendmentsAreRefused() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        var input = Fixtures.input(withPrior: false)
        input.amendment = ReportAmendment(replacedSRInstanceUID: "not a uid", replacedSRSeriesUID: "1.2.3",
                                          replacedRenderingSeriesUID: nil, instanceNumber: 2, reason: Self.why)
        #expect(throws: ReportError.self) { try ReportWriter().writeSR(input, to: dir) }
        input.amendment = ReportAmendment(replacedSRInstanceUID: "1.2.3.4", replacedSRSeriesUID: "1.2.3",
                                          replacedRenderingSeriesUID: nil, instanceNumber: 2, reason: "")
        #expect(throws: ReportError.self) { try ReportWriter().writeSR(input, to: dir) }
    }
}
