import Foundation

/// Counters of one run (or of a daemon's life so far).
public struct RunSummary: Sendable, Equatable, Codable {
    public var studiesProcessed = 0
    /// Of those, reports re-issued as amended versions (an earlier exam arrived, or the study was re-analysed).
    public var reportsAmended = 0
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
    /// Files this run moved to the quarantine, with the reason (relative to the inbox).
    public var quarantined: [QuarantinedInput] = []
    /// What happened to each study processed by this run, in processing order.
    public var studies: [StudyResult] = []
    /// What start-up recovery did, in order (empty after a clean stop): the path a crash left the run on.
    public var recovered: [RecoveryAction] = []
    /// Wall-clock seconds of the run.
    public var elapsedSeconds: Double = 0

    public init() {}

    /// Every file ended in the archive, quarantine or outputs, and nothing failed.
    public var isClean: Bool { failures.isEmpty && filesLeftInInbox == 0 && studiesFailed == 0 }

    public var text: String {
        var lines = [
            "studies processed:   \(studiesProcessed)",
            "reports amended:     \(reportsAmended)",
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
        lines.append("elapsed:             \(RunProgress.clock(elapsedSeconds))")
        for r in recovered { lines.append("recovery: \(r.parts.action)\(r.parts.study.map { " " + StudyReference.of($0) } ?? "")") }
        for f in failures { lines.append("failure: \(f)") }
        return lines.joined(separator: "\n")
    }
}

/// One step of recovery after a crash (`PipelineEngine.recover`), named for the state it found.
public enum RecoveryAction: Sendable, Equatable, Codable {
    /// A staging folder without a manifest (the crash came before the outputs were staged): removed.
    case droppedIncompleteStaging
    /// A staged analysis, committed or still in hand: committed if needed, published, inputs archived.
    case finishedStaged(study: String)
    /// A study the dead worker had claimed and not staged: queued again (the attempt counted).
    case requeued(study: String)
    /// The study stopped the worker `maxCrashes` times: its inputs are quarantined as poison.
    case quarantinedAsPoison(study: String)
    /// The interrupted study used up its attempts: failed, inputs kept until `brixia retry`.
    case failedForGood(study: String)

    /// (action, study) for `run --once` output: e.g. ("finished-staged", "1.2.3").
    public var parts: (action: String, study: String?) {
        switch self {
        case .droppedIncompleteStaging: return ("dropped-incomplete-staging", nil)
        case .finishedStaged(let s): return ("finished-staged", s)
        case .requeued(let s): return ("requeued", s)
        case .quarantinedAsPoison(let s): return ("quarantined-as-poison", s)
        case .failedForGood(let s): return ("failed-for-good", s)
        }
    }
}

/// A file set aside by the run and why.
public struct QuarantinedInput: Sendable, Equatable, Codable {
    public var file: String
    public var reason: String
    public init(file: String, reason: String) { self.file = file; self.reason = reason }
}

/// One study's outcome in a run (`run --once` summary and `--json`). Scores and alerts are read from
/// the store by the command, so this stays free of model details.
public struct StudyResult: Sendable, Equatable, Codable {
    public var studyInstanceUID: String
    /// The short reference the log uses (StudyReference).
    public var ref: String
    /// The study's input files, relative to the inbox.
    public var files: [String]
    /// done, failed, quarantined
    public var outcome: String
    /// The analysis version written (done only).
    public var version: Int?
    /// Why it failed or was set aside.
    public var reason: String?
    public var seconds: Double

    public init(studyInstanceUID: String, ref: String, files: [String], outcome: String, version: Int?, reason: String?, seconds: Double) {
        self.studyInstanceUID = studyInstanceUID; self.ref = ref; self.files = files; self.outcome = outcome
        self.version = version; self.reason = reason; self.seconds = seconds
    }
}

/// Where a `run --once` is: n of N studies, elapsed time and an estimate of the rest.
public struct RunProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int
    public var elapsed: TimeInterval
    public var last: StudyResult

    /// Mean time per study so far times the studies left (nil before the first one).
    public var eta: TimeInterval? {
        guard done > 0, total >= done else { return nil }
        return elapsed / Double(done) * Double(total - done)
    }

    public var line: String {
        let file = last.files.first.map { " \($0)\(last.files.count > 1 ? " +\(last.files.count - 1)" : "")" } ?? ""
        return "\(Self.counter(done: done, total: total, elapsed: elapsed, eta: eta))  study \(last.ref)\(file): \(last.outcome)"
    }

    /// "[n/N] m:ss elapsed, ETA m:ss": the head of every progress line (`run --once`, multi-file `score`).
    public static func counter(done: Int, total: Int, elapsed: TimeInterval, eta: TimeInterval?) -> String {
        "[\(done)/\(total)] \(clock(elapsed)) elapsed, \(eta.map { "ETA \(clock($0))" } ?? "ETA -")"
    }

    /// m:ss (h:mm:ss from an hour).
    public static func clock(_ t: TimeInterval) -> String {
        let s = max(0, Int(t.rounded()))
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

