import BlockingExecutor
import BrixiaDomain
import DicomNetwork
import Foundation
import Hummingbird
import Store

// JSON answers: each has the documented top-level fields (docs/openapi.yaml) and the disclaimer.

struct StudyListItem: Encodable {
    let studyInstanceUID: String
    let reference: String
    let patientID: String
    let issuer: String
    let date: String?
    let accessionNumber: String?
    let description: String?
    let state: JobState?
    let attempts: Int?
    let latestVersion: Int?
    let global: Int?
    let alert: Bool
    let instances: Int
    let eligibleInstances: Int
    let updatedAt: Date
}

struct StudiesAnswer: Encodable { let disclaimer: String; let count: Int; let studies: [StudyListItem] }

struct QCSummary: Encodable {
    struct Ineligible: Encodable { let sopInstanceUID: String; let reason: String? }
    let instances: Int
    let eligibleInstances: Int
    let ineligible: [Ineligible]
}

struct StudyAnswer: Encodable {
    let disclaimer: String
    let reference: String
    let study: StudyDetail
    let qc: QCSummary
    let delivery: [OutgoingItem]
}

struct TrendAnswer: Encodable { let disclaimer: String; let trend: PatientTrend }
struct QuarantineAnswer: Encodable {
    let disclaimer: String
    let total: Int
    let files: [QueueStatus.QuarantinedFile]
    let studies: [QueueStatus.Failure]
}
struct QueueAnswer: Encodable { let disclaimer: String; let queue: QueueStatus }
struct OutgoingAnswer: Encodable { let disclaimer: String; let destinations: [OutgoingDestinationStatus]; let items: [OutgoingItem] }
struct AuditAnswer: Encodable { let entries: [AuditEntry] }
struct ActionAnswer: Encodable { let disclaimer: String; let action: String; let studyInstanceUID: String; let requeued: Int; let message: String }
struct ReadyAnswer: Encodable { let status: String; let database: String; let detail: String? }

/// The worklist's filters (API query and console form alike).
struct StudyFilter {
    var status: JobState?
    var patient: String?
    var date: String?
    var alert: Bool?
    var limit = 500

