import BrixiaDomain

/// Wall-clock seconds per stage of one run.
public struct StageTimings: Sendable {
    public var encoder: Double = 0
    public var decoder: Double = 0
    public var stn: Double = 0
    public var head: Double = 0
    public var total: Double { encoder + decoder + stn + head }

    subscript(stage: Stage) -> Double {
        get { switch stage { case .encoder: encoder; case .decoder: decoder; case .stn: stn; case .head: head } }
        set { switch stage { case .encoder: encoder = newValue; case .decoder: decoder = newValue; case .stn: stn = newValue; case .head: head = newValue } }
    }
}

public struct BSNetOutput: Sendable {
    /// Sigmoid lung segmentation, 512*512 row-major.
    public var segmentation: [Float]
    /// Segmentation after the STN warp, 512*512 row-major.
    public var alignedSegmentation: [Float]
    /// STN affine parameters [t0..t5] (row-major 2x3).
    public var theta: [Float]
    /// Softmax over the 4 grades for regions r0..r5 (r = 2*row + column).
    public var regionProbabilities: [[Float]]
    public var stageTimings: StageTimings
    /// How `grades` are read from `regionProbabilities` (`BSNet.run(_:readout:)` sets it; default argmax).
    public var readout: Readout = .argmax

    public init(segmentation: [Float], alignedSegmentation: [Float], theta: [Float], regionProbabilities: [[Float]], stageTimings: StageTimings) {
        self.segmentation = segmentation; self.alignedSegmentation = alignedSegmentation; self.theta = theta
        self.regionProbabilities = regionProbabilities; self.stageTimings = stageTimings
    }

    public func probabilities(_ zone: Zone) -> [Float] { regionProbabilities[zone.regionIndex] }

    /// Grade (0-3) per zone by `readout.decision` (argmax: ties go to the lower grade, as numpy's argmax).
    public var grades: [Zone: Int] {
        var g: [Zone: Int] = [:]
        for z in Zone.allCases { g[z] = readout.grade(probabilities(z)) }
        return g
    }

    /// Sum of the six zone grades, 0-18.
    public var globalScore: Int { grades.values.reduce(0, +) }

    /// The scores as the Keras output tensor (1,3,2,4), flattened row-major.
    public var scoresTensor: [Float] { regionProbabilities.flatMap { $0 } }
}
