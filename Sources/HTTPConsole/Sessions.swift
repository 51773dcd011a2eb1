import Foundation

/// A signed-in browser: who, what role, and the per-session CSRF token every form POST must carry.
struct ConsoleSession: Sendable {
    let id: String
    let user: String
    let role: ConsoleRole
    let csrf: String
    let created: Date
    var lastSeen: Date
}

/// Sessions live in memory: a restart of `brixia serve` signs everyone out (nothing to leak on disk).
/// @unchecked Sendable: `sessions` is read and written only under `lock`.
final class SessionStore: @unchecked Sendable {
    static let idleTimeout: TimeInterval = 30 * 60
    static let absoluteTimeout: TimeInterval = 12 * 3600
    static let maxSessions = 10_000
    private var sessions: [String: ConsoleSession] = [:]
    private let lock = NSLock()

    func create(user: String, role: ConsoleRole, now: Date = Date()) -> ConsoleSession {
        let s = ConsoleSession(id: Secrets.randomHex(32), user: user, role: role, csrf: Secrets.randomHex(32),
                               created: now, lastSeen: now)
        lock.lock(); defer { lock.unlock() }
        if sessions.count >= Self.maxSessions { sessions = sessions.filter { isLive($0.value, now) } }
        sessions[s.id] = s
        return s
    }

    /// The live session with this id (sliding idle timeout), else nil.
    func find(_ id: String, now: Date = Date()) -> ConsoleSession? {
        lock.lock(); defer { lock.unlock() }
        guard var s = sessions[id] else { return nil }
        guard isLive(s, now) else { sessions[id] = nil; return nil }
        s.lastSeen = now
        sessions[id] = s
        return s
    }

    func remove(_ id: String) { lock.lock(); sessions[id] = nil; lock.unlock() }

    private func isLive(_ s: ConsoleSession, _ now: Date) -> Bool {
        now.timeIntervalSince(s.lastSeen) < Self.idleTimeout && now.timeIntervalSince(s.created) < Self.absoluteTimeout
    }
}

/// Failed logins per client address and per user name: after `limit` failures within `window` further
/// attempts are refused (429) until the window has passed, so passwords cannot be guessed quickly.
/// @unchecked Sendable: `failures` is read and written only under `lock`; `limit` and `window` are immutable.
final class LoginThrottle: @unchecked Sendable {
    let limit: Int
    let window: TimeInterval
    private var failures: [String: [Date]] = [:]
    private let lock = NSLock()

    init(limit: Int = 5, window: TimeInterval = 15 * 60) { self.limit = limit; self.window = window }

    /// Seconds until another attempt is allowed for any of `keys`, or nil when allowed now.
    func blockedFor(_ keys: [String], now: Date = Date()) -> TimeInterval? {
        lock.lock(); defer { lock.unlock() }
        var wait: TimeInterval?
        for k in keys {
            let recent = (failures[k] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[k] = recent.isEmpty ? nil : recent
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait ?? 0, window - now.timeIntervalSince(oldest))
            }
        }
        return wait
    }

    func recordFailure(_ keys: [String], now: Date = Date()) {
        lock.lock(); defer { lock.unlock() }
        if failures.count > 100_000 { failures.removeAll() }
        for k in keys { failures[k, default: []].append(now) }
    }

    func reset(_ keys: [String]) { lock.lock(); for k in keys { failures[k] = nil }; lock.unlock() }
}
