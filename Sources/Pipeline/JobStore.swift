import Foundation

/// Job states (persisted): received -> queued -> processing -> done | failed | quarantined.
/// `failed` jobs go back to `queued` when their retry time has come; a late instance re-opens a
/// `done` job as `received` (the next analysis gets a new version).
public enum JobState: String, Sendable, Codable, CaseIterable {
    case received, queued, processing, done, failed, quarantined
}

public enum InstanceState: String, Sendable, Codable {
    /// In the inbox, waiting for its study's analysis.
    case pending
    /// Accounted for by a committed analysis; the file is still in the inbox until disposed.
    case analysed
    /// Moved to the archive (or deleted when so configured).
    case disposed
}

public struct StoredInstance: Sendable, Equatable {
    public var sopInstanceUID: String
    public var studyInstanceUID: String
    public var contentHash: String
    /// Where the file is now (inbox path, then archive path; nil once deleted).
    public var path: String?
    public var state: InstanceState
    public var receivedAt: Date
    public init(sopInstanceUID: String, studyInstanceUID: String, contentHash: String, path: String?,
                state: InstanceState, receivedAt: Date) {
        self.sopInstanceUID = sopInstanceUID; self.studyInstanceUID = studyInstanceUID
        self.contentHash = contentHash; self.path = path; self.state = state; self.receivedAt = receivedAt
    }
}

public struct StudyJob: Sendable, Equatable {
    public var studyInstanceUID: String
    public var patientID: String
    public var issuerOfPatientID: String?
    public var studyDate: String?
    public var state: JobState
    public var attempts: Int
    public var lastInstanceAt: Date
    public var retryAt: Date?
    public var lastError: String?
    public init(studyInstanceUID: String, patientID: String, issuerOfPatientID: String?, studyDate: String?,
                state: JobState, attempts: Int, lastInstanceAt: Date, retryAt: Date?, lastError: String?) {
        self.studyInstanceUID = studyInstanceUID; self.patientID = patientID
        self.issuerOfPatientID = issuerOfPatientID; self.studyDate = studyDate; self.state = state
        self.attempts = attempts; self.lastInstanceAt = lastInstanceAt; self.retryAt = retryAt; self.lastError = lastError
    }
}

/// The persisted state machine. Every method is one transaction.
public protocol JobStore: AnyObject, Sendable {
    func instance(sopInstanceUID: String) throws -> StoredInstance?
    /// Records an eligible instance (new, or a changed file under a known SOP Instance UID) and
    /// (re)opens its study's job: absent/done/failed/quarantined -> received; received/queued keep
    /// their state; processing stays processing (the commit then re-opens it). Updates lastInstanceAt.
    func recordArrival(_ metadata: InstanceMetadata, contentHash: String, path: String, at: Date) throws
    /// received -> queued for jobs quiet since `quietBefore`; failed -> queued when retryAt <= now
    /// (or always when `includeAllFailed`). Returns the study UIDs that became queued.
    @discardableResult
    func promote(quietBefore: Date, now: Date, includeAllFailed: Bool) throws -> [String]
    /// queued -> processing for the oldest queued job; increments attempts.
    func claimNext() throws -> StudyJob?
    func job(studyInstanceUID: String) throws -> StudyJob?
    func jobs() throws -> [StudyJob]
    func instances(studyInstanceUID: String) throws -> [StoredInstance]
    /// Instances in state `analysed` (their files still need archiving), any study.
    func instancesAwaitingDisposal() throws -> [StoredInstance]
    /// The latest analysis (highest version) of the patient's most recent study dated strictly
    /// before `studyDate`, excluding `excludingStudy`.
    func priorAnalysis(patientID: String, issuerOfPatientID: String?, before studyDate: String?,
                       excludingStudy: String) throws -> AnalysisRecord?
    func analyses(studyInstanceUID: String) throws -> [AnalysisRecord]
    func nextAnalysisVersion(studyInstanceUID: String) throws -> Int
    /// In one transaction: inserts the analysis (idempotent on study+version), marks the listed
    /// instances `analysed`, and sets the job to done, or back to received when instances arrived
    /// that the analysis does not account for.
    func commit(_ analysis: AnalysisRecord, at: Date) throws
    func markFailed(studyInstanceUID: String, error: String, retryAt: Date) throws
    /// Marks the job quarantined and its pending instances disposed (their files went to quarantine).
    func markQuarantined(studyInstanceUID: String, reason: String) throws
    func markDisposed(sopInstanceUID: String, newPath: String?) throws
    /// processing -> queued (used at start-up: a job in hand when the process died).
    @discardableResult
    func requeueInterrupted() throws -> [String]
}
