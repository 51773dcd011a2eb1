/// The state of a stored analysis (a study with scores).
public enum AnalysisStatus: String, Codable, Sendable, CaseIterable {
    case ok
    /// Scores were produced but the model's confidence is below the pipeline's threshold.
    case lowConfidence = "low-confidence"
}
