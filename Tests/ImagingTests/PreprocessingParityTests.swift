import Testing
import ModelBundle
import Foundation
@testable import Imaging

/// Parity with the authors' preprocessing (cv2.resize INTER_LINEAR on float64, PIL equalize on 12 bits).
@Suite struct PreprocessingParityTests {
    static let ref = "data/reference/bsnet-keras/"

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func resizeAndEqualizeMatchReference() throws {
        let orig = try NpyArray.read(path: SharedData.path(Self.ref + "cxr_gray_uint8_original.npy"))
        let loaded = try NpyArray.read(path: SharedData.path(Self.ref + "cxr_loaded_512_float64.npy"))
        let equalized = try NpyArray.read(path: SharedData.path(Self.ref + "cxr_equalized_512_float64.npy"))
        #expect(orig.shape.count == 2)
        let h = orig.shape[0], w = orig.shape[1]
        let gray8 = orig.doubles().map { UInt8($0) }
        let image = try DisplayImage(width: w, height: h, gray8: gray8)

        let resized = Preprocessor.resized(image)
        #expect(resized.count == 512 * 512)
        #expect(loaded.doubles().count == 512 * 512)
        let maxErr = zip(resized, loaded.doubles()).map { abs($0 - $1) }.max() ?? 1
        #expect(maxErr <= 1e-5, "resize max abs err \(maxErr)")

        // Equalised levels must be identical: compare the levels (value * max) of ours and the reference.
        let ours = Preprocessor.equalized(resized)
        let refMax = Equalize.equalizedLevels(loaded.doubles()).max()!
        let oursLevels = Equalize.equalizedLevels(resized)
        let refLevels = equalized.doubles().map { Int(($0 * Double(refMax)).rounded()) }
        let mismatches = zip(oursLevels, refLevels).filter { $0 != $1 }.count
        #expect(mismatches == 0, "\(mismatches) equalised levels differ")
        let exact = zip(resized, loaded.doubles()).filter { $0 != $1 }.count
        #expect(exact == 0, "\(exact) resized values are not bit-identical")
        let eqErr = zip(ours, equalized.doubles()).map { abs($0 - $1) }.max() ?? 1
        #expect(eqErr <= 1e-12, "equalized max abs err \(eqErr)")

        // The Float32 model input is the same numbers.
        let input = Preprocessor.modelInput(from: image)
        #expect(zip(input, equalized.doubles()).allSatisfy { abs(Double($0) - $1) <= 1e-7 })
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func modelInputMatchesShippedInput() throws {
        // input_cxr.npy is the preprocessed (1,512,512,1) float32 tensor of the same image.
        let orig = try NpyArray.read(path: SharedData.path(Self.ref + "cxr_gray_uint8_original.npy"))
        let input = try NpyArray.read(path: SharedData.path(Self.ref + "input_cxr.npy"))
        let image = try DisplayImage(width: orig.shape[1], height: orig.shape[0], gray8: orig.doubles().map { UInt8($0) })
        let ours = Preprocessor.modelInput(from: image)
        let err = zip(ours, input.doubles()).map { abs(Double($0) - $1) }.max() ?? 1
        #expect(err <= 1e-6, "max abs err \(err)")
    }
}
