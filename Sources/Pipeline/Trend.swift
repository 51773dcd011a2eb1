import BrixiaDomain
import Foundation
import Store

enum Trend {
    static func deltas(current: ImageScore, prior: PriorReference?) -> (global: Int?, zones: [Int]?) {
        guard let prior, prior.zoneGrades.count == current.zoneGrades.count else { return (nil, nil) }
        return (current.global - prior.global, zip(current.zoneGrades, prior.zoneGrades).map { $0 - $1 })
    }

    /// Store's rules, evaluated exactly as the store records them.
    static func alerts(score: ImageScore, prior: PriorReference?, rules: [AlertRule]) -> [FiredAlert] {
        guard let current = try? grades(score.zoneGrades) else { return [] }
        let p = prior.flatMap { try? grades($0.zoneGrades) }
        let date = prior?.studyDate.flatMap { DicomDateKey.display(DicomDateKey.key(date: $0, time: nil)) }
        return rules.compactMap { $0.evaluate(current: current, prior: p, priorDate: date, confidence: score.confidence?.study) }
    }

    static func grades(_ g: [Int]) throws -> ZoneGrades {
        guard g.count == 6 else { throw ConfigError("expected 6 zone grades, got \(g.count)") }
        return try ZoneGrades(a: g[0], b: g[1], c: g[2], d: g[3], e: g[4], f: g[5])
    }

    static func prior(from a: StudyAnalysis) -> PriorReference {
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
    /// The stored history with this exam put in its place (`ExamOrder`), replacing an earlier version of it.
    static func history(stored: [(study: String, order: ExamOrder, point: ScorePoint)], current order: ExamOrder?,
                        global: Int) -> [ScorePoint] {
        var points = stored.filter { $0.study != order?.studyInstanceUID && $0.order.isDated }.map { ($0.order, $0.point) }
        if let order, let day = order.day { points.append((order, ScorePoint(studyDate: day, global: global))) }
        return points.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Why a study's report is re-issued, for the amended SR and rendering (nil: first report).
    static func replacement(of issued: IssuedReport?, prior: PriorReference?) -> ReplacedReport? {
        guard let issued, !issued.outputs.isEmpty else { return nil }
        let priorText = prior.map { "prior is now the exam of \(display($0.studyDate))" } ?? "no prior exam"
        let reason: String
        if !issued.priorKnown {
            reason = "replaces version \(issued.version): study re-analysed (\(priorText)); change and trend recomputed"
        } else if issued.priorStudyInstanceUID != prior?.studyInstanceUID {
            reason = "replaces version \(issued.version): the patient's exam history changed (\(priorText)); change and trend recomputed"
        } else {
            reason = "replaces version \(issued.version): study re-analysed (new or changed images, or a changed prior score)"
        }
        return ReplacedReport(version: issued.version, outputs: issued.outputs, reason: reason)
    }

    static func display(_ day: String?) -> String {
        DicomDateKey.display(DicomDateKey.key(date: day, time: nil)) ?? "unknown date"
    }
}
