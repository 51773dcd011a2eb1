#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

// The optional explanation step (config `explain = true`). Scores, SR and SC of a study are
// committed first; the study's explanation job then waits in `<outbox>/.brixia-explain/` and is
// computed by a separate worker process at the lowest CPU priority, started only when no scoring
// work is pending and stopped (SIGSTOP) whenever a study is claimed. The worker only writes into its
// job folder; recording the SC in the store and publishing it stay here, on the engine's serial queue.

/// A running worker for one job.
public protocol ExplanationWorker: AnyObject, Sendable {
    /// nil while the worker runs (or is paused); its exit status once it has ended.
    var exitStatus: Int32? { get }
    func pause()
    func resume()
    /// Ends the worker (a kill at any moment is safe: the job stays queued).
    func terminate()
}

/// Starts a worker that computes `jobFolder` (i.e. leaves `out/` there) and exits.
public protocol ExplanationLauncher: Sendable {
    func launch(jobFolder: URL) throws -> any ExplanationWorker
}

/// Where a finished explanation is recorded (implemented by `StoreJobStore`; tests may use their own).
public protocol ExplanationOutputStore: AnyObject {
    /// SOP Instance UIDs of the explanation outputs recorded for the study's analysis `version`.
    func explanationOutputUIDs(studyInstanceUID: String, version: Int) throws -> [String]
    /// `kind`: explanationOutputKind (the SC) or explanationSegmentationKind (the SEG).
    func recordExplanation(studyInstanceUID: String, version: Int, kind: String, sopInstanceUID: String, seriesInstanceUID: String?,
                           file: URL, at: Date) throws
}

/// Durable points of finishing an explanation (crash tests stop right after each).
public enum ExplanationStep: String, Sendable, CaseIterable { case recorded, published }

/// Store output kind of the explanation Secondary Capture.
public let explanationOutputKind = "EXPLAIN-SC"
/// Store output kind of the explanation's strength map as a DICOM Segmentation.
public let explanationSegmentationKind = "EXPLAIN-SEG"

extension PipelineEngine {
    static let explanationFolderName = ".brixia-explain"
    static let explanationStagingName = "explain"
    static let failedSuffix = ".failed"

    var explanationRoot: URL { config.outbox.appendingPathComponent(Self.explanationFolderName) }

    func explanationCheckpoint(_ step: ExplanationStep) throws {
        if explanationInterruptCheck?(step) == true { throw ExplanationInterrupted(step: step) }
    }

    /// Staging side: writes the study's explanation job into its staging folder (before the manifest).
    func stageExplanation(_ analysis: AnalysisRecord, sourceFile: URL, baseName: String, staging: URL) throws {
        guard config.explain else { return }
        let job = ExplanationJob(analysis: analysis, outputFileName: "\(baseName).explain.dcm", segments: config.explainSegments)
        try ExplanationJobFolder.create(at: staging.appendingPathComponent(Self.explanationStagingName), job: job,
                                        sourceFile: sourceFile, writer: deps.fileWriter)
    }

    /// After the commit: moves a staged job into the queue. Returns false when that failed; the caller
    /// then keeps the staging folder (and its manifest) so that the next recovery pass tries again.
    func queueStagedExplanation(staging: URL, manifest: StagingManifest) -> Bool {
        do { try enqueueStagedExplanation(staging: staging, manifest: manifest) } catch {
            summary.failures.append("queueing the explanation: \(error)")
            log.error("cannot queue the explanation; will retry", metadata: ["error": "\(error)"])
            return false
        }
        return true
    }

    /// Moves a staged job into the queue (idempotent: a moved job is no longer in staging).
    func enqueueStagedExplanation(staging: URL, manifest: StagingManifest) throws {
        let src = staging.appendingPathComponent(Self.explanationStagingName)
        guard FileOps.exists(src.appendingPathComponent(ExplanationJobFolder.jobName)) else { return }
        let a = manifest.analysis
        // Named by commit time first, so the queue is served oldest first.
        let ms = String(format: "%014.0f", max(0, deps.now().timeIntervalSince1970 * 1000))
        let dst = explanationRoot.appendingPathComponent("\(ms)-\(String(ContentHash.sha256(a.studyInstanceUID).prefix(24)))-v\(a.version)")
        try FileOps.ensureDirectory(explanationRoot)
        if FileOps.exists(dst) { try FileManager.default.removeItem(at: src); return }   // cannot happen; never twice
        try FileOps.move(src, to: dst)
        log.info("explanation queued", metadata: ["study": "\(Self.ref(a.studyInstanceUID))", "version": "\(a.version)"])
    }

