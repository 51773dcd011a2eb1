import Foundation
import Synchronization

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
final class SessionStore: Sendable {
    static let idleTimeout: TimeInterval = 30 * 60
    static let absoluteTimeout: TimeInterval = 12 * 3600
    static let maxSessions = 10_000
    private let sessions = Mutex<[String: ConsoleSession]>([:])

    func create(user: String, role: ConsoleRole, now: Date = Date()) -> ConsoleSession {
        let s = ConsoleSession(id: Secrets.randomHex(32), user: user, role: role, csrf: Secrets.randomHex(32),
                               created: now, lastSeen: now)
        sessions.withLock { all in
            if all.count >= Self.maxSessions { all = all.filter { Self.isLive($0.value, now) } }
            all[s.id] = s
        }
        return s
    }

    /// The live session with this id (sliding idle timeout), else nil.
    func find(_ id: String, now: Date = Date()) -> ConsoleSession? {
        sessions.withLock { all -> ConsoleSession? in
            guard var s = all[id] else { return nil }
            guard Self.isLive(s, now) else { all[id] = nil; return nil }
            s.lastSeen = now
            all[id] = s
            return s
        }
    }

    func remove(_ id: String) { sessions.withLock { $0[id] = nil } }

    private static func isLive(_ s: ConsoleSession, _ now: Date) -> Bool {
        now.timeIntervalSince(s.lastSeen) < idleTimeout && now.timeIntervalSince(s.created) < absoluteTimeout
    }
}

/// Failed logins per client address and per user name: after `limit` failures within `window` further
/// attempts are refused (429) until the window has passed, so passwords cannot be guessed quickly.
final class LoginThrottle: Sendable {
    let limit: Int
    let window: TimeInterval
    private let failures = Mutex<[String: [Date]]>([:])

    init(limit: Int = 5, window: TimeInterval = 15 * 60) { self.limit = limit; self.window = window }

    /// Seconds until another attempt is allowed for any of `keys`, or nil when allowed now.
    func blockedFor(_ keys: [String], now: Date = Date()) -> TimeInterval? {
        failures.withLock { failures -> TimeInterval? in
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
    }

    func recordFailure(_ keys: [String], now: Date = Date()) {
        failures.withLock { failures in
            if failures.count > 100_000 { failures.removeAll() }
            for k in keys { failures[k, default: []].append(now) }
        }
    }

    func reset(_ keys: [String]) { failures.withLock { failures in for k in keys { failures[k] = nil } } }
}
