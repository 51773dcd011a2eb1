import BrixiaDomain
import Foundation
import Pipeline
import Store

/// The `run --once` summary: the run's counters plus, per study, what the store now holds (score,
/// zones, alerts) or why it was not scored. Scores are labelled as AI-generated in both forms.
struct RunReport {
    let summary: RunSummary
    /// The run's analyses, read back from the store (nil when it cannot be opened).
    let details: [String: StudyDetail]

    init(summary: RunSummary, database: String) {
        self.summary = summary
        let store = try? BrixiaStore.openExisting(path: database)
        var d: [String: StudyDetail] = [:]
        for s in summary.studies where s.version != nil {
            if let detail = try? store?.studyDetail(studyInstanceUID: s.studyInstanceUID) { d[s.studyInstanceUID] = detail }
        }
        details = d
    }

    func analysis(_ s: StudyResult) -> StudyDetail.AnalysisDetail? {
        details[s.studyInstanceUID]?.analyses.first { $0.analysis.version == s.version }
    }

    /// The "not scored" result this run recorded for the study (failed the image-content check), if any.
    func notScored(_ s: StudyResult) -> NotScoredRecord? {
        details[s.studyInstanceUID]?.notScored.first { $0.result.version == s.version }?.result
    }

    /// done, not-scored, failed or quarantined.
    func outcome(_ s: StudyResult) -> String { notScored(s) != nil ? "not-scored" : s.outcome }
    func reason(_ s: StudyResult) -> String? { notScored(s)?.reason ?? s.reason }

    func text() -> String {
        var lines = [summary.text]
        if !summary.studies.isEmpty {
            lines.append("")
            lines.append("studies (\(aiDisclaimer))")
            for s in summary.studies {
                let file = s.files.first.map { $0 + (s.files.count > 1 ? " +\(s.files.count - 1)" : "") } ?? "-"
                var line = "  \(pad(outcome(s), 12)) \(s.ref)  \(file)"
                if let a = analysis(s) {
                    let zones = Zone.allCases.map { "\($0.rawValue)\(a.analysis.zones[$0])" }.joined(separator: " ")
                    line += "  global \(a.analysis.global)/18  \(zones)"
                    for alert in a.alerts { line += "  ALERT \(alert.rule)" }
                } else if let reason = reason(s) {
                    line += "  \(reason)"
                }
                lines.append(line)
            }
        }
        if !summary.quarantined.isEmpty {
            lines.append("")
            lines.append("quarantined files (reasons also in <quarantine>/<file>.reason.txt)")
            for q in summary.quarantined { lines.append("  \(q.file): \(q.reason)") }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        let studies: [JSONText.Value] = summary.studies.map { s in
            var o: [(String, JSONText.Value)] = [
                ("studyInstanceUID", .string(s.studyInstanceUID)), ("ref", .string(s.ref)),
                ("files", .array(s.files.map { .string($0) })), ("outcome", .string(outcome(s))),
                ("version", s.version.map { .int($0) } ?? .null), ("reason", reason(s).map { .string($0) } ?? .null),
                ("seconds", .double((s.seconds * 1000).rounded() / 1000)),
            ]
            if let a = analysis(s) {
                o.append(("global", .int(a.analysis.global)))
                o.append(("zones", .object(Zone.allCases.map { ($0.rawValue, .int(a.analysis.zones[$0])) })))
                o.append(("status", .string(a.analysis.status.rawValue)))
                o.append(("alerts", .array(a.alerts.map { .object([("rule", .string($0.rule)), ("message", .string($0.message))]) })))
                o.append(("model", .string("\(a.analysis.modelName) \(a.analysis.modelVersion)")))
            }
            return .object(o)
        }
        let s = summary
        return JSONText.render(.object([
            ("clean", .bool(s.isClean)),
            ("elapsedSeconds", .double((s.elapsedSeconds * 1000).rounded() / 1000)),
            ("counts", .object([
                ("studiesProcessed", .int(s.studiesProcessed)), ("studiesNotScored", .int(s.studiesNotScored)),
                ("reportsAmended", .int(s.reportsAmended)), ("studiesQuarantined", .int(s.studiesQuarantined)),
                ("studiesFailed", .int(s.studiesFailed)), ("filesArchived", .int(s.filesArchived)),
                ("filesDeleted", .int(s.filesDeleted)), ("filesQuarantined", .int(s.filesQuarantined)),
                ("duplicatesIgnored", .int(s.duplicatesIgnored)), ("outputsWritten", .int(s.outputsWritten)),
                ("filesLeftInInbox", .int(s.filesLeftInInbox)),
            ])),
            ("studies", .array(studies)),
            ("quarantinedFiles", .array(s.quarantined.map { .object([("file", .string($0.file)), ("reason", .string($0.reason))]) })),
            ("failures", .array(s.failures.map { .string($0) })),
            ("recovered", .array(s.recovered.map { .object([("action", .string($0.parts.action)), ("study", $0.parts.study.map { .string($0) } ?? .null)]) })),
            ("disclaimer", .string(aiDisclaimer)),
        ]))
    }
}
