/// States of a study's processing job. Legal moves are listed in `allowedTransitions`;
/// everything else is refused by the Store (`StoreError.illegalTransition`).
public enum JobState: String, CaseIterable, Codable, Sendable {
    case received     // instances arriving; not yet handed to a worker
    case queued       // ready for a worker
    case processing   // claimed by a worker (owner + lease)
    case done         // analysed; outputs written
    case failed       // gave up (max attempts or non-retryable error)
    case quarantined  // set aside: bad or unusable input, needs a human

    public static let allowedTransitions: [JobState: Set<JobState>] = [
        .received: [.queued, .quarantined],
        .queued: [.processing, .quarantined],
        // processing -> queued: retryable failure or recovery of a dead worker's claim.
        .processing: [.done, .failed, .quarantined, .queued],
        // done/failed/quarantined -> queued: new or changed content, or a manual re-run.
        .done: [.queued],
        .failed: [.queued],
        .quarantined: [.queued],
    ]

    public func canTransition(to next: JobState) -> Bool {
        JobState.allowedTransitions[self]?.contains(next) ?? false
    }

    public var isFinished: Bool { self == .done || self == .failed || self == .quarantined }
}

/// Why a job stopped short of `done` (persisted in jobs.failure_kind).
public enum FailureKind: String, CaseIterable, Codable, Sendable {
    /// The environment failed (disk full, database busy, PACS down): retried with back-off up to
    /// `maxAttempts`, then `failed` until someone runs `brixia retry`.
    case transient
    /// The input itself cannot be processed or reported: quarantined at once, never retried.
    case deterministic
    /// The worker died while holding the job: re-queued, and quarantined as poison at `maxCrashes`.
    case crash
}
