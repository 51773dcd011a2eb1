import BlockingExecutor
import DicomNetwork
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache
import ServiceLifecycle
import Store

/// The web console and JSON API of `brixia serve`: a Hummingbird application run as one more service
/// of the daemon's ServiceGroup, reading the daemon's own store.
public final class ConsoleServer: Sendable {
    let config: ConsoleConfig
    let store: BrixiaStore
    let logger: Logger
    let gate: Gate
    let library: MustacheLibrary

    public init(config: ConsoleConfig, store: BrixiaStore, logger: Logger) throws {
        self.config = config; self.store = store; self.logger = logger
        gate = Gate(users: UsersCache(url: config.usersFile), sessions: SessionStore(), throttle: LoginThrottle(),
                    secureCookies: config.secureCookies)
        var lib = MustacheLibrary()
        for (name, text) in [("layout", Templates.layout), ("login", Templates.login), ("worklist", Templates.worklist),
                             ("patient", Templates.patient), ("study", Templates.study), ("quarantine", Templates.quarantine),
                             ("failures", Templates.failures), ("outgoing", Templates.outgoing), ("message", Templates.message)] {
            try lib.register(text, named: name)
        }
        library = lib
    }

    /// Refuses to start without a readable users file: no patient data may be reachable without a login.
    public static func checkUsersFile(_ url: URL) throws {
        let users = try UsersFile.load(url)
        guard !users.users.isEmpty else { throw ConsoleError.usersFile(url.path, "has no user (add one with `brixia user add NAME --role operator`)") }
    }

    /// The Hummingbird application (a swift-service-lifecycle Service).
    public func application() -> some ApplicationProtocol {
        let router = Router(context: ConsoleContext.self)
        for route in ConsoleRoutes.all {
            let path = RouterPath(route.path)
            let handler = self.handler(for: route)
            router.on(path, method: route.method == "POST" ? .post : .get) { request, context in
                try await handler(request, context)
            }
        }
        let log = logger
        let listenURL = "http://\(config.address.contains(":") ? "[\(config.address)]" : config.address):\(config.port)"
        return Application(router: router,
                           configuration: .init(address: .hostname(config.address, port: config.port), serverName: nil),
                           onServerRunning: { _ in log.info("web console listening", metadata: ["url": "\(listenURL)"]) },
                           logger: logger)
    }

    typealias Handler = @Sendable (Request, ConsoleContext) async throws -> Response

    func handler(for route: RouteSpec) -> Handler {
        switch (route.method, route.path) {
        case ("GET", "/health"): return { _, _ in Reply.json(["status": "ok"]) }
        case ("GET", "/ready"): return { [self] _, _ in try await BlockingExecutor.run { self.ready() } }
        case ("GET", "/metrics"): return { [self] _, _ in try await BlockingExecutor.run { self.metrics() } }
        case ("GET", "/static/console.css"): return { _, _ in Reply.text(Templates.css, contentType: "text/css; charset=utf-8") }
        case ("GET", "/login"): return { [self] r, _ in loginPage(next: r.query("next"), error: nil) }
        case ("POST", "/login"): return { [self] r, c in try await login(r, c) }
        case ("POST", "/logout"): return { [self] r, _ in try await logout(r) }
        default: break
        }
        let api = route.api
        let inner = self.protectedHandler(for: route)
        return { [self] request, context in
            guard let who = gate.principal(request) else {
                if api { return Reply.jsonError(.unauthorized, "authentication required (session cookie or Authorization: Bearer token)",
                                                extra: [.wwwAuthenticate: "Bearer realm=\"brixia\""]) }
                let next = request.uri.path
                return Reply.redirect("/login?next=\(next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/")")
            }
            do {
                return try await inner(request, context, who)
            } catch let e as StoreError {
                switch e {
                case .unknownStudy, .unknownPatient:
                    return api ? Reply.jsonError(.notFound, e.description) : page("Not found", who: who, template: "message", ["message": e.description], status: .notFound)
                case .ambiguousPatient, .invalidInput, .illegalTransition:
                    return api ? Reply.jsonError(.badRequest, e.description) : page("Cannot do that", who: who, template: "message", ["message": e.description], status: .badRequest)
                default:
                    logger.error("console request failed", metadata: ["error": "\(e)"])
                    return api ? Reply.jsonError(.serviceUnavailable, "store unavailable") : page("Store unavailable", who: who, template: "message", ["message": "The store cannot be read now; try again."], status: .serviceUnavailable)
                }
            }
        }
    }

