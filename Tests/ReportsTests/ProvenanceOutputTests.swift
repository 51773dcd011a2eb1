import Foundation
import Testing
@testable import Reports

/// Issue #14 item 6: a report derived from a lossy compressed image says so (SR text, rendering) and the
/// Secondary Capture carries Lossy Image Compression 01 with the source's ratio and method.
@Suite struct ProvenanceOutputTests {
    static func input(lossy: Bool, method: [String] = ["ISO_10918_1"]) -> ReportInput {
        var i = Fixtures.input(withPrior: false)
        i.sourceProvenance = SourceProvenance(lossy: lossy, lossyRatio: lossy ? [10.5] : [], lossyMethod: lossy ? method : [],
                                              preprocessing: "MONOCHROME1 inverted for display, VOI window")
        return i
    }

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func lossySourceIsFlaggedInTheSCAndStatedInTheSR() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let sc = try ReportWriter().writeSecondaryCapture(Self.input(lossy: true), trend: [], to: dir).path.path
        #expect(try Fixtures.dciodvfyErrors(sc).errors.isEmpty)
        #expect(try Fixtures.tag(sc, "LossyImageCompression") == ["01"])
        #expect(try Fixtures.tag(sc, "LossyImageCompressionRatio") == ["10.5"])
        #expect(try Fixtures.tag(sc, "LossyImageCompressionMethod") == ["ISO_10918_1"])
        let sr = try ReportWriter().writeSR(Self.input(lossy: true), to: dir).path.path
        #expect(try Fixtures.dciodvfyErrors(sr).errors.isEmpty)
        let dump = try Fixtures.run("dsrdump", ["+Pl", sr]).stdout
        #expect(dump.contains("Input: LOSSY compressed (ratio 10.5, ISO_10918_1); MONOCHROME1 inverted for display, VOI window"))
    }

    @Test(.enabled(if: Fixtures.dicomToolsAvailable, "needs dciodvfy (dicom3tools) and dsrdump/dcmdump (dcmtk)"))
    func losslessSourceStays00AndAHostileMethodIsLeftOut() throws {
        let dir = try Fixtures.tempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let sc = try ReportWriter().writeSecondaryCapture(Self.input(lossy: false), trend: [], to: dir).path.path
        #expect(try Fixtures.tag(sc, "LossyImageCompression") == ["00"])
        let hostile = try ReportWriter().writeSecondaryCapture(Self.input(lossy: true, method: ["evil\u{1B}[2J"]), trend: [], to: dir).path.path
        #expect(try Fixtures.tag(hostile, "LossyImageCompression") == ["01"])
        #expect(try Fixtures.tag(hostile, "LossyImageCompressionMethod").isEmpty)
        #expect(try Fixtures.dciodvfyErrors(hostile).errors.isEmpty)
    }

    @Test func theTextSaysWhatWasDone() {
        #expect(Self.input(lossy: false).sourceProvenance?.text == "Input: not lossy compressed; MONOCHROME1 inverted for display, VOI window")
    }
}
