import BrixiaDomain
import Foundation
import Store

/// The pipeline's transactions over the Store (SQLite, WAL, one transaction per call): what the engine records
/// and asks, in its own terms (metadata in, priors and issued reports out). There is no second implementation:
/// the tests run the pipeline on this over a temporary database.
///
/// The worker identity (`owner`) is stable per deployment, so that after a crash the restarted
/// daemon still owns the job it had in hand and can commit a staged analysis (single worker per
/// database; see docs/operations.md).
public final class PipelineStore: Sendable {
    public let store: BrixiaStore
    public let owner: String
    let outbox: URL

    public func queuedCount() throws -> Int {
        try store.queueStatus(maxFailures: 0).counts[JobState.queued.rawValue] ?? 0
    }

    public init(config: PipelineConfig) throws {
        try FileOps.ensureDirectory(config.database.deletingLastPathComponent())
        store = try BrixiaStore(path: config.database.path, configuration: StoreConfiguration(
            maxAttempts: config.maxAttempts,
            trend: TrendOptions(threshold: config.trendThreshold, rules: config.alertRules),
            maxCrashes: config.maxCrashes, retryDelay: config.retryDelay))
        let host = ProcessInfo.processInfo.hostName
        owner = "brixia-pipeline@\(host):\(ContentHash.sha256(config.inbox.path).prefix(8))"
        outbox = config.outbox
    }

    /// The instance recorded under this UID in this study (nil: none).
    public func instance(sopInstanceUID: String, studyInstanceUID: String) throws -> InstanceRecord? {
        guard try store.job(studyInstanceUID: studyInstanceUID) != nil else { return nil }
        return try store.assembly(studyInstanceUID: studyInstanceUID).instances.first { $0.sopInstanceUID == sopInstanceUID }
    }

    /// Records an eligible instance (new, or new content under a known SOP Instance UID). A new study
    /// gets a job in `received`; new content re-opens a finished job; a job being processed is
    /// flagged so that its commit re-queues it. A file that contradicts what is stored is an `InputRejection`.
    public func recordArrival(_ m: InstanceMetadata, contentHash: String, path: String, at: Date) throws {
        let incoming = IncomingInstance(
            patientID: m.patientID, issuerOfPatientID: m.issuerOfPatientID, studyInstanceUID: m.studyInstanceUID,
            studyDate: m.studyDate, studyTime: m.studyTime, seriesInstanceUID: m.seriesInstanceUID, modality: m.modality,
            sopInstanceUID: m.sopInstanceUID, sopClassUID: m.sopClassUID, acquisitionDateTime: m.acquisitionDateTime,
            filePath: path, contentSHA256: contentHash, eligible: true)
        do { _ = try store.recordInstance(incoming, now: at) } catch let e as StoreError {
            switch e {
            case .conflict, .invalidInput:
                // The file contradicts what is stored (e.g. UID filed under another patient/study).
                throw InputRejection(file: path, reason: e.description)
            default: throw e
            }
        }
    }

    /// received -> queued for studies quiet since `quietBefore`. Returns the studies queued. Failed
    /// jobs are never promoted: only an operator re-queues them.
    @discardableResult
    public func promote(quietBefore: Date, now: Date) throws -> [String] {
        try store.enqueueSettledStudies(lastInstanceBefore: quietBefore, now: now).map(\.studyInstanceUID)
    }

    /// queued -> processing for the oldest queued job (attempts + 1) whose back-off ended before
    /// `retryBefore`, other than the studies in `excluding`.
    public func claimNext(now: Date, retryBefore: Date, excluding: Set<String>) throws -> JobRecord? {
        try store.claimNextJob(owner: owner, now: now, retryBefore: retryBefore, excluding: excluding)?.job
    }

    public func job(studyInstanceUID: String) throws -> JobRecord? {
        try store.job(studyInstanceUID: studyInstanceUID)
    }

    /// The study's eligible instances as recorded (where each file was, its content hash).
    public func instances(studyInstanceUID: String) throws -> [InstanceRecord] {
        guard try store.job(studyInstanceUID: studyInstanceUID) != nil else { return [] }
        return try store.assembly(studyInstanceUID: studyInstanceUID).eligibleInstances
    }

