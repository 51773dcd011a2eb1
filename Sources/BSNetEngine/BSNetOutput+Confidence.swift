extension BSNetOutput {
    /// Mean over the six zones of the winning grade's probability (0.25 = uninformative, 1 = certain).
    /// A simple, documented summary used to flag low-confidence analyses; not a calibrated probability.
    public var confidence: Double {
        let tops = regionProbabilities.map { Double($0.max() ?? 0) }
        return tops.isEmpty ? 0 : tops.reduce(0, +) / Double(tops.count)
    }
}
