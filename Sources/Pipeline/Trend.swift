import Foundation
import Store

enum Trend {
    static func deltas(current: ImageScore, prior: PriorReference?) -> (global: Int?, zones: [Int]?) {
        guard let prior, prior.zoneGrades.count == current.zoneGrades.count else { return (nil, nil) }
        return (current.global - prior.global, zip(current.zoneGrades, prior.zoneGrades).map { $0 - $1 })
    }

    static func label(globalDelta: Int?, hasDate: Bool, threshold: Int) -> TrendLabel {
        guard hasDate else { return .undated }
        guard let d = globalDelta else { return .baseline }
        if d >= threshold { return .worse }
        if d <= -threshold { return .better }
        return .stable
    }

    /// Store's rules, evaluated exactly as the store records them.
    static func alerts(score: ImageScore, prior: PriorReference?, rules: [AlertRule]) -> [FiredAlert] {
        guard let current = try? grades(score.zoneGrades) else { return [] }
        let p = prior.flatMap { try? grades($0.zoneGrades) }
        let date = prior?.studyDate.flatMap { DicomDateKey.display(DicomDateKey.key(date: $0, time: nil)) }
        return rules.compactMap { $0.evaluate(current: current, prior: p, priorDate: date) }
    }

    static func grades(_ g: [Int]) throws -> ZoneGrades {
        guard g.count == 6 else { throw ConfigError("expected 6 zone grades, got \(g.count)") }
        return try ZoneGrades(a: g[0], b: g[1], c: g[2], d: g[3], e: g[4], f: g[5])
    }

    static func prior(from a: AnalysisRecord) -> PriorReference {
        PriorReference(studyInstanceUID: a.studyInstanceUID, studyDate: a.studyDate, sopInstanceUID: a.source.sopInstanceUID,
                       sopClassUID: a.source.sopClassUID, seriesInstanceUID: a.source.seriesInstanceUID,
                       modality: a.source.modality, zoneGrades: a.score.zoneGrades, global: a.score.global)
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

extension Trend {
    /// The stored history with this exam put in date order (replacing an earlier version of it).
    static func history(stored: [(study: String, point: ScorePoint)], current study: String, date: String?, global: Int) -> [ScorePoint] {
        var points = stored.filter { $0.study != study }.map(\.point)
        if let date, !date.isEmpty { points.append(ScorePoint(studyDate: date, global: global)) }
        return points.sorted { $0.studyDate < $1.studyDate }
    }
}
