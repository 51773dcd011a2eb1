import Foundation
import Testing
@testable import BSNetEngine

/// Temperature scaling of the per-zone probabilities and the confidence derived from them.
@Suite struct CalibrationTests {
    static func output(_ probs: [[Float]]) -> BSNetOutput {
        BSNetOutput(segmentation: [], alignedSegmentation: [], theta: [1, 0, 0, 0, 1, 0], regionProbabilities: probs,
                    stageTimings: StageTimings())
    }

    static let probs: [[Float]] = [[0.7, 0.2, 0.05, 0.05], [0.1, 0.6, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25],
                                   [0.05, 0.05, 0.1, 0.8], [0.4, 0.35, 0.15, 0.1], [0.0, 0.3, 0.7, 0.0]]

    @Test func temperatureFlattensOrSharpensAndKeepsTheGrades() throws {
        let raw = Self.output(Self.probs)
        let flat = raw.calibrated(try ProbabilityCalibration(temperature: 2))
        let sharp = raw.calibrated(try ProbabilityCalibration(temperature: 0.5))
        #expect(flat.grades == raw.grades && sharp.grades == raw.grades)
        for r in 0..<6 {
            let top = raw.regionProbabilities[r].max()!
            #expect(abs(flat.regionProbabilities[r].reduce(0, +) - 1) < 1e-6)
            #expect(abs(sharp.regionProbabilities[r].reduce(0, +) - 1) < 1e-6)
            if top > 0.26 {
                #expect(flat.regionProbabilities[r].max()! < top)
                #expect(sharp.regionProbabilities[r].max()! > top)
            } else {  // a uniform distribution stays uniform
                #expect(flat.regionProbabilities[r].allSatisfy { abs($0 - 0.25) < 1e-6 })
            }
        }
        #expect(flat.confidence < raw.confidence && sharp.confidence > raw.confidence)
    }

    @Test func matchesSoftmaxOfLogProbabilitiesOverT() throws {
        // softmax(log p / 2) of [0.7, 0.2, 0.05, 0.05] is sqrt(p) normalised.
        let p = Self.probs[0].map(Double.init)
        let s = p.map { $0.squareRoot() }, total = s.reduce(0, +)
        let got = try ProbabilityCalibration(temperature: 2).apply(Self.probs[0])
        for (g, e) in zip(got, s.map { $0 / total }) { #expect(abs(Double(g) - e) < 1e-6) }
        // Zero probabilities stay zero, and T = 1 is the identity.
        let z = try ProbabilityCalibration(temperature: 3).apply(Self.probs[5])
        #expect(z[0] == 0 && z[3] == 0 && z[2] > z[1])
        #expect(ProbabilityCalibration.identity.apply(Self.probs[1]) == Self.probs[1])
    }

    @Test func invalidTemperaturesAreRefused() {
        for t in [0, -1, .nan, .infinity] as [Double] {
            #expect(throws: CalibrationError.self) { try ProbabilityCalibration(temperature: t) }
        }
    }

    @Test func confidenceIsTheMeanTopProbabilityInZoneOrder() {
        let c = Self.output(Self.probs).scoreConfidence
        // zones A..F are regions 0,2,4,1,3,5
        let expected: [Double] = [0.7, 0.25, 0.4, 0.6, 0.8, 0.7]
        for (g, e) in zip(c.zones, expected) { #expect(abs(g - e) < 1e-6) }
        #expect(abs(c.study - expected.reduce(0, +) / 6) < 1e-6)
    }
}