    /// The latest analysis of the patient's most recent earlier study (by `ExamOrder`, never by arrival).
    public func priorAnalysis(studyInstanceUID: String) throws -> PriorReference? {
        guard let (study, analysis) = try store.priorAnalysis(studyInstanceUID: studyInstanceUID) else { return nil }
        let assembly = try store.assembly(studyInstanceUID: study.studyInstanceUID)
        let inst = analysis.instanceRef.flatMap { ref in assembly.instances.first { $0.id == ref } }
        let series = inst.flatMap { i in assembly.series.first { $0.id == i.seriesRef } }
        // An exam dated by its acquisition only (no StudyDate) is still a prior: its date is the one it is ordered by.
        return PriorReference(studyInstanceUID: study.studyInstanceUID, studyDate: study.studyDate ?? study.order.day,
                              sopInstanceUID: inst?.sopInstanceUID ?? "", sopClassUID: inst?.sopClassUID,
                              seriesInstanceUID: series?.seriesInstanceUID, modality: series?.modality,
                              zoneGrades: analysis.zones.ordered, global: analysis.global)
    }

    /// The patient's dated exams with their latest global score: (study UID, its place, point), any order.
    public func scoreHistory(patientID: String, issuerOfPatientID: String?) throws -> [(study: String, order: ExamOrder, point: ScorePoint)] {
        let trend: PatientTrend
        do { trend = try store.trend(patientID: patientID, issuer: issuerOfPatientID ?? "") } catch StoreError.unknownPatient {
            return []
        }
        return try trend.exams.compactMap { e in
            guard let order = try examOrder(studyInstanceUID: e.studyInstanceUID), let day = order.day else { return nil }
            return (e.studyInstanceUID, order, ScorePoint(studyDate: day, global: e.global))
        }
    }

    /// Where the study stands among the patient's exams (`ExamOrder`: the one ordering rule).
    public func examOrder(studyInstanceUID: String) throws -> ExamOrder? {
        guard try store.job(studyInstanceUID: studyInstanceUID) != nil else { return nil }
        return try store.assembly(studyInstanceUID: studyInstanceUID).study.order
    }

    /// The study's latest stored analysis as it was reported (nil: never reported).
    public func issuedReport(studyInstanceUID: String) throws -> IssuedReport? {
        guard try store.job(studyInstanceUID: studyInstanceUID) != nil,
              let latest = try store.analyses(studyInstanceUID: studyInstanceUID).last else { return nil }
        var priorStudy: String?
        if let ref = latest.priorAnalysisRef { priorStudy = try store.studyInstanceUID(analysisID: ref) }
        let outputs = try store.outputs(analysisID: latest.id).compactMap { o -> PublishedOutput? in
            guard let kind = OutputKind(rawValue: o.kind.lowercased()) else { return nil }
            return PublishedOutput(kind: kind, fileName: URL(fileURLWithPath: o.filePath).lastPathComponent,
                                   sopInstanceUID: o.sopInstanceUID, seriesInstanceUID: o.seriesInstanceUID)
        }
        return IssuedReport(version: latest.version, priorKnown: latest.priorKnown, priorStudyInstanceUID: priorStudy,
                            outputs: outputs)
    }

    /// Scored and not-scored results alike (they share the version sequence).
    public func analysisVersions(studyInstanceUID: String) throws -> [Int] {
        try (store.analyses(studyInstanceUID: studyInstanceUID).map(\.version)
             + store.notScored(studyInstanceUID: studyInstanceUID).map(\.version)).sorted()
    }

    public func nextAnalysisVersion(studyInstanceUID: String) throws -> Int {
        try store.nextAnalysisVersion(studyInstanceUID: studyInstanceUID)
    }

    func jobID(_ study: String) throws -> Int64 {
        guard let j = try store.job(studyInstanceUID: study) else { throw StoreError.unknownStudy(study) }
        return j.id
    }

