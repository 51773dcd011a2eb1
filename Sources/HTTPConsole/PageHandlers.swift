import BrixiaDomain
import DicomNetwork
import Foundation
import Hummingbird
import Reports
import Store

/// The console's HTML pages (server-rendered, no script).
extension ConsoleServer {
    func worklistPage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let f = try StudyFilter(r)
        let list = try studyList(f)
        try audit(p, "list-studies", c, patient: f.patient, detail: "\(list.count) studies")
        let rows: [[String: Any]] = list.map { s in
            ["date": s.date ?? "undated", "patientID": s.patientID, "patientPath": urlPathComponent(s.patientID),
             "uid": s.studyInstanceUID, "uidPath": urlPathComponent(s.studyInstanceUID), "reference": s.reference,
             "state": s.state?.rawValue ?? "received", "global": s.global.map(String.init) ?? "–", "alert": s.alert,
             "eligible": s.eligibleInstances, "instances": s.instances]
        }
        let states: [[String: Any]] = JobState.allCases.map { ["value": $0.rawValue, "selected": $0 == f.status] }
        return page("Worklist", who: p, template: "worklist",
                    ["studies": rows, "count": rows.count, "states": states, "patient": f.patient ?? "", "date": f.date ?? "",
                     "alertOnly": f.alert == true])
    }

    func hasReportImage(_ a: StudyDetail.AnalysisDetail) -> Bool {
        a.outputs.contains { $0.kind.lowercased() == "sc" && FileManager.default.fileExists(atPath: $0.filePath) }
    }

    func patientPage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let id = r.pathParameter("patientID", c) ?? ""
        let trend = try store.trend(patientID: id, issuer: r.query("issuer"))
        try audit(p, "view-patient", c, patient: id)
        var chart: [ChartExam] = []
        var exams: [[String: Any]] = []
        for (i, e) in trend.exams.enumerated() {
            let d = try? store.studyDetail(studyInstanceUID: e.studyInstanceUID)
            let latest = d?.analyses.last
            let version = latest?.analysis.version ?? 1
            let amended = version > 1
            chart.append(ChartExam(label: e.date.map { String($0.prefix(10)) } ?? "undated", global: e.global, zones: e.zones.ordered,
                                   alert: !e.alerts.isEmpty, amended: amended))
            exams.append(mustacheContext([
                "index": i, "date": e.date ?? "undated", "global": e.global, "trend": e.trend.rawValue,
                "delta": e.delta.map { $0 > 0 ? "+\($0)" : "\($0)" },
                "alerts": e.alerts.map { ["message": $0.message] }, "amended": amended, "version": version,
                "uidPath": urlPathComponent(e.studyInstanceUID),
                "zones": Charts.zoneDiagramSVG(zones: e.zones.ordered, title: "Zone grades of the exam of \(e.date ?? "undated")"),
                "report": latest.map(hasReportImage) ?? false,
            ]))
        }
        let svg = Charts.trendSVG(chart, title: "Brixia score trend of patient \(id) (AI-generated)")
        return page("Patient \(id)", who: p, template: "patient", ["chart": svg, "exams": exams])
    }

    func studyPage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let uid = r.pathParameter("studyUID", c) ?? ""
        let a = try studyAnswer(uid)
        let d = a.study
        try audit(p, "view-study", c, patient: d.patient.patientID, study: uid)
        let analyses: [[String: Any]] = d.analyses.map { x in
            mustacheContext(["version": x.analysis.version, "global": x.analysis.global, "amended": x.analysis.version > 1,
             "model": x.analysis.modelName, "modelVersion": x.analysis.modelVersion,
             "confidence": x.analysis.confidence.map { String(format: "%.2f", $0) },
             "created": Self.iso(x.analysis.createdAt), "alerts": x.alerts.map { ["message": $0.message] },
             "zones": Charts.zoneDiagramSVG(zones: x.analysis.zones.ordered, title: "Zone grades, analysis v\(x.analysis.version)"),
             // The image served is the latest SC; show it with the latest analysis only.
             "report": x.analysis.id == d.analyses.last?.analysis.id && hasReportImage(x),
             "uidPath": urlPathComponent(uid),
             "outputs": x.outputs.map { ["kind": $0.kind, "sop": $0.sopInstanceUID] }])
        }
        let ctx: [String: Any] = mustacheContext([
            "patientID": d.patient.patientID, "patientPath": urlPathComponent(d.patient.patientID), "uid": uid,
            "uidPath": urlPathComponent(uid), "date": d.date ?? "undated", "state": d.job?.state.rawValue ?? "received",
            "lastError": d.job?.lastError, "eligible": a.qc.eligibleInstances, "instances": a.qc.instances,
            "ineligible": a.qc.ineligible.map { ["sop": $0.sopInstanceUID, "reason": $0.reason ?? ""] },
            "operator": p.role == .operator, "csrf": p.session?.csrf ?? "", "failed": d.job?.state == .failed,
            "hasOutputs": !(d.analyses.last?.outputs.isEmpty ?? true), "analyses": analyses,
            "delivery": a.delivery.map { ["destination": $0.destination, "sop": $0.sopInstanceUID, "state": $0.state.rawValue,
                                          "attempts": $0.attempts, "lastError": $0.lastError ?? ""] },
            "history": d.history.suffix(50).map { ["at": Self.iso($0.at), "kind": $0.kind, "message": $0.message ?? ""] },
        ])
        let flash: String? = switch r.query("done") {
        case "retry": "Study queued again."
        case "resend": "Report queued for sending again."
        default: nil
        }
        return page("Study \(Self.reference(uid))", who: p, template: "study", ctx, flash: flash)
    }

    /// The rendered report page: the pixels of the Secondary Capture that went to PACS, as PNG.
    func reportImage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let uid = r.pathParameter("studyUID", c) ?? ""
        let d = try store.studyDetail(studyInstanceUID: uid)
        guard let latest = d.analyses.last,
              let sc = latest.outputs.last(where: { $0.kind.lowercased() == "sc" && FileManager.default.fileExists(atPath: $0.filePath) }) else {
            return Reply.text("no rendered report for this study\n", status: .notFound)
        }
        try audit(p, "view-report-image", c, patient: d.patient.patientID, study: uid)
        do {
            let png = try ReportImageReader.png(path: sc.filePath)
            return Reply.make(.ok, contentType: "image/png", body: ByteBuffer(bytes: png))
        } catch {
            logger.error("cannot render the report image", metadata: ["error": "\(error)"])
            return Reply.text("the report image cannot be read\n", status: .internalServerError)
        }
    }

    func quarantinePage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let q = try store.queueStatus(maxFailures: 500)
        try audit(p, "view-quarantine", c)
        return page("Quarantine", who: p, template: "quarantine", [
            "total": q.quarantinedFiles,
            "files": q.recentQuarantine.map { ["at": Self.iso($0.at), "file": $0.file, "reason": $0.reason] },
            "studies": q.failures.filter { $0.state == .quarantined }.map {
                ["uid": $0.studyInstanceUID, "uidPath": urlPathComponent($0.studyInstanceUID), "reason": $0.lastError ?? "", "at": Self.iso($0.updatedAt)]
            },
        ])
    }

    func failuresPage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let q = try store.queueStatus(maxFailures: 500)
        try audit(p, "view-failures", c)
        let rows: [[String: Any]] = q.failures.filter { $0.state == .failed }.map {
            ["uid": $0.studyInstanceUID, "uidPath": urlPathComponent($0.studyInstanceUID), "kind": $0.failureKind?.rawValue ?? "",
             "attempts": $0.attempts, "reason": $0.lastError ?? "", "at": Self.iso($0.updatedAt),
             "operator": p.role == .operator, "csrf": p.session?.csrf ?? ""]
        }
        return page("Failures", who: p, template: "failures", ["failures": rows])
    }

    func outgoingPage(_ r: Request, _ c: ConsoleContext, _ p: Principal) throws -> Response {
        let (d, i) = try outgoingState()
        try audit(p, "view-outgoing", c)
        return page("Outgoing queue", who: p, template: "outgoing", [
            "destinations": d.map { ["destination": $0.destination, "pending": $0.pending, "sent": $0.sent, "failed": $0.failed,
                                     "next": Self.iso($0.nextAttemptAt), "lastError": $0.lastError ?? ""] },
            "items": i.map { ["destination": $0.destination, "sop": $0.sopInstanceUID, "state": $0.state.rawValue,
                              "attempts": $0.attempts, "lastError": $0.lastError ?? ""] },
        ])
    }
}
