/// How a run's per-zone probabilities become the reported grades: a property of the model, recorded in its
/// model.json (`readout`), because the same weights read out differently give different scores.
///
/// - `decision`: `argmax` takes the most probable grade (the authors' BS-Net). `median` takes the median of
///   the predicted grade distribution, the smallest grade whose cumulative probability reaches 0.5: the grade
///   that minimises the expected absolute error, which is what the Brixia score's users (and its MAE figures)
///   count. It differs from argmax only when the distribution is spread over several grades.
/// - `mirrorAverage`: test-time mirroring. The image is also run flipped left/right and each zone's
///   probabilities are averaged with those of its mirror zone (A<->D, B<->E, C<->F) in the flipped run. One more
///   forward pass; the segmentation, alignment and image-content check stay those of the image as given.
public struct Readout: Sendable, Equatable {
    public enum Decision: String, Sendable, CaseIterable {
        case argmax, median
    }

    public var decision: Decision
    public var mirrorAverage: Bool

    public init(decision: Decision = .argmax, mirrorAverage: Bool = false) {
        self.decision = decision; self.mirrorAverage = mirrorAverage
    }

    /// The authors' readout, and that of any bundle whose model.json records none.
    public static let argmax = Readout()

    /// The grade `decision` picks from one zone's probabilities over grades 0...3 (ties: the lower grade).
    public func grade(_ p: [Float]) -> Int {
        switch decision {
        case .argmax:
            var best = 0
            for i in 1..<p.count where p[i] > p[best] { best = i }
            return best
        case .median:
            let total = p.reduce(0, +)
            var cumulative: Float = 0
            for (g, v) in p.enumerated() {
                cumulative += v
                if cumulative >= 0.5 * total { return g }
            }
            return p.count - 1
        }
    }
}

extension BSNet {
    /// Runs the network and reads the scores out as `readout` says (`Readout`).
    public func run(_ input: [Float], readout: Readout) throws -> BSNetOutput {
        var out = try run(input)
        out.readout = readout
        guard readout.mirrorAverage else { return out }
        let n = BSNetArchitecture.inputSize
        var mirrored = [Float](repeating: 0, count: input.count)
        for y in 0..<n {
            for x in 0..<n { mirrored[y * n + x] = input[y * n + (n - 1 - x)] }
        }
        let m = try run(mirrored)
        // Region r = 2*row + column: the flipped image's column c holds the original's column 1-c.
        out.regionProbabilities = out.regionProbabilities.enumerated().map { r, p in
            zip(p, m.regionProbabilities[r ^ 1]).map { ($0 + $1) / 2 }
        }
        for stage in Stage.allCases { out.stageTimings[stage] += m.stageTimings[stage] }
        return out
    }
}
