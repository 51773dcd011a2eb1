import ArgumentParser
import Foundation
import Store
import TextSafety

/// The only way a `failed` study goes back to the queue: failures are final on purpose (a study that
/// failed maxAttempts times for a transient reason needs someone to fix the cause first).
struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-queue failed studies (after fixing what made them fail); the daemon or the next `run --once` processes them.",
        discussion: """
            Only studies in state `failed` qualify (see `brixia status`): their attempts and crash counts restart. \
            Quarantined studies are not retried: their inputs are in the quarantine folder with a reason file; put \
            a corrected file back into the inbox instead.
            With --explanations, the failed explanation jobs (`brixia status`, "explanations") go back to the             queue with their attempts restarted; the daemon computes them when no study waits.

            Examples:
              brixia retry 1.2.826.0.1.3680043.8.498.1 --db brixia-work/brixia.sqlite
              brixia retry --all-failed --db brixia-work/brixia.sqlite --json
              brixia retry --explanations --config /etc/brixia/brixia.conf
            """)

    @Argument(help: "Study Instance UID of a failed study.") var study: String?
    @Flag(name: .customLong("all-failed"), help: "Re-queue every failed study.") var allFailed = false
    @Flag(help: "Re-queue every failed explanation job instead of studies.") var explanations = false
    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print JSON: the studies re-queued.") var json = false

    func validate() throws {
        guard [study != nil, allFailed, explanations].filter({ $0 }).count == 1 else {
            throw ValidationError("name one study UID, or pass --all-failed or --explanations")
        }
    }

    func run() throws {
        if explanations { return try retryExplanations() }
        let requeued = try runReportingStoreErrors {
            try database.open().retryFailed(studyInstanceUID: study, actor: "brixia retry (uid \(getuid()))")
        }
        if json {
            print(try StoreJSON.encode(requeued.map(\.studyInstanceUID)))
            return
        }
        if requeued.isEmpty { out("no failed study to retry") }
        for j in requeued { out("queued \(SafeText.escape(j.studyInstanceUID))") }
    }

    func retryExplanations() throws {
        let jobs = try runReportingStoreErrors {
            try database.open().retryFailedExplanations(actor: "brixia retry (uid \(getuid()))")
        }
        if json {
            print(try StoreJSON.encode(jobs.map { ["studyInstanceUID": $0.studyInstanceUID, "version": "\($0.version)"] }))
            return
        }
        if jobs.isEmpty { out("no failed explanation to retry") }
        for j in jobs { out("queued explanation of \(SafeText.escape(j.studyInstanceUID)) v\(j.version)") }
    }
}
