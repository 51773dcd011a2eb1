import BrixiaDomain
import Foundation
import Logging
import Store
import TextSafety

/// What the staging folder holds once complete: the analysis, its output files and the inbox files
/// to archive after the commit. Written last (atomically): its presence means "ready to publish".
struct StagingManifest: Codable {
    var analysis: StudyAnalysis
    var outputs: [PublishedOutput]
    var inputs: [String]
}

/// Points between the durable steps of processing a study (see docs/operations.md).
public enum ProcessingStep: String, Sendable, CaseIterable {
    case claimed, scored, staged, publishedOne, published, committed, archived
}

/// Thrown when the interruption check asked to abandon the study in hand: nothing is rolled
/// back, exactly as after a crash; recovery on the next start completes or re-queues it.
public struct ProcessingInterrupted: Error, Sendable { public var step: ProcessingStep }

/// An image of the study that can be scored.
struct Candidate {
    var metadata: InstanceMetadata
    var url: URL
    var inInbox: Bool
}

extension PipelineEngine {
    func checkpoint(_ step: ProcessingStep) throws {
        if interruptCheck?(step) == true { throw ProcessingInterrupted(step: step) }
    }

    public enum JobOutcome: Equatable, Sendable { case done(version: Int), failed(String), quarantined(String) }

    /// Claims and processes the next queued job. Returns nil when the queue is empty.
    public func processNext(retryBefore: Date? = nil, excluding: Set<String> = []) throws -> (study: String, outcome: JobOutcome)? {
        let now = deps.now()
        guard let job = try deps.store.claimNext(now: now, retryBefore: retryBefore ?? now, excluding: excluding) else { return nil }
        pauseExplanationWorker()
        let outcome = try process(job)
        return (job.studyInstanceUID, outcome)
    }

    func process(_ job: JobRecord) throws -> JobOutcome {
        let study = job.studyInstanceUID
        let ref = Self.ref(study)
        // The file names the study for the operator (as dropped into the inbox); UIDs only at debug.
        let files = ((try? deps.store.instances(studyInstanceUID: study)) ?? []).map { inputName($0.filePath) }
        log.info("processing study", metadata: ["study": "\(ref)", "file": "\(files.first ?? "-")\(files.count > 1 ? " +\(files.count - 1)" : "")",
                                                "attempt": "\(job.attempts)"])
        do {
            try checkpoint(.claimed)
            return try processOrThrow(job)
        } catch let e as ProcessingInterrupted {
            throw e
        } catch let e as InputRejection {
            // Deterministic: the input itself cannot be scored or reported, so retrying cannot help.
            // Inputs still in the inbox go to the quarantine with the reason (nothing loops).
            try quarantineStudyInputs(study, reason: e.reason)
            try deps.store.markQuarantined(studyInstanceUID: study, reason: e.reason, at: deps.now())
            summary.studiesQuarantined += 1
            log.warning("study quarantined", metadata: ["study": "\(ref)", "reason": "\(e.reason)"])
            return .quarantined(e.reason)
        } catch {
            // Transient (disk full, read-only outbox, database busy, ...): bounded retries with back-off.
            let message = SafeText.escape("\(error)")
            // A complete staging (manifest written) is kept: the retry publishes it as it is, so
            // outputs that may already have left the outbox are never re-issued under new UIDs.
            let staging = stagingFolder(study)
            if readManifest(in: staging) == nil { try? FileManager.default.removeItem(at: staging) }
            let after = try deps.store.markFailed(studyInstanceUID: study, error: message, at: deps.now())
            summary.studiesFailed += 1
            summary.failures.append("study \(ref): \(message)")
            if after?.state == .queued {
                log.error("study failed; inputs kept, will retry after a back-off", metadata: [
                    "study": "\(ref)", "error": "\(message)", "attempt": "\(job.attempts)", "maxAttempts": "\(config.maxAttempts)"])
            } else {
                log.error("study failed for good; inputs kept in the inbox until `brixia retry`", metadata: [
                    "study": "\(ref)", "error": "\(message)", "attempts": "\(job.attempts)"])
            }
            return .failed(message)
        }
    }

    /// Moves the study's inputs that are still in the inbox to the quarantine with `reason`.
    func quarantineStudyInputs(_ study: String, reason: String, history: [String] = []) throws {
        var detail = [("Study Instance UID", study)]
        for (i, h) in history.enumerated() { detail.append(("history \(i + 1)", h)) }
        for inst in try deps.store.instances(studyInstanceUID: study) {
            let url = URL(fileURLWithPath: inst.filePath)
            guard ConfigResolver.isInside(url, config.inbox), FileKind.of(url.path) == .regular else { continue }
            try quarantineFile(url, reason: reason, detail: detail + [("SOP Instance UID", inst.sopInstanceUID)])
        }
    }

