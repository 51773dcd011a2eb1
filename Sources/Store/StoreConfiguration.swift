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
    /// Worker deaths while holding one study before it is quarantined as poison.
    public var maxCrashes: Int
    /// Back-off after the n-th transient failure: retryDelay * 2^(n-1), at most maxRetryDelay.
    public var retryDelay: TimeInterval
    public var maxRetryDelay: TimeInterval

    public init(maxAttempts: Int = 3, leaseDuration: TimeInterval = 900, busyTimeout: TimeInterval = 30,
                trend: TrendOptions = TrendOptions(), maxCrashes: Int = 3, retryDelay: TimeInterval = 60,
                maxRetryDelay: TimeInterval = 3600) {
        self.maxAttempts = max(1, maxAttempts)
        self.maxCrashes = max(1, maxCrashes)
        self.retryDelay = max(0, retryDelay)
        self.maxRetryDelay = max(self.retryDelay, maxRetryDelay)
        self.leaseDuration = leaseDuration
        self.busyTimeout = busyTimeout
        self.trend = trend
    }
}

extension StoreConfiguration {
    /// Back-off before the retry that follows failed attempt `attempt` (1-based).
    public func backoff(afterAttempt attempt: Int) -> TimeInterval {
        let n = max(1, min(attempt, 30))
        return min(maxRetryDelay, retryDelay * pow(2, Double(n - 1)))
    }
}
