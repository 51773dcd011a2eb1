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

/// One test per row of the decision table in docs/dicom-input.md, section 6 (issue #14 item 1).
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs DCMTK command-line tools (apt package dcmtk)"))
struct EligibilityDecisionTableTests {
    static func e(_ spec: Fixtures.Spec) throws -> Eligibility { try EligibilityTests.eligibility(spec) }
    static func spec(view: String = "PA", _ extra: [String]) -> Fixtures.Spec {
        Fixtures.Spec(rows: 300, cols: 300, modality: "CR", sopClass: SOPClass.cr, viewPosition: view, extra: extra)
    }
    static func viewCode(_ value: String, _ scheme: String, _ meaning: String) -> [String] {
        ["(0054,0220) SQ (Sequence with undefined length #=1)",
         "(fffe,e000) na (Item with undefined length #=3)",
         "(0008,0100) SH [\(value)]", "(0008,0102) SH [\(scheme)]", "(0008,0104) LO [\(meaning)]",
         "(fffe,e00d) na (ItemDelimitationItem)",
         "(fffe,e0dd) na (SequenceDelimitationItem)"]
    }
    func rejected(_ s: Fixtures.Spec, _ words: String...) throws {
        let r = try Self.e(s)
        #expect(!r.eligible, "expected a rejection mentioning \(words), got accepted: \(r.reason)")
        for w in words { #expect(r.reason.contains(w), "reason '\(r.reason)' lacks '\(w)'") }
    }
    func accepted(_ s: Fixtures.Spec) throws -> Eligibility {
        let r = try Self.e(s)
        #expect(r.eligible, "expected accepted, got: \(r.reason)")
        return r
    }

    // Row 6: BodyPartExamined.
    @Test func bodyPartMustBeTheChest() throws {
        try rejected(Self.spec(["(0018,0015) CS [EXTREMITY]"]), "BodyPartExamined 'EXTREMITY'", "not the chest")
        try rejected(Self.spec(["(0018,0015) CS [KNEE]"]), "KNEE")
        try rejected(Self.spec(["(0018,0015) CS [knee]"]), "knee")
        try rejected(Self.spec(["(0018,0015) CS [CHESTABDOMEN]"]), "CHESTABDOMEN")
        try rejected(Self.spec(["(0018,0015) CS [ABDOMEN]"]), "ABDOMEN")
        for ok in ["CHEST", "chest", "THORAX", "LUNG", "PORT CHEST", "THORAX_PA", "Torace", "BRUST"] {
            let r = try accepted(Self.spec(["(0018,0015) CS [\(ok)]"]))
            #expect(!r.warnings.contains { $0.contains("BodyPart") }, "\(ok): \(r.warnings)")
        }
        _ = try accepted(Self.spec([]))   // absent: no information, accepted
    }

    // Row 7a: ViewPosition.
    @Test func viewPositionWords() throws {
        for v in ["LL", "RL", "LATERAL", "LAT"] { try rejected(Self.spec(view: v, []), "lateral view", "ViewPosition") }
        for v in ["RLO", "LLO", "RAO", "LPO"] { try rejected(Self.spec(view: v, []), "oblique view", "ViewPosition \(v)") }
        for v in ["RLD", "LLD"] { try rejected(Self.spec(view: v, []), "decubitus view") }
        for v in ["AP", "PA", "AP SUPINE"] {
            let r = try accepted(Self.spec(view: v, []))
            #expect(r.warnings.isEmpty, "\(v): \(r.warnings)")
        }
        let odd = try accepted(Self.spec(view: "XYZ", []))
        #expect(odd.warnings.contains { $0.contains("'XYZ' not recognised") })
    }

    // Row 7b: View Code Sequence (CID 4010), SNOMED CT and legacy SNOMED-RT codes, meaning fallback.
    @Test func viewCodeSequence() throws {
        try rejected(Self.spec(view: "", Self.viewCode("R-10232", "SRT", "right lateral")), "lateral view", "right lateral", "R-10232")
        try rejected(Self.spec(view: "", Self.viewCode("399173006", "SCT", "left lateral")), "lateral view", "399173006")
        try rejected(Self.spec(view: "", Self.viewCode("R-10236", "SNM3", "left lateral")), "lateral view")
        try rejected(Self.spec(view: "", Self.viewCode("399038007", "SCT", "right posterior oblique")), "oblique view")
        try rejected(Self.spec(view: "", Self.viewCode("399312000", "SCT", "antero-posterior oblique")), "oblique view")
        try rejected(Self.spec(view: "", Self.viewCode("102535000", "SCT", "right lateral decubitus")), "decubitus view")
        try rejected(Self.spec(view: "", Self.viewCode("X-1", "99LOCAL", "Lateral chest")), "lateral view", "99LOCAL")
        try rejected(Self.spec(view: "", Self.viewCode("399162004", "SCT", "cranio-caudal")), "not a frontal chest projection")
        // Conflict: ViewPosition PA but the code says lateral.
        try rejected(Self.spec(view: "PA", Self.viewCode("R-10232", "SRT", "right lateral")), "lateral view", "conflicts with ViewPosition PA")
        for (v, s, m) in [("R-10206", "SRT", "antero-posterior"), ("399348003", "SCT", "antero-posterior"),
                          ("R-10214", "SRT", "postero-anterior"), ("272479007", "SCT", "postero-anterior"),
                          ("399033003", "SCT", "frontal")] {
            let r = try accepted(Self.spec(view: "", Self.viewCode(v, s, m)))
            #expect(r.warnings.isEmpty, "\(v): \(r.warnings)")
        }
    }

    // Row 7c: Patient Orientation.
    @Test func patientOrientation() throws {
        try rejected(Self.spec(view: "", ["(0020,0020) CS [P\\F]"]), "lateral view", "PatientOrientation P\\F")
        try rejected(Self.spec(view: "", ["(0020,0020) CS [A\\F]"]), "lateral view")
        try rejected(Self.spec(view: "PA", ["(0020,0020) CS [A\\F]"]), "conflicts with ViewPosition PA")
        try rejected(Self.spec(view: "", ["(0020,0020) CS [L\\P]"]), "not a frontal chest projection")
        for ok in ["L\\F", "R\\F", "LP\\F", "F\\L"] {
            let r = try accepted(Self.spec(view: "", ["(0020,0020) CS [\(ok)]"]))
            #expect(r.warnings.isEmpty, "\(ok): \(r.warnings)")
        }
    }

    // Row 7d: ImageLaterality.
    @Test func imageLaterality() throws {
        try rejected(Self.spec(["(0020,0062) CS [L]"]), "ImageLaterality L")
        try rejected(Self.spec(["(0020,0062) CS [R]"]), "ImageLaterality R")
        _ = try accepted(Self.spec(["(0020,0062) CS [B]"]))
        _ = try accepted(Self.spec(["(0020,0062) CS [U]"]))
    }

    // Row 7e: descriptions are weak evidence (only without a frontal attribute).
    @Test func descriptionsOnlyWithoutFrontalAttribute() throws {
        try rejected(Self.spec(view: "", ["(0008,103e) LO [Thorax lateral]"]), "lateral view", "SeriesDescription")
        _ = try accepted(Self.spec(view: "PA", ["(0008,1030) LO [CHEST PA AND LAT]"]))
        let unknown = try accepted(Self.spec(view: "", []))
        #expect(unknown.warnings.contains { $0.contains("view position unknown") })
    }

    // The issue's two examples: a CR AP leg and the same marked KNEE.
    @Test func issueExamples() throws {
        try rejected(Self.spec(view: "AP", ["(0018,0015) CS [EXTREMITY]"]), "EXTREMITY")
        try rejected(Self.spec(view: "AP", ["(0018,0015) CS [KNEE]"]), "KNEE")
        try rejected(Self.spec(view: "", Self.viewCode("R-10232", "SRT", "right lateral")), "right lateral")
        try rejected(Self.spec(view: "", ["(0020,0020) CS [P\\F]"]), "P\\F")
    }

    @Test func lossyAttributesAreRead() throws {
        let dir = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Fixtures.make(Self.spec(["(0028,2110) CS [01]", "(0028,2112) DS [10.5]", "(0028,2114) CS [ISO_10918_1]"]),
                                     in: dir, name: "l")
        let d = try DicomFile.readInstance(path: path)
        #expect(d.lossyImageCompression == "01")
        #expect(d.lossyImageCompressionRatio == [10.5])
        #expect(d.lossyImageCompressionMethod == ["ISO_10918_1"])
    }
}

extension EligibilityDecisionTableTests {
    // Row 7e: a frontal PatientOrientation does not overrule a lateral description (the Fuji dog lateral says L\F).
    @Test func orientationAloneDoesNotOverruleADescription() throws {
        try rejected(Self.spec(view: "", ["(0020,0020) CS [L\\F]", "(0018,1400) LO [THORAX LATERAL]"]), "lateral view", "AcquisitionDeviceProcessingDescription")
        _ = try accepted(Self.spec(view: "", Self.viewCode("R-10206", "SRT", "antero-posterior") + ["(0008,1030) LO [CHEST AP AND LAT]"]))
    }
}