    func stagingFolder(_ study: String) -> URL {
        stagingRoot.appendingPathComponent(String(ContentHash.sha256(study).prefix(32)))
    }

    /// Inbox files recorded for the study, plus its earlier images in the archive (a late instance
    /// re-analyses the whole study). One file per SOP Instance UID, the recorded content only.
    func candidates(study: String) throws -> [Candidate] {
        let instances = try deps.store.instances(studyInstanceUID: study)
        let current = Dictionary(instances.map { ($0.sopInstanceUID, $0.contentSHA256) }, uniquingKeysWith: { a, _ in a })
        var bySOP: [String: Candidate] = [:]
        for inst in instances {
            let url = URL(fileURLWithPath: inst.filePath)
            guard ConfigResolver.isInside(url, config.inbox), FileKind.of(url.path) == .regular else { continue }
            guard (try? ContentHash.sha256(of: url)) == inst.contentSHA256 else { continue }
            do {
                let i = try deps.inspector.inspect(file: url)
                if i.eligibility.eligible { bySOP[i.metadata.sopInstanceUID] = Candidate(metadata: i.metadata, url: url, inInbox: true) }
            } catch let r as InputRejection {
                try quarantineFile(url, reason: "unreadable: \(r.reason)")
            }
        }
        let archived = (try? FileManager.default.contentsOfDirectory(at: archiveFolder(study), includingPropertiesForKeys: nil)) ?? []
        for url in archived.sorted(by: { $0.path < $1.path }) {
            guard let i = try? deps.inspector.inspect(file: url), i.eligibility.eligible,
                  i.metadata.studyInstanceUID == study, bySOP[i.metadata.sopInstanceUID] == nil,
                  let hash = current[i.metadata.sopInstanceUID], (try? ContentHash.sha256(of: url)) == hash else { continue }
            bySOP[i.metadata.sopInstanceUID] = Candidate(metadata: i.metadata, url: url, inInbox: false)
        }
        return bySOP.values.sorted { Trend.primaryOrder($0.metadata, $1.metadata) }
    }

