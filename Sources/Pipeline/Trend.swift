import Foundation

enum Trend {
    static func deltas(current: ImageScore, prior: PriorReference?) -> (global: Int?, zones: [Int]?) {
        guard let prior, prior.zoneGrades.count == current.zoneGrades.count else { return (nil, nil) }
        return (current.global - prior.global, zip(current.zoneGrades, prior.zoneGrades).map { $0 - $1 })
    }

    static func label(globalDelta: Int?, rules: AlertRules) -> TrendLabel {
        guard let d = globalDelta else { return .none }
        if d > rules.stableBand { return .worse }
        if d < -rules.stableBand { return .better }
        return .stable
    }

    static func alerts(score: ImageScore, globalDelta: Int?, prior: PriorReference?, rules: AlertRules) -> [String] {
        var out: [String] = []
        if let t = rules.globalAtLeast, score.global >= t {
            out.append("global Brixia score \(score.global) >= \(t)")
        }
        if let t = rules.worsenedByAtLeast, let d = globalDelta, d >= t {
            out.append("global Brixia score worsened by \(d) since the exam of \(prior?.studyDate ?? "unknown date")")
        }
        return out
    }

    static func prior(from a: AnalysisRecord) -> PriorReference {
        PriorReference(studyInstanceUID: a.studyInstanceUID, studyDate: a.studyDate,
                       sopInstanceUID: a.source.sopInstanceUID, zoneGrades: a.score.zoneGrades, global: a.score.global)
    }

    /// The image to score when a study holds several eligible ones: the latest acquisition, then
    /// the highest instance number, then the SOP Instance UID (deterministic across restarts).
    static func primaryOrder(_ a: InstanceMetadata, _ b: InstanceMetadata) -> Bool {
        let ad = a.acquisitionDateTime ?? "", bd = b.acquisitionDateTime ?? ""
        if ad != bd { return ad > bd }
        let an = a.instanceNumber ?? Int.min, bn = b.instanceNumber ?? Int.min
        if an != bn { return an > bn }
        return a.sopInstanceUID < b.sopInstanceUID
    }
}
