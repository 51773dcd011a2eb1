import Foundation

public struct StoreConfiguration: Sendable {
    /// Processing attempts before a job is marked failed (counted when a worker claims it).
    public var maxAttempts: Int
    /// How long a claim is valid without renewal; expired claims are recovered by `recoverAbandonedJobs`.
    public var leaseDuration: TimeInterval
    /// How long a writer waits for another process's write lock before failing (SQLITE_BUSY).
    public var busyTimeout: TimeInterval
    /// Trend threshold and alert rules used when analyses are recorded.
    public var trend: TrendOptions

    public init(maxAttempts: Int = 3, leaseDuration: TimeInterval = 900, busyTimeout: TimeInterval = 30,
                trend: TrendOptions = TrendOptions()) {
        self.maxAttempts = max(1, maxAttempts)
        self.leaseDuration = leaseDuration
        self.busyTimeout = busyTimeout
        self.trend = trend
    }
}
