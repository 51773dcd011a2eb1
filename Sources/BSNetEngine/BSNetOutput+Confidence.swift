import BrixiaDomain

/// How sure a result is, from the (calibrated) per-zone probabilities.
///
/// - Zone confidence: the probability of the reported grade (`grades`, by the model's readout). With calibrated probabilities it
///   estimates how often a zone graded with that confidence gets the reference grade.
/// - Study confidence: the mean of the six zone confidences. By linearity of expectation it is the
///   expected fraction of the six zone grades that match the reference (no independence assumption),
///   which a reader can take literally: 0.5 = "about three of the six zone grades are expected to be
///   right". 0.25 is an uninformative model, 1 certainty.
/// Meaningful only after `calibrated(_:)` with a temperature fitted on held-out predictions.
public struct ScoreConfidence: Sendable, Equatable, Codable {
    /// Per zone, in `Zone.allCases` order (A...F).
    public let zones: [Double]
    public let study: Double

    public init(zones: [Double]) {
        self.zones = zones
        study = zones.isEmpty ? 0 : zones.reduce(0, +) / Double(zones.count)
    }
}

extension BSNetOutput {
    public var scoreConfidence: ScoreConfidence {
        let g = grades
        return ScoreConfidence(zones: Zone.allCases.map { Double(probabilities($0)[g[$0]!]) })
    }

    /// The study confidence (`ScoreConfidence.study`).
    public var confidence: Double { scoreConfidence.study }
}
