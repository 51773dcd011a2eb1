import BlockingExecutor
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TextSafety

/// Drives the engine: `runOnce` for `brixia run --once`, `runDaemon` for `brixia serve`.
/// Every engine call runs on the process's blocking-work executor (scoring blocks for seconds), one at a time
/// (`engineLock`).
/// Time: every decision (quiet period, retry back-off, recorded times) uses the engine's injected clock,
/// `PipelineDependencies.now`, which tests hold and advance. The wall clock here only paces the loop (rescans,
/// idle ticks, elapsed seconds) and judges file stability against mtimes, which the file system stamps with it.
/// @unchecked Sendable: `engine` (not thread-safe) is only touched inside `onEngine`, i.e. while holding
/// `engineLock`; `scanner` locks itself; the other members are immutable.
public final class PipelineRunner: @unchecked Sendable {
    public let engine: PipelineEngine
    let scanner: InboxScanner
    let log: Logger
    private let engineLock = Mutex(())

    public init(engine: PipelineEngine, logger: Logger) {
        self.engine = engine
        self.scanner = InboxScanner(inbox: engine.config.inbox, stabilityPeriod: engine.config.stabilityPeriod)
        self.log = logger
    }

    /// Runs engine work on the blocking-work executor, never two at once.
    func onEngine<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingExecutor.run { [self] in try engineLock.withLock { _ in try work() } }
    }

    /// Regular files of the inbox; links, FIFOs, sockets, devices and too-deep folders are set aside.
    func scanInbox() -> [URL] {
        let listing = scanner.scan()
        if !listing.irregular.isEmpty { engine.setAsideIrregular(listing.irregular) }
        return listing.files
    }

    /// Takes every stable file among `files`; returns the ones still being written.
    func intakeStable(_ files: [URL]) -> [URL] {
        let (stable, notYet) = scanner.stableFiles(files, now: Date())   // wall clock: compared with mtimes
        var waiting = notYet
        for f in stable {
            do {
                if try engine.intake(f) == .waiting { waiting.append(f); continue }
            } catch {
                // A system error (not a bad file): leave the file where it is; the next pass retries.
                engine.noteFailure("intake of \(SafeText.escape(f.lastPathComponent)): \(error)")
            }
            scanner.forget(f)
        }
        return waiting
    }

    /// Processes everything present, without a quiet period, and returns the summary. Files still
    /// being written are waited for (up to `maxWait`).
    public func runOnce(maxWait: TimeInterval = 120, progress: (@Sendable (RunProgress) -> Void)? = nil) async throws -> RunSummary {
        try await onEngine { [self] in
            let started = Date()
            try engine.prepareFolders()
            try engine.recover()
            let deadline = Date().addingTimeInterval(maxWait)
            var waiting = intakeStable(scanInbox())
            while !waiting.isEmpty && Date() < deadline {
                Thread.sleep(forTimeInterval: min(0.25, max(0.05, engine.config.stabilityPeriod / 4)))
                waiting = intakeStable(scanInbox())
            }
            // Everything received is complete for --once. A job waiting out a back-off goes now (the
            // operator's run is the wait); one that fails during this run waits for the next run.
            try engine.deps.store.promote(quietBefore: .distantFuture, now: engine.deps.now())
            var tried = Set<String>()
            var total = try engine.deps.store.queuedCount()
            var studyStart = Date()
            while let (study, outcome) = try engine.processNext(retryBefore: .distantFuture, excluding: tried) {
                if case .failed = outcome { tried.insert(study) }
                let result = engine.studyResult(study, outcome, seconds: Date().timeIntervalSince(studyStart))
                engine.summary.studies.append(result)
                // A study re-queued by a late instance counts again.
                total = max(total, engine.summary.studies.count)
                progress?(RunProgress(done: engine.summary.studies.count, total: total,
                                      elapsed: Date().timeIntervalSince(started), last: result))
                studyStart = Date()
            }
            try engine.runExplanationsToCompletion()   // only after every score is committed
            engine.alertHooks.drain()                  // the run ends when its alerts are delivered
            engine.summary.elapsedSeconds = Date().timeIntervalSince(started)
            return engine.finishSummary(inboxFiles: scanner.listFiles().count)
        }
    }

    /// The daemon loop: inotify + periodic rescan -> intake -> quiet period -> process, until graceful shutdown
    /// (swift-service-lifecycle: SIGTERM/SIGINT in a ServiceGroup) or cancellation of its task. Work on the
    /// engine's queue is never interrupted: the step in hand (a study) is finished, then the loop returns; an idle
    /// wait of `tick` ends at once.
    public func runDaemon(tick: TimeInterval = 0.25) async throws {
        try await onEngine { [self] in
            engine.waitForIncompleteFiles = true
            try engine.prepareFolders()
            try engine.recover()
        }
        let watcher: InotifyWatcher?
        do { watcher = try InotifyWatcher(directory: engine.config.inbox) } catch {
            log.warning("inotify unavailable; relying on periodic rescans", metadata: ["error": "\(error)"])
            watcher = nil
        }
        let changes = ChangeSet()
        let pump = watcher.map { w in
            Task.detached { for await url in w.events() { changes.add(url) } }
        }
        defer { watcher?.stop(); pump?.cancel() }

        var lastFullScan = Date.distantPast
        var waiting: [URL] = []
        log.info("watching inbox", metadata: ["inbox": "\(engine.config.inbox.path)",
                                              "quietPeriodSeconds": "\(engine.config.quietPeriod)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let fullScan = Date().timeIntervalSince(lastFullScan) >= engine.config.rescanInterval
            if fullScan { lastFullScan = Date() }
            let changed = changes.drain()
            let w = waiting
            waiting = try await onEngine { [self] in
                var files: [URL]
                if fullScan {
                    // Also retries archiving of committed studies whose inputs could not be moved.
                    do { try engine.recover(startup: false) } catch { engine.noteFailure("recovery pass: \(error)") }
                    files = scanInbox()
                    scanner.forgetMissing(except: Set(files.map(\.path)))
                } else {
                    files = w
                    for url in changed { files.append(contentsOf: expand(url)) }
                }
                var seen = Set<String>()
                files = files.filter { seen.insert($0.path).inserted }
                return intakeStable(files)
            }
            // One job per iteration so a shutdown request is seen between studies.
            let didWork = try await onEngine { [self] () -> Bool in
                let now = engine.deps.now()
                try engine.deps.store.promote(quietBefore: now.addingTimeInterval(-engine.config.quietPeriod), now: now)
                let did = try engine.processNext() != nil
                if !did { engine.explanationTickLogged() }   // explanations only when no study waits
                return did
            }
            if !didWork && changes.isEmpty {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(tick)) }
            }
        }
        try? await onEngine { [self] in engine.stopExplanationWorker(); engine.alertHooks.drain() }
        log.info("stopping: no study in hand")
    }

    /// A changed path: a file, or a folder to walk (files may predate its watch).
    func expand(_ url: URL) -> [URL] {
        switch FileKind.of(url.path) {
        case .regular: return [url]
        case .directory: return InboxScanner(inbox: url, stabilityPeriod: 0).listFiles()
        // Links and special files are set aside by the next full scan (never followed here).
        case .missing, .other: return []
        }
    }
}

