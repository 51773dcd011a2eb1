import BrixiaDomain
import ArgumentParser
import Foundation
import Pipeline
import Store
import TextSafety

struct StudiesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studies",
        abstract: "List studies with their job state and latest score (most recent study date first).",
        discussion: """
            The ref column is the short study reference the log prints (study=...); `brixia show REF` accepts it.

            Examples:
              brixia studies                                  # after `brixia run --once` in this folder
              brixia studies --status failed --work-dir /var/lib/brixia
              brixia studies --since 2026-01-01 --json --config /etc/brixia/brixia.conf
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Only studies dated on or after this day (YYYY-MM-DD); undated studies are then left out.")
    var since: String?

    @Option(help: "Only studies whose job is in this state (\(BrixiaDomain.JobState.allCases.map(\.rawValue).joined(separator: ", "))).")
    var status: BrixiaDomain.JobState?

    @Option(help: "At most this many studies.")
    var limit: Int?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let store = try runReportingStoreErrors { try database.open() }
        let studies = try runReportingStoreErrors {
            try store.studies(since: since, state: status, limit: limit)
        }
        if json {
            print(try StoreJSON.encode(studies))
            return
        }
        // Files set aside at intake never became studies; say so where an operator looks for them.
        let queue = try runReportingStoreErrors { try store.queueStatus(maxFailures: 50) }
        defer {
            if queue.quarantinedFiles > 0 && (status == nil || status == .quarantined) {
                out("\(queue.quarantinedFiles) file\(queue.quarantinedFiles == 1 ? "" : "s") set aside at intake (not studies; `brixia status` lists them):")
                for f in queue.recentQuarantine.prefix(status == .quarantined ? 50 : 5) {
                    out("  \(iso(f.at))  \(SafeText.escape(f.file)): \(SafeText.escape(f.reason))")
                }
            }
        }
        guard !studies.isEmpty else {
            out("no studies match")
            return
        }
        out("date                 state        ver  global  conf   inst  patient ID       ref           study UID")
        for s in studies {
            let version = s.latestVersion.map { "v\($0)" } ?? "-"
            // A study whose latest result is "not scored" shows that, not an older score.
            let global = s.notScoredReason != nil ? "-" : (s.global.map(String.init) ?? "-")
            let state = s.notScoredReason != nil && s.state == .done ? "not-scored" : (s.state?.rawValue ?? "-")
            let shownVersion = s.notScoredReason != nil ? "-" : version
            // "0.41!" = low-confidence (below the model's documented threshold)
            let conf = s.notScoredReason == nil ? (s.confidence.map { String(format: "%.2f", $0) + (s.analysisStatus == .lowConfidence ? "!" : " ") } ?? "-    ") : "-    "
            out("\(pad(s.date ?? "undated", 20)) \(pad(state, 12)) \(pad(shownVersion, 4)) \(lpad(global, 6))  \(conf) "
                  + "\(lpad("\(s.eligibleInstances)/\(s.instances)", 4))  \(pad(SafeText.escape(s.patientID), 16)) \(StudyReference.of(s.studyInstanceUID))  \(s.studyInstanceUID)")
            if let reason = s.notScoredReason { out("    AI analysis not performed: \(SafeText.escape(reason))") }
            if let reason = s.failureReason { out("    \(s.state?.rawValue ?? "failed"): \(SafeText.escape(reason))") }
        }
        out("\(studies.count) stud\(studies.count == 1 ? "y" : "ies"). Scores: \(aiDisclaimer)")
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
