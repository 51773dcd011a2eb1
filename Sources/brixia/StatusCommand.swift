import ArgumentParser
import DicomNetwork
import Foundation
import Store

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Processing queue: jobs per state, failures with their last error, last processed study; outgoing queue per PACS destination.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let status = try runReportingStoreErrors { try database.open().queueStatus() }
        let outgoing = try outgoingStatus()
        if json {
            print(try OutgoingReport.merge(try StoreJSON.encode(status), key: "outgoing", value: outgoing))
            return
        }
        print("jobs: " + JobState.allCases.map { "\($0.rawValue) \(status.counts[$0.rawValue] ?? 0)" }.joined(separator: ", "))
        if let last = status.lastProcessed {
            let score = last.global.map { ", global \($0) (v\(last.version ?? 0))" } ?? ""
            print("last processed: \(last.studyInstanceUID) at \(iso(last.finishedAt))\(score)")
        } else {
            print("last processed: none")
        }
        if status.failures.isEmpty {
            print("failures: none")
        } else {
            print("failures (most recent first):")
            for f in status.failures {
                print("  \(f.state.rawValue) \(f.studyInstanceUID) after \(f.attempts) attempt(s) at \(iso(f.updatedAt)): \(f.lastError ?? "-")")
            }
        }
        OutgoingReport.destinationLines(outgoing).forEach { print($0) }
    }
}

extension StatusCommand {
    func outgoingStatus() throws -> [OutgoingDestinationStatus] {
        do { return try OutgoingQueueReader.status(databasePath: database.db) } catch {
            throw CommandFailure(description: "\(error)")
        }
    }
}

func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: date)
}
