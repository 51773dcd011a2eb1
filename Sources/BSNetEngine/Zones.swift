/// Brixia lung zones. The image is a PA/AP chest film as displayed: image-left = patient's right.
/// Rows: upper (A/D), middle (B/E), lower (C/F). Column 0 = image-left half = right lung = A/B/C,
/// column 1 = image-right half = left lung = D/E/F. BS-Net's region index is r = 2*row + column,
/// so A=r0, D=r1, B=r2, E=r3, C=r4, F=r5 (the official label layout [[A,D],[B,E],[C,F]]).
public enum BrixiaZone: String, CaseIterable, Sendable, Codable {
    case A, B, C, D, E, F

    /// 0 = upper, 1 = middle, 2 = lower.
    public var row: Int {
        switch self { case .A, .D: 0; case .B, .E: 1; case .C, .F: 2 }
    }
    /// 0 = image-left half (patient's right lung), 1 = image-right half (patient's left lung).
    public var column: Int {
        switch self { case .A, .B, .C: 0; case .D, .E, .F: 1 }
    }
    /// Index into BS-Net's six regions (and the (3,2,4) score tensor flattened to (6,4)).
    public var regionIndex: Int { 2 * row + column }

    public init(regionIndex r: Int) {
        precondition((0..<6).contains(r), "region index \(r) out of 0..<6")
        self = BrixiaZone.allCases.first { $0.regionIndex == r }!
    }
}

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

    public func probabilities(_ zone: BrixiaZone) -> [Float] { regionProbabilities[zone.regionIndex] }

    /// Grade (0-3) per zone by `readout.decision` (argmax: ties go to the lower grade, as numpy's argmax).
    public var grades: [BrixiaZone: Int] {
        var g: [BrixiaZone: Int] = [:]
        for z in BrixiaZone.allCases { g[z] = readout.grade(probabilities(z)) }
        return g
    }

    /// Sum of the six zone grades, 0-18.
    public var globalScore: Int { grades.values.reduce(0, +) }

    /// The scores as the Keras output tensor (1,3,2,4), flattened row-major.
    public var scoresTensor: [Float] { regionProbabilities.flatMap { $0 } }
}