    typealias ProtectedHandler = @Sendable (Request, ConsoleContext, Principal) async throws -> Response

    /// A handler that reads the store (SQLite) runs on the blocking-work executor, not on a cooperative thread.
    func blocking(_ body: @escaping @Sendable (Request, ConsoleContext, Principal) throws -> Response) -> ProtectedHandler {
        { r, c, p in try await BlockingExecutor.run { try body(r, c, p) } }
    }

    func protectedHandler(for route: RouteSpec) -> ProtectedHandler {
        switch (route.method, route.path) {
        case ("GET", "/api/v1/studies"): return blocking { [self] r, c, p in try apiStudies(r, c, p) }
        case ("GET", "/api/v1/studies/{studyUID}"): return blocking { [self] r, c, p in try apiStudy(r, c, p) }
        case ("POST", "/api/v1/studies/{studyUID}/retry"): return { [self] r, c, p in try await action(.retry, r, c, p, api: true) }
        case ("POST", "/api/v1/studies/{studyUID}/resend"): return { [self] r, c, p in try await action(.resend, r, c, p, api: true) }
        case ("GET", "/api/v1/patients/{patientID}/trend"): return blocking { [self] r, c, p in try apiTrend(r, c, p) }
        case ("GET", "/api/v1/quarantine"): return blocking { [self] r, c, p in try apiQuarantine(r, c, p) }
        case ("GET", "/api/v1/queue"): return blocking { [self] _, c, p in
            let q = try store.queueStatus(maxFailures: 200)
            try audit(p, "api-view-queue", c)
            return Reply.json(QueueAnswer(disclaimer: Disclaimer.text, queue: q))
        }
        case ("GET", "/api/v1/outgoing"): return blocking { [self] _, c, p in try apiOutgoing(c, p) }
        case ("GET", "/api/v1/audit"): return blocking { [self] r, _, p in try apiAudit(r, p) }
        case ("GET", "/"): return blocking { [self] r, c, p in try worklistPage(r, c, p) }
        case ("GET", "/patients/{patientID}"): return blocking { [self] r, c, p in try patientPage(r, c, p) }
        case ("GET", "/studies/{studyUID}"): return blocking { [self] r, c, p in try studyPage(r, c, p) }
        case ("GET", "/studies/{studyUID}/report.png"): return blocking { [self] r, c, p in try reportImage(r, c, p) }
        case ("POST", "/studies/{studyUID}/retry"): return { [self] r, c, p in try await action(.retry, r, c, p, api: false) }
        case ("POST", "/studies/{studyUID}/resend"): return { [self] r, c, p in try await action(.resend, r, c, p, api: false) }
        case ("GET", "/quarantine"): return blocking { [self] r, c, p in try quarantinePage(r, c, p) }
        case ("GET", "/failures"): return blocking { [self] r, c, p in try failuresPage(r, c, p) }
        case ("GET", "/outgoing"): return blocking { [self] r, c, p in try outgoingPage(r, c, p) }
        default:
            let missing = "\(route.method) \(route.path)"
            return { _, _, _ in Reply.jsonError(.notImplemented, "no handler for \(missing)") }
        }
    }

    // MARK: audit

    /// Every view of patient data is recorded before it is shown; without an audit row, nothing is shown.
    func audit(_ p: Principal, _ action: String, _ context: ConsoleContext, patient: String? = nil, study: String? = nil,
               detail: String? = nil) throws {
        do {
            try store.recordAudit(AuditEntry(user: p.user, role: p.role.rawValue, action: action, patientID: patient,
                                             studyInstanceUID: study, remote: context.remote, detail: detail))
        } catch {
            logger.error("cannot write the audit log; refusing to show patient data", metadata: ["error": "\(error)"])
            throw StoreError.cannotOpen(path: store.path, detail: "audit log: \(error)")
        }
        logger.debug("console view", metadata: ["user": "\(p.user)", "action": "\(action)"])
    }

