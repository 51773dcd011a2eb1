#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Store

// The optional explanation step (config `explain = true`). Scores, SR and SC of a study are
// committed first; the study's explanation job is then a row of the Store's `explanation_jobs` (its state
// machine) with a workspace folder in `<outbox>/.brixia-explain/`, and is computed by a separate worker
// process at the lowest CPU priority, started only when no scoring work is pending and stopped (SIGSTOP)
// whenever a study is claimed. The worker only writes into its job folder; recording the SC in the store
// and publishing it stay here, in the engine's steps (one at a time).

/// A running worker for one job.
public protocol ExplanationWorker: AnyObject, Sendable {
    /// nil while the worker runs (or is paused); its exit status once it has ended.
    var exitStatus: Int32? { get }
    /// The worker's process id (recorded with the job, to stop a stale worker after a restart).
    var processID: Int32? { get }
    func pause()
    func resume()
    /// Ends the worker (a kill at any moment is safe: the job stays queued).
    func terminate()
}

/// Starts a worker that computes `jobFolder` (i.e. leaves `out/` there) and exits. A worker of an earlier
/// launch that still holds the job (its pipeline was killed) is stopped first.
public protocol ExplanationLauncher: Sendable {
    func launch(jobFolder: URL) throws -> any ExplanationWorker
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
    /// How an older brixia marked a job it gave up (adopted as failed, kind `unrecorded`).
    static let legacyFailedSuffix = ".failed"

    var explanationRoot: URL { config.outbox.appendingPathComponent(Self.explanationFolderName) }

    /// The Store that keeps the explanation jobs (the pipeline's own).
    var explanationStore: BrixiaStore { deps.store.store }

    func explanationCheckpoint(_ step: ExplanationStep) throws {
        if explanationInterruptCheck?(step) == true { throw ExplanationInterrupted(step: step) }
    }