    init(_ r: Request) throws {
        if let s = r.query("status") {
            guard let st = JobState(rawValue: s) else {
                throw StoreError.invalidInput(field: "status", reason: "'\(s)' is not one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = st
        }
        patient = r.query("patient")
        if let d = r.query("date") {
            let ok = d.count == 10 && d.enumerated().allSatisfy { i, c in (i == 4 || i == 7) ? c == "-" : c.isASCII && c.isNumber }
            guard ok else { throw StoreError.invalidInput(field: "date", reason: "'\(d)' is not a day (YYYY-MM-DD)") }
            date = d
        }
        if let a = r.query("alert") {
            switch a.lowercased() {
            case "1", "true", "yes", "on": alert = true
            case "0", "false", "no", "off": alert = false
            default: throw StoreError.invalidInput(field: "alert", reason: "'\(a)' is not true or false")
            }
        }
        if let l = r.query("limit") {
            guard let n = Int(l), (1...5000).contains(n) else { throw StoreError.invalidInput(field: "limit", reason: "must be 1-5000") }
            limit = n
        }
    }
}

extension ConsoleServer {
    func studyList(_ f: StudyFilter) throws -> [StudyListItem] {
        let alerted = try store.alertedStudyUIDs()
        // The store filters on state and day; patient, exact day and alert here (lists are bounded by limit).
        let rows = try store.studies(since: f.date, state: f.status, limit: nil)
        var out: [StudyListItem] = []
        for s in rows {
            if let p = f.patient, s.patientID != p { continue }
            if let d = f.date, !(s.date ?? "").hasPrefix(d) { continue }
            let a = alerted.contains(s.studyInstanceUID)
            if let want = f.alert, want != a { continue }
            out.append(StudyListItem(studyInstanceUID: s.studyInstanceUID, reference: Self.reference(s.studyInstanceUID),
                                     patientID: s.patientID, issuer: s.issuer, date: s.date, accessionNumber: s.accessionNumber,
                                     description: s.description, state: s.state, attempts: s.attempts, latestVersion: s.latestVersion,
                                     global: s.global, alert: a, instances: s.instances, eligibleInstances: s.eligibleInstances,
                                     updatedAt: s.updatedAt))
            if out.count >= f.limit { break }
        }
        return out
    }

    func apiStudies(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let f = try StudyFilter(r)
        let list = try studyList(f)
        try audit(p, "api-list-studies", c, patient: f.patient, detail: "\(list.count) studies")
        return Reply.json(StudiesAnswer(disclaimer: Disclaimer.text, count: list.count, studies: list))
    }

    func studyAnswer(_ uid: String) throws -> StudyAnswer {
        let d = try store.studyDetail(studyInstanceUID: uid)
        let qc = QCSummary(instances: d.instances.count, eligibleInstances: d.instances.filter(\.eligible).count,
                           ineligible: d.instances.filter { !$0.eligible }.map { .init(sopInstanceUID: $0.sopInstanceUID, reason: $0.eligibilityReason) })
        let sops = d.analyses.flatMap { $0.outputs.map(\.sopInstanceUID) }
        let delivery = try store.outgoingItems(sopInstanceUIDs: sops)
        return StudyAnswer(disclaimer: Disclaimer.text, reference: Self.reference(uid), study: d, qc: qc, delivery: delivery)
    }

    func apiStudy(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let uid = r.pathParameter("studyUID", c) ?? ""
        let answer = try studyAnswer(uid)
        try audit(p, "api-view-study", c, patient: answer.study.patient.patientID, study: uid)
        return Reply.json(answer)
    }

    func apiTrend(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let id = r.pathParameter("patientID", c) ?? ""
        let trend = try store.trend(patientID: id, issuer: r.query("issuer"))
        try audit(p, "api-view-trend", c, patient: id)
        return Reply.json(TrendAnswer(disclaimer: Disclaimer.text, trend: trend))
    }

    func apiQuarantine(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let q = try store.queueStatus(maxFailures: 500)
        try audit(p, "api-view-quarantine", c)
        return Reply.json(QuarantineAnswer(disclaimer: Disclaimer.text, total: q.quarantinedFiles, files: q.recentQuarantine,
                                           studies: q.failures.filter { $0.state == .quarantined }))
    }

    func outgoingState() throws -> ([OutgoingDestinationStatus], [OutgoingItem]) {
        (try store.outgoingStatus(), try store.outgoingItems(states: [.pending, .failed]))
    }

    func apiOutgoing(_ c: ConsoleContext, _ p: Principal) throws -> Response {
        let (d, i) = try outgoingState()
        try audit(p, "api-view-outgoing", c)
        return Reply.json(OutgoingAnswer(disclaimer: Disclaimer.text, destinations: d, items: i))
    }

    func apiAudit(_ r: Request, _ p: Principal) throws -> Response {
        guard p.role == .operator else { return Reply.jsonError(.forbidden, "the audit log is for operators") }
        let limit = r.query("limit").flatMap(Int.init).map { min(max($0, 1), 5000) } ?? 100
        return Reply.json(AuditAnswer(entries: try store.auditEntries(limit: limit)))
    }

    func ready() -> Response {
        do {
            _ = try store.queueStatus(maxFailures: 0)
            return Reply.json(ReadyAnswer(status: "ready", database: "ok", detail: nil))
        } catch {
            return Reply.json(ReadyAnswer(status: "not-ready", database: "error", detail: "\(error)"), status: .serviceUnavailable)
        }
    }

    // MARK: operator actions

    enum Action: String { case retry, resend }

    func action(_ action: Action, _ r: Request, _ c: ConsoleContext, _ p: Principal, api: Bool) async throws -> Response {
        let uid = r.pathParameter("studyUID", c) ?? ""
        if let s = p.session {
            // Cookie-authenticated: same origin and the session's CSRF token (form field, or X-CSRF-Token for scripts in the page).
            var form = api ? [:] : try await FormBody.parse(r)
            if let h = r.header("X-CSRF-Token") { form["csrf"] = h }
            guard Gate.csrfValid(r, session: s, form: form) else {
                logger.warning("console POST refused: CSRF check failed", metadata: ["user": "\(p.user)", "remote": "\(c.remote)"])
                return api ? Reply.jsonError(.forbidden, "CSRF check failed (missing or wrong token, or a cross-origin request)")
                    : Reply.html("<p>CSRF check failed: reload the page and try again.</p>", status: .forbidden)
            }
        }
        // The store work runs on the blocking-work executor.
        return try await BlockingExecutor.run { [self] in try perform(action, uid: uid, c, p, api: api) }
    }

    func perform(_ action: Action, uid: String, _ c: ConsoleContext, _ p: Principal, api: Bool) throws -> Response {
        guard p.role == .operator else {
            return api ? Reply.jsonError(.forbidden, "\(action.rawValue) needs the operator role")
                : page("Not allowed", who: p, template: "message", ["message": "Retrying or resending needs the operator role."], status: .forbidden)
        }
        let detail = try store.studyDetail(studyInstanceUID: uid)
        var message: String
        var count = 0
        switch action {
        case .retry:
            // What `brixia retry` does: failed -> queued, attempts reset; the daemon picks it up.
            guard detail.job?.state == .failed else {
                let st = detail.job?.state.rawValue ?? "no job"
                let m = "only failed studies can be retried (this one is \(st))"
                return api ? Reply.jsonError(.conflict, m) : page("Cannot retry", who: p, template: "message", ["message": m], status: .conflict)
            }
            count = try store.retryFailed(studyInstanceUID: uid, actor: "console:\(p.user)").count
            message = "study queued again"
        case .resend:
            guard let latest = detail.analyses.last, !latest.outputs.isEmpty else {
                let m = "this study has no report to resend"
                return api ? Reply.jsonError(.conflict, m) : page("Cannot resend", who: p, template: "message", ["message": m], status: .conflict)
            }
            let queue = OutgoingQueue(store: store, policy: config.outgoingPolicy)
            let sops = latest.outputs.map(\.sopInstanceUID)
            count = try store.requeueOutgoing(sopInstanceUIDs: sops, actor: "console:\(p.user)")
            // Destinations configured since the report was written get it too.
            for o in latest.outputs where FileManager.default.fileExists(atPath: o.filePath) {
                for d in config.destinations {
                    let before = try store.outgoingItems(destination: d.description).contains { $0.sopInstanceUID == o.sopInstanceUID }
                    if !before { try queue.enqueue(path: o.filePath, to: d); count += 1 }
                }
            }
            guard count > 0 else {
                let m = "no PACS destination is configured, so there is nothing to resend"
                return api ? Reply.jsonError(.conflict, m) : page("Cannot resend", who: p, template: "message", ["message": m], status: .conflict)
            }
            message = "report queued for sending again (\(count) queue entries)"
        }
        try audit(p, action.rawValue, c, patient: detail.patient.patientID, study: uid, detail: message)
        logger.info("console operator action", metadata: ["user": "\(p.user)", "action": "\(action.rawValue)", "study": "\(Self.reference(uid))"])
        if api {
            return Reply.json(ActionAnswer(disclaimer: Disclaimer.text, action: action.rawValue, studyInstanceUID: uid, requeued: count, message: message))
        }
        return Reply.redirect("/studies/\(urlPathComponent(uid))?done=\(action.rawValue)")
    }
}
