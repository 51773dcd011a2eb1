/// How the image-content check's bounds are derived from measured positives (docs/quality-check.md,
/// "How the bounds are set"): each bound is the most extreme value over the calibration images, widened by a
/// fixed margin and rounded outwards to two decimals, i.e. the loosest rule that accepts every calibration
/// image plus the margin. One function, so that the shipped bounds, the leave-one-out estimate and a model
/// brought by a user (whose segmentation differs) all come from the same rule.
extension QualityCheck {
    public static let calibrationMargin = 0.05

    /// The bounds derived from `positives` (measures of real frontal chest radiographs, as `check` records them
    /// with the paired passes where they ran). Fixed by design, not derived: the lung probability threshold (0.5)
    /// and where the paired passes start (0.25 turned, 0.40 inverted; docs/quality-check.md says why).
    public static func derivedThresholds(from positives: [Measures], margin: Double = calibrationMargin) -> Thresholds {
        precondition(!positives.isEmpty, "no calibration measures")
        // The 1e-6 keeps a value that is already on the 0.01 grid (up to float error) where it is.
        func down(_ v: Double) -> Double { ((v - margin) * 100 + 1e-6).rounded(.down) / 100 }
        func up(_ v: Double) -> Double { ((v + margin) * 100 - 1e-6).rounded(.up) / 100 }
        func lowest(_ f: (Measures) -> Double) -> Double { positives.map(f).min()! }
        func highest(_ f: (Measures) -> Double) -> Double { positives.map(f).max()! }
        var t = Thresholds()
        t.maxModeShare = up(highest(\.modeShare))
        t.minSingleLungFraction = down(lowest { min($0.rightLungFraction, $0.leftLungFraction) })
        t.minLungFraction = down(lowest(\.lungFraction))
        t.maxLungFraction = up(highest(\.lungFraction))
        t.minSymmetry = down(lowest(\.symmetry))
        t.minLargestTwoShare = down(lowest(\.largestTwoShare))
        t.centroidYRange = down(lowest { min($0.rightCentroid.y, $0.leftCentroid.y) })...up(highest { max($0.rightCentroid.y, $0.leftCentroid.y) })
        t.maxMeanCentroidY = up(highest { ($0.rightCentroid.y + $0.leftCentroid.y) / 2 })
        t.maxCentroidYGap = up(highest { abs($0.rightCentroid.y - $0.leftCentroid.y) })
        t.minCentroidSeparation = down(lowest { $0.leftCentroid.x - $0.rightCentroid.x })
        t.midpointXRange = down(lowest { ($0.rightCentroid.x + $0.leftCentroid.x) / 2 })...up(highest { ($0.rightCentroid.x + $0.leftCentroid.x) / 2 })
        t.minLungHeight = down(lowest { min($0.heights.right, $0.heights.left) })
        t.minPolarityMargin = down(lowest(\.polarityMargin))
        t.minSingleLungMargin = down(lowest(\.singleLungMargin))
        t.minUprightness = down(lowest(\.uprightness))
        // The paired rules count another version only when it is a chest by the one-image rules just derived;
        // their bounds come from the positives where that was so (none: the rule keeps its default).
        let oneImage = t
        let turned = positives.compactMap { m in m.turned.flatMap { $0.isChest(oneImage) ? $0.measures.uprightness - m.uprightness : nil } }
        if let worst = turned.max() { t.maxTurnedAdvantage = up(worst) }
        let inverted = positives.compactMap { m in m.inverted.flatMap { $0.isChest(oneImage) ? $0.measures.polarityMargin - m.polarityMargin : nil } }
        if let worst = inverted.max() { t.maxInvertedAdvantage = up(worst) }
        return t
    }

