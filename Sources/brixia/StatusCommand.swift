import BrixiaDomain
import ArgumentParser
import Foundation
import Store
import TextSafety

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Every queue: study jobs per state with failures and their last error, last processed study; outgoing queue per PACS destination; explanation jobs.",
        discussion: """
            Examples:
              brixia status
              brixia status --json --config /etc/brixia/brixia.conf
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let store = try runReportingStoreErrors { try database.open() }
        let status = try runReportingStoreErrors { try store.queueStatus() }
        let outgoing = try runReportingStoreErrors { try store.outgoingStatus() }
        let explanations = try runReportingStoreErrors { try store.explanationStatus() }
        if json {
            let withOutgoing = try OutgoingReport.merge(try StoreJSON.encode(status), key: "outgoing", value: outgoing)
            print(try OutgoingReport.merge(withOutgoing, key: "explanations", value: explanations))
            return
        }
        out("jobs: " + JobState.allCases.map { "\($0.rawValue) \(status.counts[$0.rawValue] ?? 0)" }.joined(separator: ", "))
        if let last = status.lastProcessed {
            let score = last.global.map { ", global \($0) (v\(last.version ?? 0))" } ?? ""
            out("last processed: \(last.studyInstanceUID) at \(iso(last.finishedAt))\(score)")
        } else {
            out("last processed: none")
        }
        if status.failures.isEmpty {
            out("failures: none")
        } else {
            out("failures (most recent first):")
            for f in status.failures {
                let kind = f.failureKind.map { " (\($0.rawValue))" } ?? ""
                out("  \(f.state.rawValue)\(kind) \(SafeText.escape(f.studyInstanceUID)) after \(f.attempts) attempt(s) at \(iso(f.updatedAt)): \(SafeText.escape(f.lastError ?? "-"))")
            }
            if status.failures.contains(where: { $0.state == .failed }) {
                out("  failed studies keep their inputs in the inbox; re-queue them with `brixia retry STUDY_UID` or `brixia retry --all-failed`")
            }
        }
        out("not-scored studies: \(status.notScoredStudies)")
        for n in status.recentNotScored {
            out("  \(iso(n.at))  \(SafeText.escape(n.studyInstanceUID)): AI analysis not performed: \(SafeText.escape(n.reason))")
        }
        out("quarantined files: \(status.quarantinedFiles)")
        for q in status.recentQuarantine {
            out("  \(iso(q.at))  \(SafeText.escape(q.file)): \(SafeText.escape(q.reason))")
        }
        OutgoingReport.destinationLines(outgoing).forEach { out($0) }
        out("explanations: " + ExplanationJobState.allCases.map { "\($0.rawValue) \(explanations.counts[$0.rawValue] ?? 0)" }
            .joined(separator: ", "))
        for j in explanations.failures {
            out("  \(j.state.rawValue) (\(j.failureKind?.rawValue ?? "-")) \(SafeText.escape(j.studyInstanceUID)) v\(j.version) after \(j.attempts) launch(es) at \(iso(j.updatedAt)): \(SafeText.escape(j.lastError ?? "-"))")
        }
        if explanations.counts[ExplanationJobState.failed.rawValue, default: 0] > 0 {
            out("  failed explanations keep their folder and worker.log; re-queue them with `brixia retry --explanations`")
        }
    }
}

func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
}
