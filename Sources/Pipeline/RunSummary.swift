import Foundation

/// Counters of one run (or of a daemon's life so far).
public struct RunSummary: Sendable, Equatable, Codable {
    public var studiesProcessed = 0
    /// Of the studies processed, those examined but not scored (failed the image-content check).
    public var studiesNotScored = 0
    public var studiesFailed = 0
    public var studiesQuarantined = 0
    public var filesArchived = 0
    public var filesDeleted = 0
    public var filesQuarantined = 0
    public var duplicatesIgnored = 0
    public var outputsWritten = 0
    /// Files still in the inbox at the end (failed jobs keep their inputs there).
    public var filesLeftInInbox = 0
    /// Internal failures (system errors, not bad inputs), human-readable.
    public var failures: [String] = []

    public init() {}

    /// Every file ended in the archive, quarantine or outputs, and nothing failed.
    public var isClean: Bool { failures.isEmpty && filesLeftInInbox == 0 && studiesFailed == 0 }

    public var text: String {
        var lines = [
            "studies processed:   \(studiesProcessed)",
            "studies quarantined: \(studiesQuarantined)",
            "studies failed:      \(studiesFailed)",
            "files archived:      \(filesArchived)",
            "files deleted:       \(filesDeleted)",
            "files quarantined:   \(filesQuarantined)",
            "duplicates ignored:  \(duplicatesIgnored)",
            "outputs written:     \(outputsWritten)",
            "files left in inbox: \(filesLeftInInbox)",
        ]
        if studiesNotScored > 0 { lines.insert("studies not scored:  \(studiesNotScored) (see `brixia studies`)", at: 1) }
        for f in failures { lines.append("failure: \(f)") }
        return lines.joined(separator: "\n")
    }
}