/// Paths reported by the watcher, de-duplicated (an atomic write reports MOVED_TO and CLOSE_WRITE).
final class ChangeSet: Sendable {
    private let paths = Mutex<[String: URL]>([:])
    func add(_ url: URL) { paths.withLock { $0[url.path] = url } }
    func drain() -> [URL] { paths.withLock { p in defer { p = [:] }; return Array(p.values) } }
    var isEmpty: Bool { paths.withLock { $0.isEmpty } }
}

extension PipelineEngine {
    func noteFailure(_ message: String) {
        summary.failures.append(message)
        log.error("internal failure", metadata: ["error": "\(message)"])
    }

    /// The run's record of one processed study; file names relative to the inbox (archived ones too).
    func studyResult(_ study: String, _ outcome: JobOutcome, seconds: TimeInterval) -> StudyResult {
        let files = ((try? deps.store.instances(studyInstanceUID: study)) ?? []).map { inputName($0.filePath) }
        switch outcome {
        case .done(let v):
            return StudyResult(studyInstanceUID: study, ref: Self.ref(study), files: files, outcome: "done", version: v, reason: nil, seconds: seconds)
        case .failed(let why):
            return StudyResult(studyInstanceUID: study, ref: Self.ref(study), files: files, outcome: "failed", version: nil, reason: why, seconds: seconds)
        case .quarantined(let why):
            return StudyResult(studyInstanceUID: study, ref: Self.ref(study), files: files, outcome: "quarantined", version: nil, reason: why, seconds: seconds)
        }
    }

    /// A recorded input path as the operator dropped it: relative to the inbox, escaped for terminals.
    func inputName(_ path: String) -> String {
        let inbox = config.inbox.standardizedFileURL.path
        let rel = path.hasPrefix(inbox + "/") ? String(path.dropFirst(inbox.count + 1)) : URL(fileURLWithPath: path).lastPathComponent
        return SafeText.escape(rel)
    }

    func finishSummary(inboxFiles: Int) -> RunSummary {
        summary.filesLeftInInbox = inboxFiles
        return summary
    }
}
