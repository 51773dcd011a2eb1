/// How an exam compares with the patient's previous dated exam. One rule (`classify`) for the store's
/// trend, `brixia trend`, the console and the change written into each report.
public enum TrendLabel: String, Codable, Sendable, CaseIterable {
    /// The patient's first dated exam: nothing to compare with.
    case baseline
    case worse
    case stable
    case better
    /// The study has no date, so it cannot be placed in time (listed last, no delta).
    case undated

    /// `globalDelta` is the global score minus the prior exam's (nil: no prior). A change is worse/better
    /// when |delta| >= threshold, else stable.
    public static func classify(isDated: Bool, globalDelta: Int?, threshold: Int) -> TrendLabel {
        guard isDated else { return .undated }
        guard let d = globalDelta else { return .baseline }
        if d >= threshold { return .worse }
        if d <= -threshold { return .better }
        return .stable
    }
}