    private func processOrThrow(_ job: JobRecord) throws -> JobOutcome {
        let study = job.studyInstanceUID
        if let manifest = readManifest(in: stagingFolder(study)) {
            try finishStaged(staging: stagingFolder(study), manifest: manifest)
            return .done(version: manifest.analysis.version)
        }
        let all = try candidates(study: study)
        guard !all.isEmpty else { throw InputRejection(file: study, reason: "no eligible image left in the study") }
        let outcome = try scoreFirstUsable(all)
        try checkpoint(.scored)

        let version = try deps.store.nextAnalysisVersion(studyInstanceUID: study)
        // Everything recorded now; instances arriving from here on re-queue the job at commit.
        let accounted = try deps.store.instances(studyInstanceUID: study)
        let primary: Candidate, analysis: StudyAnalysis
        switch outcome {
        case .scored(let c, let score):
            primary = c
            let prior = try deps.store.priorAnalysis(studyInstanceUID: study)
            let order = try deps.store.examOrder(studyInstanceUID: study)
            let replaces = Trend.replacement(of: try deps.store.issuedReport(studyInstanceUID: study), prior: prior)
            let d = Trend.deltas(current: score, prior: prior)
            let m = c.metadata
            analysis = StudyAnalysis(
                studyInstanceUID: study, version: version, patientID: m.patientID, issuerOfPatientID: m.issuerOfPatientID,
                studyDate: m.studyDate, source: m, score: score, model: deps.scorer.model, createdAt: deps.now(), prior: prior,
                globalDelta: d.global, zoneDeltas: d.zones,
                trend: TrendLabel.classify(isDated: order?.isDated ?? false, globalDelta: d.global, threshold: config.trendThreshold),
                alerts: Trend.alerts(score: score, prior: prior, rules: config.alertRules),
                instanceUIDs: accounted.map(\.sopInstanceUID).sorted(),
                history: Trend.history(stored: try deps.store.scoreHistory(patientID: m.patientID, issuerOfPatientID: m.issuerOfPatientID),
                                       current: order, global: score.global),
                replaces: replaces)
        case .notScored(let c, let failure):
            // A result, not silence: no score, prior, alert or trend point; the SR says why (issue #14 item 3).
            primary = c
            let m = c.metadata
            var empty = ImageScore(zoneGrades: [], zoneProbabilities: [])
            empty.provenance = failure.provenance
            analysis = StudyAnalysis(
                studyInstanceUID: study, version: version, patientID: m.patientID, issuerOfPatientID: m.issuerOfPatientID,
                studyDate: m.studyDate, source: m,
                score: empty,
                model: deps.scorer.model, createdAt: deps.now(), prior: nil, globalDelta: nil, zoneDeltas: nil,
                trend: .baseline, alerts: [], instanceUIDs: accounted.map(\.sopInstanceUID).sorted(), history: [],
                notScored: NotScoredInfo(reason: failure.reason, measures: failure.measures))
        }
        let score = analysis.score

        // Stage: outputs + manifest in a hidden folder of the outbox (same file system => rename).
        let staging = stagingFolder(study)
        try? FileManager.default.removeItem(at: staging)
        try FileOps.ensureDirectory(config.outbox)
        try FileOps.ensureDirectory(staging)
        let base = "brixia_\(FileOps.safeToken(study))_v\(version)"
        // Not scored: the SR that says why is the only output (a rendering would show no score).
        let kinds: Set<OutputKind> = analysis.notScored == nil ? config.outputs : [.sr]
        let written = try deps.reports.writeOutputs(for: analysis, sourceFile: primary.url, kinds: kinds,
                                                    baseName: base, into: staging)
        for w in written {
            // A plain name inside the staging folder (the sink's contract); anything else is a programming error.
            guard !w.fileName.isEmpty, !w.fileName.contains("/"), w.fileName != "..", w.fileName != "." else {
                throw FileOpError("report output named outside the staging folder", SafeText.escape(w.fileName), errno: EINVAL)
            }
            try FileOps.fsyncFile(staging.appendingPathComponent(w.fileName).path)
        }
        if analysis.notScored == nil {
            try stageExplanation(analysis, sourceFile: primary.url, baseName: base, staging: staging)
        }
        let inputs = try candidates(study: study).filter(\.inInbox).map(\.url.path)
        let manifest = StagingManifest(
            analysis: analysis,
            outputs: written,
            inputs: inputs)
        let enc = JSONEncoder(); enc.dateEncodingStrategy = .iso8601; enc.outputFormatting = [.sortedKeys]
        try deps.fileWriter.writeAtomically(try enc.encode(manifest), to: staging.appendingPathComponent(Self.manifestName))
        try checkpoint(.staged)

        try finishStaged(staging: staging, manifest: manifest)
        for a in analysis.alerts {
            log.notice("ALERT", metadata: ["study": "\(Self.ref(study))", "rule": "\(a.rule)", "alert": "\(a.message)"])
            if let hook = config.alertHook {
                alertHooks.submit(AlertHook(executable: hook), alert: a, study: study, patientID: analysis.patientID,
                                  version: version, global: score.global, log: log)
            }
        }
        if let r = analysis.replaces {
            log.notice("report re-issued as an amendment", metadata: ["study": "\(Self.ref(study))", "version": "\(version)",
                                                                      "replaces": "\(r.version)", "reason": "\(r.reason)"])
        }
        if let ns = analysis.notScored {
            log.notice("study not scored", metadata: ["study": "\(Self.ref(study))", "version": "\(version)",
                                                      "reason": "\(ns.reason)"])
        } else {
            log.info("study done", metadata: ["study": "\(Self.ref(study))", "version": "\(version)",
                                              "global": "\(score.global)", "trend": "\(analysis.trend.rawValue)"])
        }
        return .done(version: version)
    }

    enum ScoringOutcome {
        case scored(Candidate, ImageScore)
        /// No candidate passed the image-content check; the first failure is reported.
        case notScored(Candidate, ContentCheckFailure)
    }

    /// Scores candidates in order; one the scorer rejects is quarantined (if in the inbox) and the
    /// next is tried. One that fails the image-content check is kept (it is the study's result if no
    /// other image passes) and the next is tried.
    private func scoreFirstUsable(_ candidates: [Candidate]) throws -> ScoringOutcome {
        var lastRejection: InputRejection?
        var firstFailure: (Candidate, ContentCheckFailure)?
        for c in candidates {
            do {
                return .scored(c, try deps.scorer.score(file: c.url, metadata: c.metadata))
            } catch let r as InputRejection {
                lastRejection = r
                if c.inInbox { try quarantineFile(c.url, reason: "cannot be scored: \(r.reason)") }
            } catch let f as ContentCheckFailure {
                if firstFailure == nil { firstFailure = (c, f) }
            }
        }
        if let (c, f) = firstFailure { return .notScored(c, f) }
        throw lastRejection ?? InputRejection(file: "", reason: "no usable image")
    }