    /// Staging side: writes the study's explanation job into its staging folder (before the manifest).
    func stageExplanation(_ analysis: StudyAnalysis, sourceFile: URL, baseName: String, staging: URL) throws {
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

    /// Moves a staged job's folder under the explanation root, then records the job (both idempotent, so a
    /// crash between them is finished by the next call: the folder is found in place and recorded).
    func enqueueStagedExplanation(staging: URL, manifest: StagingManifest) throws {
        let src = staging.appendingPathComponent(Self.explanationStagingName)
        let a = manifest.analysis
        let name = "\(String(ContentHash.sha256(a.studyInstanceUID).prefix(24)))-v\(a.version)"
        let dst = explanationRoot.appendingPathComponent(name)
        if FileOps.exists(src.appendingPathComponent(ExplanationJobFolder.jobName)) {
            try FileOps.ensureDirectory(explanationRoot)
            if FileOps.exists(dst) { try FileManager.default.removeItem(at: src) } else { try FileOps.move(src, to: dst) }
        }
        guard FileOps.exists(dst.appendingPathComponent(ExplanationJobFolder.jobName)) else { return }   // none staged
        let job = try explanationStore.enqueueExplanation(studyInstanceUID: a.studyInstanceUID, version: a.version,
                                                          folder: name, now: deps.now())
        log.info("explanation queued", metadata: ["study": "\(Self.ref(a.studyInstanceUID))", "version": "\(a.version)",
                                                  "job": "\(job.id)"])
    }

    /// Folders of the queued and running jobs, oldest first.
    public func pendingExplanations() throws -> [URL] {
        try explanationStore.explanationJobs(states: [.queued, .running]).map { explanationRoot.appendingPathComponent($0.folder) }
    }

    /// Start-up: folders under the explanation root the store does not know come from an older brixia (state
    /// in files): each is recorded (a `.failed` one as failed, kind `unrecorded`). The folder of a finished job
    /// left by a crash after it was marked done is removed.
    func adoptExplanationFolders() throws {
        guard let dirs = try? FileManager.default.contentsOfDirectory(at: explanationRoot, includingPropertiesForKeys: nil) else { return }
        let store = explanationStore
        for dir in dirs.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) where !dir.lastPathComponent.hasPrefix(".") {
            let name = dir.lastPathComponent
            if let known = try store.explanationJob(folder: name) {
                if known.state == .done { try FileManager.default.removeItem(at: dir) }
                continue
            }
            let folder = ExplanationJobFolder(dir)
            guard let job = try? folder.job() else {
                log.error("explanation queue: folder without a readable job left alone", metadata: ["folder": "\(dir.path)"])
                continue
            }
            let a = job.analysis
            let rec = try store.enqueueExplanation(studyInstanceUID: a.studyInstanceUID, version: a.version, folder: name,
                                                   attempts: min(folder.legacyAttempts, config.maxAttempts), now: deps.now())
            guard rec.folder == name else { continue }   // the analysis already has a job elsewhere
            if name.hasSuffix(Self.legacyFailedSuffix) {
                try store.explanationFailed(id: rec.id, kind: .unrecorded, error: "set aside by an older brixia",
                                            maxAttempts: config.maxAttempts, now: deps.now())
            }
            log.info("explanation queue: adopted a job folder of an older brixia", metadata: ["folder": "\(name)", "job": "\(rec.id)"])
        }
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
        let store = explanationStore
        if let running = explanationWorker {
            guard let status = running.worker.exitStatus else { running.worker.resume(); return true }
            explanationWorker = nil
            let folder = ExplanationJobFolder(running.folder)
            if !folder.isComputed {
                summary.failures.append("explanation worker for \(running.folder.lastPathComponent) exited with status \(status)")
                log.error("explanation worker failed; see its log", metadata: [
                    "job": "\(running.folder.lastPathComponent)", "status": "\(status)", "log": "\(folder.log.path)"])
                let kind: ExplanationFailureKind = status == ExplanationJobFolder.permanentFailureStatus ? .permanent : .workerFailed
                let after = try store.explanationFailed(id: running.jobID, kind: kind, error: "worker exited with status \(status)",
                                                        maxAttempts: config.maxAttempts, now: deps.now())
                noteIfGivenUp(after)
            }
        }
        for var job in try store.explanationJobs(states: [.queued, .running]) {
            let dir = explanationRoot.appendingPathComponent(job.folder)
            let folder = ExplanationJobFolder(dir)
            if folder.isComputed {
                try finishExplanation(job, folder)
                return true
            }
            if job.state == .running {
                // No worker of this pipeline runs it: the previous pipeline stopped while it ran.
                job = try store.explanationFailed(id: job.id, kind: .crash, error: "the pipeline stopped while the worker ran",
                                                  maxAttempts: config.maxAttempts, now: deps.now())
                if noteIfGivenUp(job) { continue }
            }
            guard FileOps.exists(dir.appendingPathComponent(ExplanationJobFolder.jobName)) else {
                noteIfGivenUp(try store.explanationFailed(id: job.id, kind: .permanent, error: "job folder \(dir.path) is missing",
                                                          maxAttempts: config.maxAttempts, now: deps.now()))
                continue
            }
            try store.startExplanation(id: job.id, now: deps.now())
            let worker = try launcher.launch(jobFolder: dir)
            if let pid = worker.processID { try store.setExplanationWorker(id: job.id, pid: pid) }
            explanationWorker = RunningExplanation(jobID: job.id, folder: dir, worker: worker)
            return true
        }
        return false
    }

    /// `explanationTick` for the daemon loop: a failure is noted and logged, never stops scoring.
    func explanationTickLogged() {
        do { try explanationTick() } catch { noteFailure("explanation: \(error)") }
    }

    /// Reports a job that will not be retried (its folder is kept, with its worker.log, for inspection).
    /// Returns whether it was given up.
    @discardableResult
    func noteIfGivenUp(_ job: ExplanationJobRecord) -> Bool {
        guard job.state == .failed else { return false }
        let dir = explanationRoot.appendingPathComponent(job.folder)
        let reason = job.failureKind == .exhausted ? "failed \(job.attempts) times" : "cannot be explained (\(job.lastError ?? "-"))"
        summary.failures.append("explanation \(job.folder) \(reason); kept in \(dir.path)")
        log.error("explanation given up", metadata: ["job": "\(job.id)", "folder": "\(dir.path)", "reason": "\(reason)"])
        return true
    }

    /// Runs every queued explanation to its end (for `run --once`, after all scores are committed).
    public func runExplanationsToCompletion(poll: TimeInterval = 0.1) throws {
        while try explanationTick() {
            if explanationWorker != nil { Thread.sleep(forTimeInterval: poll) }
        }
    }

