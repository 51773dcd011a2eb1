import BrixiaDomain
import Foundation
import Store

extension JobState {
    /// The study's inputs stay in the inbox: it still has work to do, or it failed and waits for `brixia retry`
    /// (a failed job is final for the Store; only its files are kept where they are).
    public var keepsInputsInInbox: Bool { self == .received || self == .queued || self == .processing || self == .failed }
}

public struct StoredInstance: Sendable, Equatable {
    public var sopInstanceUID: String
    public var studyInstanceUID: String
    public var contentHash: String
    /// Where the file was when it was recorded (in the inbox).
    public var path: String
    public init(sopInstanceUID: String, studyInstanceUID: String, contentHash: String, path: String) {
        self.sopInstanceUID = sopInstanceUID; self.studyInstanceUID = studyInstanceUID
        self.contentHash = contentHash; self.path = path
    }
}

public struct StudyJob: Sendable, Equatable {
    public var studyInstanceUID: String
    public var state: JobState
    public var attempts: Int
    public var lastError: String?
    public var updatedAt: Date
    public init(studyInstanceUID: String, state: JobState, attempts: Int, lastError: String?, updatedAt: Date) {
        self.studyInstanceUID = studyInstanceUID; self.state = state; self.attempts = attempts
        self.lastError = lastError; self.updatedAt = updatedAt
    }
}

/// The persisted state machine, as the pipeline needs it. Every method is one transaction.
/// Production: `StoreJobStore` over Store's `BrixiaStore`; tests: an in-memory double.
public protocol JobStore: AnyObject, Sendable {
    func instance(sopInstanceUID: String, studyInstanceUID: String) throws -> StoredInstance?
    /// Records an eligible instance (new, or new content under a known SOP Instance UID). A new study
    /// gets a job in `received`; new content re-opens a finished job; a job being processed is
    /// flagged so that its commit re-queues it.
    func recordArrival(_ metadata: InstanceMetadata, contentHash: String, path: String, at: Date) throws
    /// received -> queued for studies quiet since `quietBefore`. Returns the studies queued. Failed
    /// jobs are never promoted: only an operator re-queues them.
    @discardableResult
    func promote(quietBefore: Date, now: Date) throws -> [String]
    /// queued -> processing for the oldest queued job (attempts + 1) whose back-off ended before
    /// `retryBefore`, other than the studies in `excluding`.
    func claimNext(now: Date, retryBefore: Date, excluding: Set<String>) throws -> StudyJob?
    func job(studyInstanceUID: String) throws -> StudyJob?
    /// Jobs waiting in `queued` (the work `run --once` has ahead of it, for its progress line).
    func queuedCount() throws -> Int
    func instances(studyInstanceUID: String) throws -> [StoredInstance]
    /// The latest analysis of the patient's most recent earlier study (by study date, never by arrival).
    func priorAnalysis(studyInstanceUID: String) throws -> PriorReference?
    /// The patient's dated exams with their latest global score: (study UID, its place, point), any order.
    func scoreHistory(patientID: String, issuerOfPatientID: String?) throws -> [(study: String, order: ExamOrder, point: ScorePoint)]
    /// Where the study stands among the patient's exams (Store's `ExamOrder`: the one ordering rule).
    func examOrder(studyInstanceUID: String) throws -> ExamOrder?
    /// The study's latest stored analysis as it was reported (nil: never reported).
    func issuedReport(studyInstanceUID: String) throws -> IssuedReport?
    /// Versions of the analyses stored for the study.
    func analysisVersions(studyInstanceUID: String) throws -> [Int]
    func nextAnalysisVersion(studyInstanceUID: String) throws -> Int
    /// Stores the analysis and finishes the job (done, or queued again when content arrived meanwhile).
    /// The job must be `processing`; the analysis gets version `analysis.version`.
    func commit(_ analysis: StudyAnalysis, outputs: [PublishedOutput], at: Date) throws
    /// A transient failure: back to queued after a back-off while attempts remain, else failed.
    /// Returns the job as it is now.
    @discardableResult
    func markFailed(studyInstanceUID: String, error: String, at: Date) throws -> StudyJob?
    func markQuarantined(studyInstanceUID: String, reason: String, at: Date) throws
    /// At start-up, the job in hand when the process died: queued again, failed (attempts used up) or
    /// quarantined as poison (it stopped the worker maxCrashes times). Returns those jobs as they are now.
    @discardableResult
    func requeueInterrupted(at: Date) throws -> [StudyJob]
    /// The study's processing history, one line per event, oldest first (for poison reason files).
    func history(studyInstanceUID: String) throws -> [String]
    /// Notes a file moved to the quarantine (shown by `brixia status`).
    func recordQuarantinedFile(_ relativePath: String, reason: String, at: Date) throws
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
