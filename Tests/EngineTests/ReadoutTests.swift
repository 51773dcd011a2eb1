import Testing
@testable import BSNetEngine

/// How grades are read out of the probabilities (`Readout`): the decision rules and test-time mirroring.
@Suite(.serialized) struct ReadoutTests {
    @Test func argmaxAndMedianDecisions() {
        let argmax = Readout(decision: .argmax), median = Readout(decision: .median)
        // Spread over grades: the mode is 0, but half the mass lies at 2 or above.
        let spread: [Float] = [0.4, 0.05, 0.3, 0.25]
        #expect(argmax.grade(spread) == 0)
        #expect(median.grade(spread) == 2)    // cumulative 0.4, 0.45, 0.75: first >= 0.5 is grade 2
        // A peaked distribution reads the same either way.
        #expect(argmax.grade([0.05, 0.8, 0.1, 0.05]) == 1 && median.grade([0.05, 0.8, 0.1, 0.05]) == 1)
        // Exactly half the mass on grade 0: the lower grade, as numpy's cumsum rule in training/bsnet/readout.py.
        #expect(median.grade([0.5, 0, 0, 0.5]) == 0)
        #expect(median.grade([0.25, 0.25, 0.25, 0.25]) == 1)
        #expect(argmax.grade([0.25, 0.25, 0.25, 0.25]) == 0)
        // Unnormalised input is judged against half its total.
        #expect(median.grade([1, 1, 2, 0]) == 1)
    }

    @Test func outputGradesAndConfidenceFollowTheReadout() {
        var out = BSNetOutput(segmentation: [], alignedSegmentation: [], theta: [1, 0, 0, 0, 1, 0],
                              regionProbabilities: Array(repeating: [0.4, 0.05, 0.3, 0.25], count: 6),
                              stageTimings: StageTimings())
        #expect(out.globalScore == 0)
        #expect(abs(out.confidence - 0.4) < 1e-6)
        out.readout = Readout(decision: .median)
        #expect(out.globalScore == 12)
        // Confidence is the probability of the reported grade, not of the most probable one.
        #expect(abs(out.confidence - 0.3) < 1e-6)
    }

    @Test func mirrorAverageIsTheMeanOverTheFlippedImageWithZonesSwapped() throws {
        let net = try BSNet(weights: SeededWeights(seed: 11), threads: 1)
        let n = BSNetArchitecture.inputSize
        var s: UInt64 = 5
        let input: [Float] = (0..<(n * n)).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(i % n) / Float(n) * 0.5 + Float(s >> 40) / Float(1 << 24) * 0.5   // not mirror-symmetric
        }
        var flipped = input
        for y in 0..<n { for x in 0..<n { flipped[y * n + x] = input[y * n + n - 1 - x] } }
        let plain = try net.run(input), other = try net.run(flipped)
        let both = try net.run(input, readout: Readout(decision: .median, mirrorAverage: true))
        #expect(both.readout == Readout(decision: .median, mirrorAverage: true))
        #expect(both.segmentation == plain.segmentation && both.theta == plain.theta)
        let swapped = [1, 0, 3, 2, 5, 4]
        var differs = false
        for r in 0..<6 {
            for g in 0..<4 {
                let expected = (plain.regionProbabilities[r][g] + other.regionProbabilities[swapped[r]][g]) / 2
                #expect(abs(both.regionProbabilities[r][g] - expected) < 1e-6)
                if abs(both.regionProbabilities[r][g] - plain.regionProbabilities[r][g]) > 1e-6 { differs = true }
            }
        }
        #expect(differs, "the flipped run must contribute")
        // Without mirroring the readout only changes the decision.
        let single = try net.run(input, readout: Readout(decision: .median))
        #expect(single.regionProbabilities == plain.regionProbabilities)
    }
}
