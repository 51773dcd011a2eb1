import Foundation
import Logging

/// What the staging folder holds once complete: the analysis and its output files. Written last
/// (atomically), so its presence means "ready to publish".
struct StagingManifest: Codable {
    var analysis: AnalysisRecord
    var files: [String]
}

/// Points between the durable steps of processing a study (see docs/operations.md).
public enum ProcessingStep: String, Sendable, CaseIterable {
    case claimed, scored, staged, publishedOne, published, committed
}

/// Thrown when the interruption check asked to abandon the study in hand: nothing is rolled
/// back, exactly as after a crash; recovery on the next start completes or re-queues it.
public struct ProcessingInterrupted: Error, Sendable { public var step: ProcessingStep }

extension PipelineEngine {
    func checkpoint(_ step: ProcessingStep) throws {
        if interruptCheck?(step) == true { throw ProcessingInterrupted(step: step) }
    }

    public enum JobOutcome: Equatable, Sendable { case done(version: Int), failed(String), quarantined(String) }

    /// Claims and processes the next queued job. Returns nil when the queue is empty.
    public func processNext() throws -> (study: String, outcome: JobOutcome)? {
        guard let job = try deps.store.claimNext() else { return nil }
        let outcome = try process(job)
        return (job.studyInstanceUID, outcome)
    }

    func process(_ job: StudyJob) throws -> JobOutcome {
        let study = job.studyInstanceUID
        let ref = Self.ref(study)
        log.info("processing study", metadata: ["study": "\(ref)", "attempt": "\(job.attempts)"])
        do {
            try checkpoint(.claimed)
            return try processOrThrow(job)
        } catch let e as ProcessingInterrupted {
            throw e
        } catch let e as InputRejection {
            // Only reached when every candidate was rejected (see scoreFirstUsable).
            try deps.store.markQuarantined(studyInstanceUID: study, reason: e.reason)
            summary.studiesQuarantined += 1
            return .quarantined(e.reason)
        } catch {
            let message = "\(error)"
            let retryAt = deps.now().addingTimeInterval(config.retryDelay(afterAttempts: job.attempts))
            // A complete staging (manifest written) is kept: the retry publishes it as it is, so
            // outputs that may already have left the outbox are never re-issued under new UIDs.
            let staging = stagingFolder(study)
            if !FileOps.exists(staging.appendingPathComponent(Self.manifestName)) {
                try? FileManager.default.removeItem(at: staging)
            }
            try deps.store.markFailed(studyInstanceUID: study, error: message, retryAt: retryAt)
            summary.studiesFailed += 1
            summary.failures.append("study \(ref): \(message)")
            log.error("study failed; inputs kept, will retry", metadata: [
                "study": "\(ref)", "error": "\(message)", "retryAt": "\(ISO8601DateFormatter().string(from: retryAt))"])
            return .failed(message)
        }
    }

    func stagingFolder(_ study: String) -> URL {
        stagingRoot.appendingPathComponent(ContentHash.sha256(study).prefix(32).description)
    }

    private func processOrThrow(_ job: StudyJob) throws -> JobOutcome {
        let study = job.studyInstanceUID
        if let manifest = readManifest(in: stagingFolder(study)) {
            try finishStaged(staging: stagingFolder(study), manifest: manifest)
            return .done(version: manifest.analysis.version)
        }
        let instances = try deps.store.instances(studyInstanceUID: study)
        // Candidates: every instance of the study whose file we still have (a late instance
        // re-analyses the study with the earlier, archived images too).
        var candidates: [(StoredInstance, InstanceMetadata, URL)] = []
        for inst in instances {
            guard let p = inst.path else { continue }
            let url = URL(fileURLWithPath: p)
            guard FileOps.exists(url) else {
                if inst.state == .pending {
                    log.warning("pending input vanished from the inbox", metadata: ["file": "\(url.lastPathComponent)"])
                    try deps.store.markDisposed(sopInstanceUID: inst.sopInstanceUID, newPath: nil)
                }
                continue
            }
            do {
                let i = try deps.inspector.inspect(file: url)
                if case .eligible = i.eligibility { candidates.append((inst, i.metadata, url)) }
            } catch let r as InputRejection where inst.state == .pending {
                try quarantineFile(url, reason: "unreadable: \(r.reason)")
                try deps.store.markDisposed(sopInstanceUID: inst.sopInstanceUID, newPath: nil)
            }
        }
        candidates.sort { Trend.primaryOrder($0.1, $1.1) }
        guard !candidates.isEmpty else {
            throw InputRejection(file: study, reason: "no eligible image left in the study")
        }
        let (primary, score) = try scoreFirstUsable(candidates)
        try checkpoint(.scored)

        let version = try deps.store.nextAnalysisVersion(studyInstanceUID: study)
        let priorRecord = try deps.store.priorAnalysis(patientID: primary.patientID, issuerOfPatientID: primary.issuerOfPatientID,
                                                       before: primary.studyDate, excludingStudy: study)
        let prior = priorRecord.map(Trend.prior(from:))
        let d = Trend.deltas(current: score, prior: prior)
        // Everything known now; instances arriving from here on re-open the job at commit.
        let accounted = try deps.store.instances(studyInstanceUID: study)
        let analysis = AnalysisRecord(
            studyInstanceUID: study, version: version, patientID: primary.patientID,
            issuerOfPatientID: primary.issuerOfPatientID, studyDate: primary.studyDate, source: primary, score: score,
            model: deps.scorer.model, createdAt: deps.now(), prior: prior, globalDelta: d.global, zoneDeltas: d.zones,
            trend: Trend.label(globalDelta: d.global, rules: config.alertRules),
            alerts: Trend.alerts(score: score, globalDelta: d.global, prior: prior, rules: config.alertRules),
            instanceUIDs: accounted.map(\.sopInstanceUID).sorted())
        let sourceURL = candidates.first { $0.1.sopInstanceUID == primary.sopInstanceUID }!.2

        // Stage: outputs + manifest in a hidden folder of the outbox (same file system => rename).
        let staging = stagingFolder(study)
        try? FileManager.default.removeItem(at: staging)
        try FileOps.ensureDirectory(config.outbox)
        try FileOps.ensureDirectory(staging)
        let base = "brixia_\(FileOps.safeToken(study))_v\(version)"
        let files = try deps.reports.writeOutputs(for: analysis, sourceFile: sourceURL, kinds: config.outputs,
                                                  baseName: base, into: staging)
        for f in files { try FileOps.fsyncFile(f.path) }
        let manifest = StagingManifest(analysis: analysis, files: files.map(\.lastPathComponent))
        let enc = JSONEncoder(); enc.dateEncodingStrategy = .iso8601; enc.outputFormatting = [.sortedKeys]
        try deps.fileWriter.writeAtomically(try enc.encode(manifest), to: staging.appendingPathComponent(Self.manifestName))

        try checkpoint(.staged)
        try finishStaged(staging: staging, manifest: manifest)
        for a in analysis.alerts {
            log.notice("ALERT", metadata: ["study": "\(Self.ref(study))", "alert": "\(a)"])
        }
        log.info("study done", metadata: ["study": "\(Self.ref(study))", "version": "\(version)",
                                          "global": "\(score.global)", "trend": "\(analysis.trend.rawValue)"])
        return .done(version: version)
    }