    /// Publish (rename every staged file into the outbox), commit, archive inputs, drop staging.
    /// Every step is idempotent, so recovery calls this again after a crash at any point.
    func finishStaged(staging: URL, manifest: StagingManifest) throws {
        let study = manifest.analysis.studyInstanceUID
        for o in manifest.outputs {
            let src = staging.appendingPathComponent(o.fileName), dst = config.outbox.appendingPathComponent(o.fileName)
            if FileOps.exists(src) {
                try FileOps.move(src, to: dst)
                summary.outputsWritten += 1
                try checkpoint(.publishedOne)
            } else if !FileOps.exists(dst) {
                throw FileOpError("publish (staged output lost)", src.path, errno: ENOENT)
            }
        }
        try checkpoint(.published)
        if !(try deps.store.analysisVersions(studyInstanceUID: study)).contains(manifest.analysis.version) {
            try deps.store.commit(manifest.analysis, outputs: manifest.outputs, at: deps.now())
            summary.studiesProcessed += 1
            if manifest.analysis.replaces != nil { summary.reportsAmended += 1 }
            if manifest.analysis.notScored != nil { summary.studiesNotScored += 1 }
        }
        try checkpoint(.committed)
        // Reports are queued for the PACS before the staging goes: a crash from here on repeats it (idempotent).
        do { try enqueueForDestinations(manifest) } catch {
            summary.failures.append("queueing reports for the PACS: \(error)")
            log.error("cannot queue reports for the PACS; will retry", metadata: ["error": "\(error)"])
            return
        }
        guard queueStagedExplanation(staging: staging, manifest: manifest) else { return }
        // The analysis is committed: an archiving problem must not fail the job. The manifest stays
        // until the inputs are archived, so the next pass (or restart) tries again.
        do {
            for path in manifest.inputs where FileOps.exists(URL(fileURLWithPath: path)) {
                try disposeFile(URL(fileURLWithPath: path), studyUID: study)
            }
        } catch {
            summary.failures.append("archiving inputs: \(error)")
            log.error("cannot archive processed inputs; will retry", metadata: ["error": "\(error)"])
            return
        }
        try checkpoint(.archived)
        try FileManager.default.removeItem(at: staging)
    }

    func readManifest(in dir: URL) -> StagingManifest? {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent(Self.manifestName)) else { return nil }
        let dec = JSONDecoder(); dec.dateDecodingStrategy = .iso8601
        return try? dec.decode(StagingManifest.self, from: data)
    }

    // MARK: recovery

    /// Start-up (and periodic) recovery: finishes staged analyses whose job is still in hand or
    /// already committed, drops incomplete staging, re-queues the job that was in hand.
    /// Safe to run any number of times.
    public func recover(startup: Bool = true) throws {
        if let dirs = try? FileManager.default.contentsOfDirectory(at: stagingRoot, includingPropertiesForKeys: nil) {
            for dir in dirs {
                guard let manifest = readManifest(in: dir) else {
                    if startup {
                        log.info("recovery: removing incomplete staging", metadata: ["folder": "\(dir.lastPathComponent)"])
                        try FileManager.default.removeItem(at: dir)
                        summary.recovered.append(.droppedIncompleteStaging)
                    }
                    continue
                }
                let study = manifest.analysis.studyInstanceUID
                let committed = try deps.store.analysisVersions(studyInstanceUID: study).contains(manifest.analysis.version)
                let state = try deps.store.job(studyInstanceUID: study)?.state
                let inHand = startup && state == .processing
                // Otherwise (e.g. a failed commit, job re-queued) the next claim of the study finishes it.
                guard committed || inHand else { continue }
                log.info("recovery: finishing a staged analysis", metadata: [
                    "study": "\(Self.ref(study))", "version": "\(manifest.analysis.version)"])
                try finishStaged(staging: dir, manifest: manifest)
                if startup { summary.recovered.append(.finishedStaged(study: study)) }
            }
        }
        if startup && FileOps.exists(explanationRoot) { try adoptExplanationFolders() }
        if startup {
            for j in try deps.store.requeueInterrupted(at: deps.now()) {
                let ref = Self.ref(j.studyInstanceUID)
                switch j.state {
                case .queued:
                    log.info("recovery: re-queued interrupted study", metadata: ["study": "\(ref)", "attempt": "\(j.attempts)"])
                    summary.recovered.append(.requeued(study: j.studyInstanceUID))
                case .quarantined:
                    // Poison: it stopped the worker maxCrashes times. Its inputs go to the quarantine with
                    // the history, so it can neither loop nor be lost.
                    let reason = j.lastError ?? "poison: the worker stopped repeatedly while processing this study"
                    try quarantineStudyInputs(j.studyInstanceUID, reason: reason,
                                              history: (try? deps.store.history(studyInstanceUID: j.studyInstanceUID)) ?? [])
                    summary.studiesQuarantined += 1
                    summary.recovered.append(.quarantinedAsPoison(study: j.studyInstanceUID))
                    log.error("recovery: study quarantined as poison", metadata: ["study": "\(ref)", "reason": "\(reason)"])
                default:
                    summary.recovered.append(.failedForGood(study: j.studyInstanceUID))
                    log.error("recovery: interrupted study failed for good; inputs kept in the inbox until `brixia retry`",
                              metadata: ["study": "\(ref)", "error": "\(j.lastError ?? "")"])
                }
            }
        }
    }
}