    /// Records the computed SC in the store, publishes it to the outbox, marks the job done, drops the folder.
    /// Each step is idempotent and ordered so that a crash anywhere neither loses the SC nor publishes a second
    /// one: the SC is recorded before it is published, and published by one rename of the file in `out/`.
    func finishExplanation(_ record: ExplanationJobRecord, _ folder: ExplanationJobFolder) throws {
        let store = explanationStore
        let job = try folder.job(), r = try folder.result()
        let a = job.analysis
        let dst = config.outbox.appendingPathComponent(job.outputFileName)
        // The SEG sits beside the SC: <base>.explain.dcm and <base>.explain-seg.dcm.
        let segDst = config.outbox.appendingPathComponent(
            (job.outputFileName.hasSuffix(".dcm") ? String(job.outputFileName.dropLast(4)) : job.outputFileName) + "-seg.dcm")
        let recorded = Set(try store.outputs(analysisID: record.analysisID).map(\.sopInstanceUID))
        var new: [NewOutput] = []
        if !recorded.contains(r.sopInstanceUID) {
            new.append(NewOutput(kind: explanationOutputKind, sopInstanceUID: r.sopInstanceUID, seriesInstanceUID: r.seriesInstanceUID,
                                 filePath: dst.path))
        }
        if let seg = r.segmentation, !recorded.contains(seg.sopInstanceUID) {
            new.append(NewOutput(kind: explanationSegmentationKind, sopInstanceUID: seg.sopInstanceUID,
                                 seriesInstanceUID: seg.seriesInstanceUID, filePath: segDst.path))
        }
        if !new.isEmpty { try store.addOutputs(analysisID: record.analysisID, outputs: new, now: deps.now()) }
        try explanationCheckpoint(.recorded)
        for (name, target) in [(r.fileName, dst)] + (r.segmentation.map { [($0.fileName, segDst)] } ?? []) {
            let src = folder.outFolder.appendingPathComponent(name)
            if FileOps.exists(src) {
                try FileOps.move(src, to: target)
                summary.outputsWritten += 1
            }
        }
        try explanationCheckpoint(.published)
        try store.completeExplanation(id: record.id, now: deps.now())
        try FileManager.default.removeItem(at: folder.url)
        log.info("explanation published", metadata: ["study": "\(Self.ref(a.studyInstanceUID))", "version": "\(a.version)",
                                                     "file": "\(job.outputFileName)"])
    }
}

/// The worker in hand, its job and folder.
struct RunningExplanation {
    var jobID: Int64
    var folder: URL
    var worker: any ExplanationWorker
}

/// Thrown when `explanationInterruptCheck` abandons an explanation step (as a crash would).
public struct ExplanationInterrupted: Error, Sendable { public var step: ExplanationStep }

/// Production launcher: `brixia explain-worker JOB --model DIR ...` as a child process (this same
/// executable), which lowers its own priority; stderr goes to the job's worker.log.
public final class ProcessExplanationLauncher: ExplanationLauncher, Sendable {
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
        try? log.close()
        return ProcessExplanationWorker(process: p)
    }
}

/// @unchecked Sendable: `process` is immutable and only asked for its state or its pid (Foundation's Process
/// synchronises those); signals are sent with kill(2).
final class ProcessExplanationWorker: ExplanationWorker, @unchecked Sendable {
    let process: Process
    init(process: Process) { self.process = process }
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    var processID: Int32? { process.processIdentifier }
    func pause() { if process.isRunning { kill(process.processIdentifier, SIGSTOP) } }
    func resume() { if process.isRunning { kill(process.processIdentifier, SIGCONT) } }
    func terminate() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

extension ProductionPipeline {
    /// Explanation workers are `executable` (brixia itself) run as `brixia explain-worker`, with as many
    /// single-threaded networks as scoring has threads (faster than one multi-threaded network on this
    /// engine; the worker is stopped while scoring runs anyway) at nice 19; the test-fixture
    /// permission (BRIXIA_ALLOW_TEST_FIXTURE) is inherited through the environment.
    static func explanationLauncher(config: PipelineConfig, executable: URL) -> ProcessExplanationLauncher {
        ProcessExplanationLauncher(executable: executable, arguments: [
            "--model", config.model.path, "--threads", "1", "--workers", "\(config.workerThreads)", "--nice", "19",
            "--software-version", softwareVersion])
    }
}