    // MARK: login

    func loginPage(next: String?, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let body = library.render(mustacheContext(["next": Self.safeNext(next), "error": error]), withTemplate: "login") ?? ""
        return layout(title: "Sign in", who: nil, body: body, status: status)
    }

    /// Only local paths: a crafted ?next= must not send the user elsewhere after login.
    static func safeNext(_ next: String?) -> String {
        guard let n = next, n.hasPrefix("/"), !n.hasPrefix("//"), !n.contains("\\"), n.count < 500 else { return "/" }
        return n
    }

    func login(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard Gate.sameOrigin(request) else {
            return loginPage(next: nil, error: "Sign-in refused: the form was not sent from this server's page.", status: .forbidden)
        }
        let form = try await FormBody.parse(request)
        let name = form["username"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let password = form["password"] ?? ""
        let keys = ["addr:\(context.remote)", "user:\(name.lowercased())"]
        if let wait = gate.throttle.blockedFor(keys) {
            logger.warning("console login throttled", metadata: ["user": "\(name.prefix(64))", "remote": "\(context.remote)"])
            var r = loginPage(next: form["next"], error: "Too many failed sign-ins. Try again in \(Int(wait / 60) + 1) minutes.", status: .tooManyRequests)
            r.headers[.retryAfter] = "\(Int(wait) + 1)"
            return r
        }
        // bcrypt costs ~0.2 s of CPU: off the cooperative threads.
        let users = gate.users.current()
        guard let user = try await BlockingExecutor.run({ users.authenticate(name: name, password: password) }) else {
            gate.throttle.recordFailure(keys)
            logger.warning("console login failed", metadata: ["user": "\(name.prefix(64))", "remote": "\(context.remote)"])
            return loginPage(next: form["next"], error: "Unknown user or wrong password.", status: .unauthorized)
        }
        gate.throttle.reset(["user:\(name.lowercased())"])
        let session = gate.sessions.create(user: user.name, role: user.role)
        logger.info("console login", metadata: ["user": "\(user.name)", "role": "\(user.role.rawValue)", "remote": "\(context.remote)"])
        var r = Reply.redirect(Self.safeNext(form["next"]))
        r.setCookie(gate.sessionCookie(session))
        return r
    }

    func logout(_ request: Request) async throws -> Response {
        if let p = gate.principal(request), let s = p.session {
            let form = try await FormBody.parse(request)
            guard Gate.csrfValid(request, session: s, form: form) else { return Reply.text("CSRF check failed\n", status: .forbidden) }
            gate.sessions.remove(s.id)
        }
        var r = Reply.redirect("/login")
        r.setCookie(gate.clearedCookie())
        return r
    }

    // MARK: rendering

    func layout(title: String, who: Principal?, body: String, flash: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var ctx: [String: Any] = ["title": title, "body": body, "disclaimer": Disclaimer.text]
        if let flash { ctx["flash"] = flash }
        if let who {
            ctx["user"] = ["name": who.user, "role": who.role.rawValue, "csrf": who.session?.csrf ?? ""] as [String: Any]
        }
        return Reply.html(library.render(ctx, withTemplate: "layout") ?? "", status: status)
    }

    func page(_ title: String, who: Principal, template: String, _ ctx: [String: Any], flash: String? = nil,
              status: HTTPResponse.Status = .ok) -> Response {
        layout(title: title, who: who, body: library.render(ctx, withTemplate: template) ?? "", flash: flash, status: status)
    }

    static func reference(_ uid: String) -> String { String(Secrets.sha256Hex(uid).prefix(12)) }

    static func iso(_ d: Date?) -> String {
        guard let d else { return "" }
        let f = ISO8601DateFormatter()
        return f.string(from: d)
    }
}

/// Template contexts without absent values: a nil wrapped in Any would render as the text "nil" and
/// count as present in a section.
func mustacheContext(_ d: [String: Any?]) -> [String: Any] {
    d.compactMapValues { $0 }
}