    /// Stores the result and finishes the job (done, or queued again when content arrived meanwhile).
    /// The job must be `processing`; the analysis gets version `analysis.version`.
    public func commit(_ a: StudyAnalysis, outputs: [PublishedOutput], at: Date) throws {
        let next = try store.nextAnalysisVersion(studyInstanceUID: a.studyInstanceUID)
        guard next == a.version else {
            throw StoreError.conflict("study \(a.studyInstanceUID): staged analysis is version \(a.version) but the store's next version is \(next) (another worker on this database?)")
        }
        let outs = outputs.map {
            NewOutput(kind: $0.kind.rawValue.uppercased(), sopInstanceUID: $0.sopInstanceUID,
                      seriesInstanceUID: $0.seriesInstanceUID, filePath: outbox.appendingPathComponent($0.fileName).path)
        }
        if let ns = a.notScored {
            try store.completeJobNotScored(
                jobID: try jobID(a.studyInstanceUID), owner: owner,
                result: NewNotScored(sopInstanceUID: a.source.sopInstanceUID, stage: .qualityCheck, reason: ns.reason,
                                     qc: ns.measures, model: a.model, provenance: a.score.provenance),
                outputs: outs, now: at)
            return
        }
        let g = try Trend.grades(a.score.zoneGrades)
        var probs: [Zone: [Double]] = [:]
        for (z, p) in zip(Zone.allCases, a.score.zoneProbabilities) { probs[z] = p.map(Double.init) }
        var analysis = NewAnalysis(sopInstanceUID: a.source.sopInstanceUID, model: a.model, zones: g,
                                   probabilities: probs.count == 6 ? probs : nil, theta: a.score.theta,
                                   timingsMS: a.score.timingsMS)
        if let c = a.score.confidence, c.zones.count == 6 {
            analysis.confidence = c.study
            analysis.zoneConfidence = Dictionary(uniqueKeysWithValues: zip(Zone.allCases, c.zones))
            analysis.calibrationTemperature = c.temperature
            analysis.status = c.isLow ? .lowConfidence : .ok
        }
        analysis.reportedPrior = a.prior.map { .study($0.studyInstanceUID) } ?? ReportedPrior.none
        analysis.provenance = a.score.provenance
        _ = try store.completeJob(jobID: try jobID(a.studyInstanceUID), owner: owner, analysis: analysis, outputs: outs, now: at)
    }

    /// A transient failure: back to queued after a back-off while attempts remain, else failed.
    /// Returns the job as it is now.
    @discardableResult
    public func markFailed(studyInstanceUID: String, error: String, at: Date) throws -> JobRecord? {
        try store.failJob(jobID: try jobID(studyInstanceUID), owner: owner, error: error, kind: .transient, now: at)
    }

    public func markQuarantined(studyInstanceUID: String, reason: String, at: Date) throws {
        try store.quarantine(studyInstanceUID: studyInstanceUID, reason: reason, owner: owner, now: at)
    }

    /// At start-up, the job in hand when the process died: queued again, failed (attempts used up) or
    /// quarantined as poison (it stopped the worker maxCrashes times). Returns those jobs as they are now.
    @discardableResult
    public func requeueInterrupted(at: Date) throws -> [JobRecord] {
        try store.recoverAbandonedJobs(scope: .all, now: at).map(\.job)
    }

    public func recordQuarantinedFile(_ relativePath: String, reason: String, at: Date) throws {
        try store.recordQuarantinedFile(relativePath, reason: reason, now: at)
    }

    /// The study's processing history, one line per event, oldest first (for poison reason files).
    public func history(studyInstanceUID: String) throws -> [String] {
        let f = ISO8601DateFormatter()
        return try store.studyDetail(studyInstanceUID: studyInstanceUID).history.map { e in
            var line = "\(f.string(from: e.at)) \(e.kind)"
            if let from = e.fromState, let to = e.toState { line += " \(from) -> \(to)" }
            if let m = e.message { line += ": \(m)" }
            return line
        }
    }
}

extension JobState {
    /// The study's inputs stay in the inbox: it still has work to do, or it failed and waits for `brixia retry`
    /// (a failed job is final for the Store; only its files are kept where they are).
    public var keepsInputsInInbox: Bool { self == .received || self == .queued || self == .processing || self == .failed }
}

/// A file published to the outbox for an analysis.
public struct PublishedOutput: Sendable, Equatable, Codable {
    public var kind: OutputKind
    public var fileName: String
    public var sopInstanceUID: String
    public var seriesInstanceUID: String?
    public init(kind: OutputKind, fileName: String, sopInstanceUID: String, seriesInstanceUID: String? = nil) {
        self.kind = kind; self.fileName = fileName; self.sopInstanceUID = sopInstanceUID; self.seriesInstanceUID = seriesInstanceUID
    }
}

/// An analysis already reported for a study: what a new version of its report replaces.
public struct IssuedReport: Sendable, Equatable {
    public var version: Int
    /// Whether the store knows the prior that report named (false for analyses stored before migration 0005).
    public var priorKnown: Bool
    /// The prior exam that report named (nil: "no prior exam", or unknown).
    public var priorStudyInstanceUID: String?
    public var outputs: [PublishedOutput]
    public init(version: Int, priorKnown: Bool, priorStudyInstanceUID: String?, outputs: [PublishedOutput]) {
        self.version = version; self.priorKnown = priorKnown; self.priorStudyInstanceUID = priorStudyInstanceUID
        self.outputs = outputs
    }
}