    /// A model.json `qualityCheck.bounds` entry that cannot be used.
    public struct BoundsError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Leave-one-out: each positive judged by the bounds derived from all the others. The honest estimate of
    /// how often a real image the bounds were not derived from is refused. `groups` (one per positive, e.g. the
    /// file name) leaves out every copy of the same image together: the same radiograph in two data sets must
    /// not vouch for itself. Returns the positives refused, with the verdict that refused each.
    public static func leaveOneOut(_ positives: [Measures], groups: [String]? = nil,
                                   margin: Double = calibrationMargin) -> [(index: Int, verdict: Result)] {
        precondition(groups == nil || groups!.count == positives.count, "one group per positive")
        return positives.indices.compactMap { i in
            let rest = positives.indices.filter { j in groups.map { $0[j] != $0[i] } ?? (j != i) }.map { positives[$0] }
            let r = verdict(positives[i], thresholds: derivedThresholds(from: rest, margin: margin))
            return r.passed ? nil : (i, r)
        }
    }

    /// The derived bounds by name, as model.json's `qualityCheck.bounds` stores them (the fixed parameters are
    /// not included: they are part of the method, not of a model).
    public static var boundNames: [(String, WritableKeyPath<Thresholds, Double>)] { [
        ("minLungFraction", \.minLungFraction), ("maxLungFraction", \.maxLungFraction),
        ("minSingleLungFraction", \.minSingleLungFraction), ("minSymmetry", \.minSymmetry),
        ("minLargestTwoShare", \.minLargestTwoShare), ("minCentroidY", \.minCentroidY), ("maxCentroidY", \.maxCentroidY),
        ("maxMeanCentroidY", \.maxMeanCentroidY), ("maxCentroidYGap", \.maxCentroidYGap),
        ("minCentroidSeparation", \.minCentroidSeparation), ("minMidpointX", \.minMidpointX), ("maxMidpointX", \.maxMidpointX),
        ("minLungHeight", \.minLungHeight), ("minPolarityMargin", \.minPolarityMargin),
        ("minSingleLungMargin", \.minSingleLungMargin), ("maxModeShare", \.maxModeShare), ("minUprightness", \.minUprightness),
        ("maxTurnedAdvantage", \.maxTurnedAdvantage), ("maxInvertedAdvantage", \.maxInvertedAdvantage),
    ] }
}

extension QualityCheck.Thresholds {
    public var minCentroidY: Double { get { centroidYRange.lowerBound } set { centroidYRange = newValue...max(newValue, centroidYRange.upperBound) } }
    public var maxCentroidY: Double { get { centroidYRange.upperBound } set { centroidYRange = min(centroidYRange.lowerBound, newValue)...newValue } }
    public var minMidpointX: Double { get { midpointXRange.lowerBound } set { midpointXRange = newValue...max(newValue, midpointXRange.upperBound) } }
    public var maxMidpointX: Double { get { midpointXRange.upperBound } set { midpointXRange = min(midpointXRange.lowerBound, newValue)...newValue } }

    /// Every derived bound by name (model.json `qualityCheck.bounds`).
    public var namedBounds: [String: Double] {
        Dictionary(uniqueKeysWithValues: QualityCheck.boundNames.map { ($0.0, self[keyPath: $0.1]) })
    }

    /// Bounds from model.json: every name must be known and present, and each range ordered.
    public init(namedBounds: [String: Double]) throws {
        self.init()
        if let unknown = namedBounds.keys.sorted().first(where: { k in !QualityCheck.boundNames.contains { $0.0 == k } }) {
            throw QualityCheck.BoundsError(description: "qualityCheck.bounds: unknown bound '\(unknown)' (known: \(QualityCheck.boundNames.map(\.0).joined(separator: ", ")))")
        }
        for (name, path) in QualityCheck.boundNames {
            guard let v = namedBounds[name], v.isFinite else {
                throw QualityCheck.BoundsError(description: "qualityCheck.bounds: '\(name)' is missing or not a finite number")
            }
            self[keyPath: path] = v
        }
        for (lo, hi) in [("minLungFraction", "maxLungFraction"), ("minCentroidY", "maxCentroidY"), ("minMidpointX", "maxMidpointX")]
        where namedBounds[lo]! > namedBounds[hi]! {
            throw QualityCheck.BoundsError(description: "qualityCheck.bounds: \(lo) \(namedBounds[lo]!) is above \(hi) \(namedBounds[hi]!)")
        }
    }
}
