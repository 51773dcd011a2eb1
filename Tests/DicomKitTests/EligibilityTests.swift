import Testing
import Foundation
@testable import DicomKit

@Suite(.enabled(if: Fixtures.toolsAvailable, "needs DCMTK command-line tools (apt package dcmtk)"))
struct EligibilityTests {
    static func eligibility(_ spec: Fixtures.Spec) throws -> Eligibility {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        return InstanceSelector.eligibility(of: try DicomFile.readInstance(path: Fixtures.make(spec, in: dir, name: "e")))
    }

    @Test func acceptsFrontalCRAndDX() throws {
        #expect(try Self.eligibility(.init(rows: 300, cols: 300)).eligible)
        #expect(try Self.eligibility(.init(rows: 300, cols: 300, modality: "CR", sopClass: SOPClass.cr, viewPosition: "AP")).eligible)
        let sc = try Self.eligibility(.init(rows: 300, cols: 300, modality: "CR", sopClass: SOPClass.secondaryCapture))
        #expect(sc.eligible)
        let unknown = try Self.eligibility(.init(rows: 300, cols: 300, viewPosition: ""))
        #expect(unknown.eligible && unknown.warnings.contains { $0.contains("view position unknown") })
    }

    @Test func rejects() throws {
        func rejected(_ s: Fixtures.Spec, _ word: String) throws {
            let e = try Self.eligibility(s)
            #expect(!e.eligible, "expected rejection containing '\(word)'")
            #expect(e.reason.contains(word), "\(e.reason)")
        }
        try rejected(.init(rows: 300, cols: 300, viewPosition: "LL"), "lateral")
        try rejected(.init(rows: 300, cols: 300, viewPosition: "", extra: ["(0018,1030) LO [THORAX LAT]"]), "lateral")
        try rejected(.init(rows: 300, cols: 300, modality: "SR", sopClass: "1.2.840.10008.5.1.4.1.1.88.33"), "SR")
        try rejected(.init(rows: 300, cols: 300, extra: ["(0008,0070) LO [Brixia]"]), "Brixia")
        try rejected(.init(rows: 300, cols: 300, modality: "CR", sopClass: SOPClass.secondaryCapture,
                           extra: ["(0008,103e) LO [Brixia score rendering]"]), "Brixia")
        try rejected(.init(rows: 300, cols: 300, sopClass: SOPClass.dxForProcessing), "For Processing")
        try rejected(.init(rows: 300, cols: 300, modality: "OT", sopClass: SOPClass.secondaryCapture), "not CR/DX")
        try rejected(.init(rows: 300, cols: 300, modality: "CT", sopClass: "1.2.840.10008.5.1.4.1.1.2"), "not a CR/DX")
        var sec = Fixtures.Spec(rows: 300, cols: 300)
        sec.imageType = "DERIVED\\SECONDARY"
        try rejected(sec, "secondary")
        try rejected(.init(rows: 16, cols: 16, frames: 2), "multi-frame")
        try rejected(.init(rows: 100, cols: 100), "too small")
        try rejected(.init(rows: 300, cols: 300, omitPixelData: true), "no pixel data")
    }
}
