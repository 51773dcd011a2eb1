import Foundation
import ModelBundle
import Testing
@testable import BSNetEngine

/// Parity with the authors' Keras model (scaled-variant weights) on the shipped inputs.
enum ReferenceWeights {
    /// The authors' Keras-2 h5 (scaled variant), read by ModelBundle's KerasWeightsFile.
    /// nonisolated(unsafe): only read (tensors are copied out), and only by ParityTests, a `.serialized` suite.
    nonisolated(unsafe) static let provider: WeightProvider? = SharedData.available ? try? KerasWeightsFile(path: SharedData.path("bscore_scaled_weights.h5")) : nil
    static var available: Bool { SharedData.available && provider != nil }
}

@Suite(.serialized, .enabled(if: ReferenceWeights.available, "needs ../shared (reference data) and the Keras weights"))
struct ParityTests {
    /// nonisolated(unsafe): a BSNet has a mutable arena; only this `.serialized` suite's tests use it, one at a time.
    nonisolated(unsafe) static let net: BSNet? = ReferenceWeights.provider.flatMap { try? BSNet(weights: $0, threads: 2) }

    static func load(_ name: String) throws -> [Float] { try NpyArray.read(path: SharedData.path(name)).floats() }

    static func argmax(_ p: [Float]) -> Int { p.indices.max { p[$0] < p[$1] }! }

    @Test(arguments: ["cxr", "synth"])
    func outputsMatchKeras(_ case_: String) throws {
        let net = try #require(Self.net)
        let input = try NpyArray.read(path: SharedData.path("input_\(case_).npy"))
        #expect(input.shape == [1, 512, 512, 1])
        let out = try net.run(input.floats())
        let seg = try Self.load("\(case_)_scaled_seg.npy")
        let aligned = try Self.load("\(case_)_scaled_aligned_seg.npy")
        let theta = try Self.load("\(case_)_scaled_affine.npy")
        let scores = try Self.load("\(case_)_scaled_scores.npy")
        let eSeg = maxAbsDiff(out.segmentation, seg), eAligned = maxAbsDiff(out.alignedSegmentation, aligned)
        let eTheta = maxAbsDiff(out.theta, theta), eScores = maxAbsDiff(out.scoresTensor, scores)
        print("parity \(case_): seg \(eSeg) aligned_seg \(eAligned) theta \(eTheta) scores \(eScores)")
        #expect(eSeg <= 1e-4)
        // A warped map: the spec (bsnet-architecture.md §7) expects "a few 1e-4" for a faithful float32 port,
        // since a theta difference of 1e-7 moves sample coordinates near 500 px across pixel edges. Measured
        // 4.7e-5 - 7.9e-5 on the 2026-12-02 machine and 1.22e-4 (cxr) on the 2026-12-06 one, seg and theta
        // unchanged; 3e-4 is the spec's bound, not a margin over one machine.
        #expect(eAligned <= 3e-4)
        #expect(eTheta <= 1e-4)
        #expect(eScores <= 1e-3)
        for r in 0..<6 {
            #expect(Self.argmax(out.regionProbabilities[r]) == Self.argmax(Array(scores[(4 * r)..<(4 * r + 4)])), "region \(r)")
        }
    }

    @Test func cxrGradesMatchTheSpec() throws {
        let net = try #require(Self.net)
        let out = try net.run(try Self.load("input_cxr.npy"))
        // Spec section 7: argmax of the CXR scores [[2,1],[3,2],[0,3]] -> A=2, D=1, B=3, E=2, C=0, F=3.
        #expect(out.grades == [.A: 2, .D: 1, .B: 3, .E: 2, .C: 0, .F: 3])
        #expect(out.globalScore == 11)
    }

    @Test func cxrIntermediatesMatchKeras() throws {
        let net = try #require(Self.net)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bsnet-npz-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        unzip.arguments = ["-q", "-o", SharedData.path("cxr_scaled_intermediates.npz"), "-d", dir.path]
        try unzip.run(); unzip.waitUntilExit()
        try #require(unzip.terminationStatus == 0)

        let gaps = (0..<6).map { BSNetArchitecture.kerasName("global_average_pooling2d", $0) }
        // Tolerances: warped maps carry float32 coordinate rounding (spec: "a few 1e-4").
        let checks: [(String, Float)] = [("relu1", 1e-4), ("stn", 1e-5), ("bilinear_interpolation", 1e-3),
                                         ("tf.image.resize", 1e-4), ("bilinear_interpolation_1", 1e-3),
                                         ("bilinear_interpolation_2", 1e-3), ("bilinear_interpolation_3", 1e-3),
                                         ("tf.image.resize_3", 1e-4), ("P5_swish", 1e-3)] + gaps.map { ($0, 1e-3) }
        let (_, captured) = try net.run(try Self.load("input_cxr.npy"), capturing: Set(checks.map(\.0)))
        for (name, tol) in checks {
            let ref = try NpyArray.read(path: dir.appendingPathComponent(name + ".npy").path)
            let mine = try #require(captured[name])
            #expect(mine.count == ref.count, "\(name) size")
            let err = maxAbsDiff(mine.toArray(), ref.floats())
            print("intermediate \(name): max abs err \(err) (max |ref| \(maxAbs(ref.floats())))")
            #expect(err <= tol, "\(name)")
        }
    }
}
