import DicomKit
import Foundation
import Testing
@testable import Pipeline

/// Issue #14 item 6: what the scorer records about each input (real files of ../shared/data/dicom).
@Suite struct ProvenanceTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/dicom")
    static var available: Bool { FileManager.default.fileExists(atPath: dir.path) }

    static func provenance(_ name: String) throws -> (lossy: Bool, inverted: Bool, voi: String?, ts: String?) {
        let f = try DicomFile(path: dir.appendingPathComponent(name).path)
        let (_, voi) = try f.decodeDisplay()
        let p = BSNetScorer.provenance(f.instance, voi: voi)
        return (p.lossy, p.inverted, p.voi, p.transferSyntaxUID)
    }

    @Test(.enabled(if: ProvenanceTests.available, "needs ../shared/data/dicom"))
    func lossySyntaxAndInversionAreRecorded() throws {
        let jpeg = try Self.provenance("siim_cr_chest_jpegbaseline.dcm")
        #expect(jpeg.lossy && !jpeg.inverted && jpeg.ts == "1.2.840.10008.1.2.4.50")
        let mono1 = try Self.provenance("CR-MONO1-10-chest.dcm")
        #expect(!mono1.lossy && mono1.inverted && mono1.voi == "window")
        let j2k = try Self.provenance("RG1_J2KI.dcm")   // JPEG 2000 (lossy syntax .91) per data/dicom/MANIFEST.tsv
        #expect(j2k.inverted)
    }
}
