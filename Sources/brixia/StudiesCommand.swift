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

    @Option(help: "Only studies whose job is in this state (\(Store.JobState.allCases.map(\.rawValue).joined(separator: ", "))).")
    var status: Store.JobState?

    @Option(help: "At most this many studies.")
    var limit: Int?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let studies = try runReportingStoreErrors {
            try database.open().studies(since: since, state: status, limit: limit)
        }
        if json {
            print(try StoreJSON.encode(studies))
            return
        }
        guard !studies.isEmpty else {
            out("no studies match")
            return
        }
        out("date                 state        ver  global  conf   inst  patient ID       ref           study UID")
        for s in studies {
            let version = s.latestVersion.map { "v\($0)" } ?? "-"
            let global = s.global.map(String.init) ?? "-"
            // "0.41!" = low-confidence (below the model's documented threshold)
            let conf = s.confidence.map { String(format: "%.2f", $0) + (s.analysisStatus == .lowConfidence ? "!" : " ") } ?? "-    "
            out("\(pad(s.date ?? "undated", 20)) \(pad(s.state?.rawValue ?? "-", 12)) \(pad(version, 4)) \(lpad(global, 6))  \(conf) "
                  + "\(lpad("\(s.eligibleInstances)/\(s.instances)", 4))  \(pad(SafeText.escape(s.patientID), 16)) \(StudyReference.of(s.studyInstanceUID))  \(s.studyInstanceUID)")
        }
        out("\(studies.count) stud\(studies.count == 1 ? "y" : "ies"). Scores: \(aiDisclaimer)")
    }
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
