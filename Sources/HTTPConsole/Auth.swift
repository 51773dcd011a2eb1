import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import Logging

/// Who is asking: a browser session (cookie) or a script (bearer token).
struct Principal: Sendable {
    let user: String
    let role: ConsoleRole
    /// nil for bearer tokens (no ambient credential, so no CSRF token needed).
    let session: ConsoleSession?
}

/// The users file, re-read when its modification time or size changes (`brixia user add` while serving).
final class UsersCache: Sendable {
    let url: URL
    private struct Loaded { var users = UsersFile(); var stamp: (Date, Int)? }
    private let loaded = Mutex(Loaded())

    init(url: URL) { self.url = url }

    func current() -> UsersFile {
        let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
        let now = (attrs?[.modificationDate] as? Date ?? .distantPast, (attrs?[.size] as? NSNumber)?.intValue ?? -1)
        return loaded.withLock { l in
            if l.stamp == nil || l.stamp! != now {
                l.users = (try? UsersFile.load(url)) ?? UsersFile()
                l.stamp = now
            }
            return l.users
        }
    }
}

/// Authentication and the checks in front of every state-changing request.
struct Gate: Sendable {
    static let cookieName = "brixia_session"
    let users: UsersCache
    let sessions: SessionStore
    let throttle: LoginThrottle
    let secureCookies: Bool

    func principal(_ request: Request) -> Principal? {
        if let auth = request.header("Authorization") {
            let parts = auth.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            guard let u = users.current().user(forToken: String(parts[1]).trimmingCharacters(in: .whitespaces)) else { return nil }
            return Principal(user: u.name, role: u.role, session: nil)
        }
        guard let id = request.cookies[Self.cookieName]?.value, id.count == 64, let s = sessions.find(id) else { return nil }
        // A user removed from the file, or demoted, loses access at once.
        guard let u = users.current().users.first(where: { $0.name == s.user }) else { sessions.remove(id); return nil }
        return Principal(user: s.user, role: u.role, session: s)
    }

    func sessionCookie(_ s: ConsoleSession) -> Cookie {
        Cookie(name: Self.cookieName, value: s.id, maxAge: Int(SessionStore.absoluteTimeout), path: "/",
               secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    func clearedCookie() -> Cookie {
        Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// A browser POST must come from a page of this server: its Origin (or, without one, its Referer)
    /// must name the Host it was sent to.
    static func sameOrigin(_ request: Request) -> Bool {
        // HTTPTypes moves the Host header into the request's authority.
        guard let host = request.head.authority ?? request.header("Host"), !host.isEmpty else { return false }
        let source = request.header("Origin") ?? request.header("Referer")
        guard let source, source != "null", let url = URL(string: source), let h = url.host else { return false }
        let sourceHost = url.port.map { "\(h):\($0)" } ?? h
        return sourceHost.lowercased() == host.lowercased()
    }

    /// For cookie-authenticated POSTs: same origin and the session's CSRF token in the form.
    static func csrfValid(_ request: Request, session: ConsoleSession, form: [String: String]) -> Bool {
        guard sameOrigin(request), let token = form["csrf"] else { return false }
        return Secrets.constantTimeEqual(token, session.csrf)
    }
}