    /// Queued job folders, oldest first (failed ones excluded).
    public func pendingExplanations() -> [URL] {
        let dirs = (try? FileManager.default.contentsOfDirectory(at: explanationRoot, includingPropertiesForKeys: nil)) ?? []
        return dirs.filter { !$0.lastPathComponent.hasSuffix(Self.failedSuffix) && !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Called before a study is processed: the worker must not take CPU from scoring.
    func pauseExplanationWorker() { explanationWorker?.worker.pause() }

    /// Ends a running worker (shutdown). Its job stays queued.
    public func stopExplanationWorker() {
        explanationWorker?.worker.resume()
        explanationWorker?.worker.terminate()
        explanationWorker = nil
    }

    /// One scheduling step, to be called only when no scoring work is pending: resumes the running
    /// worker, or finishes what it left, or starts the next job. Returns true while explanation
    /// work remains (a worker running or jobs queued).
    @discardableResult
    public func explanationTick() throws -> Bool {
        guard let launcher = deps.explanationLauncher else { return false }
        if let running = explanationWorker {
            guard let status = running.worker.exitStatus else { running.worker.resume(); return true }
            explanationWorker = nil
            let folder = ExplanationJobFolder(running.folder)
            if !folder.isComputed {
                summary.failures.append("explanation worker for \(running.folder.lastPathComponent) exited with status \(status)")
                log.error("explanation worker failed; see its log", metadata: [
                    "job": "\(running.folder.lastPathComponent)", "status": "\(status)", "log": "\(folder.log.path)"])
                if status == ExplanationJobFolder.permanentFailureStatus { try setAside(running.folder, reason: "cannot be explained") }
            }
        }
        for dir in pendingExplanations() {
            let folder = ExplanationJobFolder(dir)
            if folder.isComputed {
                try finishExplanation(folder)
                return true
            }
            if folder.attempts >= config.maxAttempts {
                try setAside(dir, reason: "failed \(config.maxAttempts) times")
                continue
            }
            try folder.setAttempts(folder.attempts + 1, writer: deps.fileWriter)
            explanationWorker = RunningExplanation(folder: dir, worker: try launcher.launch(jobFolder: dir))
            return true
        }
        return false
    }

    /// `explanationTick` for the daemon loop: a failure is noted and logged, never stops scoring.
    func explanationTickLogged() {
        do { try explanationTick() } catch { noteFailure("explanation: \(error)") }
    }

    /// Renames a job that will not be retried to `<name>.failed` (kept with its worker.log for inspection).
    func setAside(_ dir: URL, reason: String) throws {
        let failed = dir.deletingLastPathComponent().appendingPathComponent(dir.lastPathComponent + Self.failedSuffix)
        try FileOps.move(dir, to: failed)
        summary.failures.append("explanation \(dir.lastPathComponent) \(reason); kept in \(failed.path)")
        log.error("explanation given up", metadata: ["job": "\(failed.path)", "reason": "\(reason)"])
    }

    /// Runs every queued explanation to its end (for `run --once`, after all scores are committed).
    public func runExplanationsToCompletion(poll: TimeInterval = 0.1) throws {
        while try explanationTick() {
            if explanationWorker != nil { Thread.sleep(forTimeInterval: poll) }
        }
    }

    /// Records the computed SC in the store, publishes it to the outbox, drops the job. Each step is
    /// idempotent and ordered so that a crash anywhere neither loses the SC nor publishes a second one:
    /// the SC is recorded before it is published, and published by one rename of the file in `out/`.
    func finishExplanation(_ folder: ExplanationJobFolder) throws {
        let job = try folder.job(), r = try folder.result()
        let a = job.analysis
        guard let store = deps.store as? ExplanationOutputStore else {
            throw ExplanationJobError(folder: folder.url.path, reason: "the job store cannot record explanation outputs")
        }
        let dst = config.outbox.appendingPathComponent(job.outputFileName)
        // The SEG sits beside the SC: <base>.explain.dcm and <base>.explain-seg.dcm.
        let segDst = config.outbox.appendingPathComponent(
            (job.outputFileName.hasSuffix(".dcm") ? String(job.outputFileName.dropLast(4)) : job.outputFileName) + "-seg.dcm")
        let recorded = try store.explanationOutputUIDs(studyInstanceUID: a.studyInstanceUID, version: a.version)
        if !recorded.contains(r.sopInstanceUID) {
            try store.recordExplanation(studyInstanceUID: a.studyInstanceUID, version: a.version, kind: explanationOutputKind,
                                        sopInstanceUID: r.sopInstanceUID, seriesInstanceUID: r.seriesInstanceUID, file: dst, at: deps.now())
        }
        if let seg = r.segmentation, !recorded.contains(seg.sopInstanceUID) {
            try store.recordExplanation(studyInstanceUID: a.studyInstanceUID, version: a.version, kind: explanationSegmentationKind,
                                        sopInstanceUID: seg.sopInstanceUID, seriesInstanceUID: seg.seriesInstanceUID, file: segDst, at: deps.now())
        }
        try explanationCheckpoint(.recorded)
        for (name, target) in [(r.fileName, dst)] + (r.segmentation.map { [($0.fileName, segDst)] } ?? []) {
            let src = folder.outFolder.appendingPathComponent(name)
            if FileOps.exists(src) {
                try FileOps.move(src, to: target)
                summary.outputsWritten += 1
            }
        }
        try explanationCheckpoint(.published)
        try FileManager.default.removeItem(at: folder.url)
        log.info("explanation published", metadata: ["study": "\(Self.ref(a.studyInstanceUID))", "version": "\(a.version)",
                                                     "file": "\(job.outputFileName)"])
    }
}

/// The worker in hand and its job folder.
struct RunningExplanation {
    var folder: URL
    var worker: any ExplanationWorker
}

/// Thrown when `explanationInterruptCheck` abandons an explanation step (as a crash would).
public struct ExplanationInterrupted: Error, Sendable { public var step: ExplanationStep }

/// Production launcher: `brixia explain-worker JOB --model DIR ...` as a child process (this same
/// executable), which lowers its own priority; stderr goes to the job's worker.log.
public final class ProcessExplanationLauncher: ExplanationLauncher, @unchecked Sendable {
    let executable: URL
    let arguments: [String]

    /// `arguments` follow the job folder (e.g. ["--model", dir, "--nice", "19"]).
    public init(executable: URL, arguments: [String]) {
        self.executable = executable; self.arguments = arguments
    }

    public func launch(jobFolder: URL) throws -> any ExplanationWorker {
        let p = Process()
        p.executableURL = executable
        p.arguments = ["explain-worker", jobFolder.path] + arguments
        let logURL = ExplanationJobFolder(jobFolder).log
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        p.standardError = log
        p.standardOutput = log
        p.standardInput = FileHandle.nullDevice
        let folder = ExplanationJobFolder(jobFolder)
        if let stale = folder.killStaleWorker() {
            FileHandle.standardError.write(Data("killed stale explanation worker \(stale) of \(jobFolder.lastPathComponent)\n".utf8))
        }
        do { try p.run() } catch {
            throw ExplanationJobError(folder: jobFolder.path, reason: "cannot start \(executable.path): \(error)")
        }
        folder.recordWorker(pid: p.processIdentifier)
        try? log.close()
        return ProcessExplanationWorker(process: p)
    }
}

final class ProcessExplanationWorker: ExplanationWorker, @unchecked Sendable {
    let process: Process
    init(process: Process) { self.process = process }
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    func pause() { if process.isRunning { kill(process.processIdentifier, SIGSTOP) } }
    func resume() { if process.isRunning { kill(process.processIdentifier, SIGCONT) } }
    func terminate() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension ProductionPipeline {
    /// Explanation workers are this executable (`brixia`) run as `brixia explain-worker`, with as many
    /// single-threaded networks as scoring has threads (faster than one multi-threaded network on this
    /// engine; the worker is stopped while scoring runs anyway) at nice 19; the test-fixture
    /// permission (BRIXIA_ALLOW_TEST_FIXTURE) is inherited through the environment.
    static func explanationLauncher(config: PipelineConfig) -> ProcessExplanationLauncher {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return ProcessExplanationLauncher(executable: exe, arguments: [
            "--model", config.model.path, "--threads", "1", "--workers", "\(config.workerThreads)", "--nice", "19",
            "--software-version", softwareVersion])
    }
}
