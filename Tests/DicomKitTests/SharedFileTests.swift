import Testing
import Foundation
@testable import DicomKit
import Imaging

/// The real public CXR files in ../shared/data/dicom (see its MANIFEST.tsv).
@Suite struct SharedFileTests {
    static func file(_ name: String) -> String { SharedData.path("data/dicom/\(name)") }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func crWithoutFileMetaReadsAndDecodes() throws {
        let f = try DicomFile(path: Self.file("CR-MONO1-10-chest.dcm"))
        let d = f.instance
        #expect(!d.hasFileMeta)
        #expect(d.transferSyntaxUID == "1.2.840.10008.1.2")
        #expect(d.series.modality == "CR" && d.series.viewPosition == "PA" && d.series.bodyPartExamined == "CHEST")
        #expect(d.geometry.rows == 440 && d.geometry.columns == 440 && d.geometry.bitsStored == 10)
        #expect(d.geometry.photometricInterpretation == "MONOCHROME1")
        #expect(d.geometry.pixelSpacing == nil)
        #expect(d.presentation.windowCenters == [550] && d.presentation.windowWidths == [1024])
        let stored = try f.decodeStored()
        #expect(stored.values.min() == 0 && stored.values.max() == 979)
        let (disp, voi) = try f.decodeDisplay()
        #expect(voi == .window)
        #expect(disp.width == 440 && disp.height == 440)
        // MONOCHROME1: high stored values (bone) are dark in the data but must display bright.
        let hiIdx = stored.values.firstIndex(of: 979)!, loIdx = stored.values.firstIndex(of: 0)!
        #expect(disp.values[hiIdx] < disp.values[loIdx])
        #expect(InstanceSelector.eligibility(of: d).eligible)
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func jpeg2000DecodesThroughOpenJPEG() throws {
        let f = try DicomFile(path: Self.file("RG1_J2KI.dcm"))
        let d = f.instance
        #expect(d.transferSyntaxUID == "1.2.840.10008.1.2.4.91")
        #expect(d.geometry.rows == 1955 && d.geometry.columns == 1841 && d.geometry.bitsStored == 15)
        #expect(d.geometry.pixelSpacing == nil, "PixelSpacing 0.000 must count as missing")
        let stored = try f.decodeStored()
        #expect(stored.values.min() == 803 && stored.values.max() == 26512)   // MANIFEST min/max
        let (disp, voi) = try f.decodeDisplay()
        #expect(voi == .window && disp.values.count == 1955 * 1841)
        #expect(disp.values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func fujiAnimalLateralIsRejected() throws {
        let f = try DicomFile(path: Self.file("fuji_dx_animal_thorax_small_MONO1_inverse.dcm"))
        #expect(f.instance.presentation.presentationLUTShape == "INVERSE")
        #expect(f.instance.geometry.pixelSpacing == .init(row: 1.2, column: 1.201199999999, source: .pixelSpacing))
        let e = InstanceSelector.eligibility(of: f.instance)
        #expect(!e.eligible)
        #expect(e.reason.contains("lateral"))
        let (disp, _) = try f.decodeDisplay()
        #expect(disp.width == 211 && disp.height == 169)
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func siimSecondaryCaptureJpegBaseline() throws {
        let f = try DicomFile(path: Self.file("siim_cr_chest_jpegbaseline.dcm"))
        #expect(f.instance.instance.sopClassUID == SOPClass.secondaryCapture)
        #expect(f.instance.geometry.pixelSpacing?.row == 0.168)
        let e = InstanceSelector.eligibility(of: f.instance)
        #expect(e.eligible, "\(e.reason)")
        let (disp, voi) = try f.decodeDisplay()
        #expect(voi == .fullRange)
        let stored = try f.decodeStored()
        // 8-bit without VOI: display = stored / 255 (up to the 16-bit rendering).
        #expect(zip(disp.values, stored.values).allSatisfy { abs(Double($0) - Double($1) / 255) < 1e-6 })
        // The fake MONOCHROME1 copy has the same pixels and is displayed inverted, as its header says.
        let fake = try DicomFile(path: Self.file("siim_cr_chest_fake_MONOCHROME1.dcm"))
        let (inv, _) = try fake.decodeDisplay()
        #expect(zip(disp.values, inv.values).allSatisfy { abs($0 + $1 - 1) < 1e-6 })
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func falseMonochrome1IsFlaggedByInversionCheck() throws {
        func check(_ name: String) throws -> InversionCheck.Result {
            let px = try DicomFile(path: Self.file(name)).decodeDisplay().pixels
            return InversionCheck.check(try DisplayImage(width: px.width, height: px.height, pixels: px.values))
        }
        #expect(try check("siim_cr_chest_fake_MONOCHROME1.dcm").looksInverted)
        for name in ["siim_cr_chest_jpegbaseline.dcm", "CR-MONO1-10-chest.dcm", "RG1_J2KI.dcm"] {
            let r = try check(name)
            #expect(!r.looksInverted, "\(name): \(r)")
        }
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func concurrentDecodesAgree() async throws {
        let names = ["CR-MONO1-10-chest.dcm", "siim_cr_chest_jpegbaseline.dcm", "fuji_dx_animal_thorax_small_MONO1_inverse.dcm"]
        let reference = try names.map { try DicomFile(path: Self.file($0)).decodeDisplay().pixels.values }
        try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for i in 0..<24 {
                group.addTask { (i % 3, try DicomFile(path: Self.file(names[i % 3])).decodeDisplay().pixels.values) }
            }
            for try await (k, values) in group { #expect(values == reference[k]) }
        }
    }
}