    /// Scores candidates in order; one the scorer rejects is quarantined and the next is tried.
    private func scoreFirstUsable(_ candidates: [(StoredInstance, InstanceMetadata, URL)]) throws -> (InstanceMetadata, ImageScore) {
        var lastRejection: InputRejection?
        for (inst, meta, url) in candidates {
            do {
                return (meta, try deps.scorer.score(file: url, metadata: meta))
            } catch let r as InputRejection {
                lastRejection = r
                if ConfigResolver.isInside(url, config.inbox) {
                    try quarantineFile(url, reason: "cannot be scored: \(r.reason)")
                }
                try deps.store.markDisposed(sopInstanceUID: inst.sopInstanceUID, newPath: nil)
            }
        }
        throw lastRejection ?? InputRejection(file: "", reason: "no usable image")
    }

    /// Publish (rename every staged file into the outbox), commit, archive inputs, drop staging.
    /// Every step is idempotent, so recovery calls this again after a crash at any point.
    func finishStaged(staging: URL, manifest: StagingManifest) throws {
        for name in manifest.files {
            let src = staging.appendingPathComponent(name), dst = config.outbox.appendingPathComponent(name)
            if FileOps.exists(src) {
                try FileOps.move(src, to: dst)
                summary.outputsWritten += 1
                try checkpoint(.publishedOne)
            } else if !FileOps.exists(dst) {
                throw FileOpError("publish (staged output lost)", src.path, errno: ENOENT)
            }
        }
        try checkpoint(.published)
        try deps.store.commit(manifest.analysis, at: deps.now())
        summary.studiesProcessed += 1
        try checkpoint(.committed)
        try? FileManager.default.removeItem(at: staging)
        // The analysis is committed: an archiving problem must not fail the job. The inputs stay
        // `analysed` and every later pass (and restart) tries again.
        do { try disposeAnalysed() } catch {
            summary.failures.append("archiving inputs: \(error)")
            log.error("cannot archive processed inputs; will retry", metadata: ["error": "\(error)"])
        }
    }

    func readManifest(in dir: URL) -> StagingManifest? {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent(Self.manifestName)) else { return nil }
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        return try? dec.decode(StagingManifest.self, from: data)
    }

    // MARK: recovery

    /// Start-up recovery: finishes staged (complete) jobs, drops incomplete staging, re-queues the
    /// job that was in hand, archives analysed inputs. Safe to run any number of times.
    public func recover() throws {
        if let dirs = try? FileManager.default.contentsOfDirectory(at: stagingRoot, includingPropertiesForKeys: nil) {
            for dir in dirs {
                if let manifest = readManifest(in: dir) {
                    log.info("recovery: publishing a staged analysis", metadata: [
                        "study": "\(Self.ref(manifest.analysis.studyInstanceUID))", "version": "\(manifest.analysis.version)"])
                    try finishStaged(staging: dir, manifest: manifest)
                    continue
                }
                log.info("recovery: removing incomplete staging", metadata: ["folder": "\(dir.lastPathComponent)"])
                try FileManager.default.removeItem(at: dir)
            }
        }
        let requeued = try deps.store.requeueInterrupted()
        for s in requeued { log.info("recovery: re-queued interrupted study", metadata: ["study": "\(Self.ref(s))"]) }
        try disposeAnalysed()
    }
}
