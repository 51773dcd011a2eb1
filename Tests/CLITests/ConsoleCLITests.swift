#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Store
import Testing

/// The web console and HTTP API as a person and a script use them: the sample studies through
/// `run --once`, then a real `brixia serve` with httpPort on loopback, a real HTTP client, and headless
/// Chromium (scripts/console-browser-test.sh) on the login, worklist and patient pages.
@Suite(.serialized) struct ConsoleCLITests {
    static let samples = Brixia.repoRoot.appendingPathComponent("Samples")
    static let names = ["Müller", "Lucía", "Jürgen"]

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ConsoleCLITests.samples.appendingPathComponent("studies").path),
                   "needs Samples/studies"),
          .timeLimit(.minutes(25)))
    func consoleAndAPIOnTheSampleStudies() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let fm = FileManager.default
        // Two patients (7 exams) and the two rejects: enough for trends, alerts and the quarantine page.
        for patient in ["BRX-0001", "BRX-0002"] {
            let src = Self.samples.appendingPathComponent("studies/\(patient)")
            try fm.createDirectory(at: w.url("inbox/\(patient)"), withIntermediateDirectories: true)
            for f in try fm.contentsOfDirectory(atPath: src.path) {
                try fm.copyItem(at: src.appendingPathComponent(f), to: w.url("inbox/\(patient)/\(f)"))
            }
        }
        for reject in ["lateral_LL.dcm", "not_dicom.dcm"] {
            try fm.copyItem(at: Self.samples.appendingPathComponent("rejects/\(reject)"), to: w.url("inbox/\(reject)"))
        }
        let port = try ConsoleTestSupport.freePort()
        let deadPACS = try ConsoleTestSupport.freePort()  // nothing listens: sends fail and stay queued
        let cfg = w.url("brixia.json")
        let config: [String: Any] = ["workDir": w.root.path, "model": model.path, "httpPort": port, "httpUsersFile": "users.json",
                                     "quietPeriodSeconds": 1, "destinations": ["PACS@127.0.0.1:\(deadPACS)"],
                                     "sendInitialBackoffSeconds": 600, "sendMaxBackoffSeconds": 600]
        try JSONSerialization.data(withJSONObject: config).write(to: cfg)

        let once = try await Brixia.run(["run", "--once", "--config", cfg.path], env: E2E.env, timeout: 900)
        #expect(once.stdout.contains("studies processed:   7"), "\(once.stdout)\n\(once.stderr)")

        // A study that failed for good (as after a full disk), for the failures page and the retry action.
        let failedUID = "\(E2E.root).4242"
        do {
            let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
            _ = try store.recordInstance(IncomingInstance(
                patientID: "BRX-FAIL", studyInstanceUID: failedUID, studyDate: "20260310", seriesInstanceUID: "\(failedUID).1",
                modality: "DX", sopInstanceUID: "\(failedUID).1.1", filePath: w.url("archive/gone.dcm").path,
                contentSHA256: String(repeating: "ab", count: 32), eligible: true))
            _ = try store.enqueue(studyInstanceUID: failedUID)
            let job = try #require(try store.claimNextJob(owner: "console-test"))
            _ = try store.failJob(jobID: job.job.id, owner: "console-test", error: "disk full writing the SR (test)", retryable: false)
        }

        // Users: passwords on stdin, a token each for the API.
        for (name, role) in [("olivia", "operator"), ("victor", "viewer")] {
            let (rc, out) = try ConsoleTestSupport.run(["user", "add", name, "--role", role, "--config", cfg.path],
                                                       stdin: "\(name) password 123\n")
            #expect(rc == 0, "\(out)")
        }
        let users = try String(contentsOf: w.url("users.json"), encoding: .utf8)
        #expect(!users.contains("password 123") && users.contains("$2"))
        let (rcT, viewerToken) = try ConsoleTestSupport.run(["user", "token", "victor", "--config", cfg.path], stdin: "")
        let (_, operatorToken) = try ConsoleTestSupport.run(["user", "token", "olivia", "--config", cfg.path], stdin: "")
        #expect(rcT == 0)
        let viewerAuth = ["Authorization": "Bearer \(viewerToken.trimmingCharacters(in: .whitespacesAndNewlines))"]
        let operatorAuth = ["Authorization": "Bearer \(operatorToken.trimmingCharacters(in: .whitespacesAndNewlines))"]

        let check = try await Brixia.run(["config", "check", cfg.path], env: E2E.env)
        #expect(check.stdout.contains("httpUsersFile") && check.stdout.contains("2 user(s)"), "\(check.stdout)\(check.stderr)")

        let log = w.url("serve.log")
        let daemon = try Daemon(args: ["--config", cfg.path], env: E2E.env, log: log)
        defer { daemon.signal(SIGTERM); _ = daemon.wait(timeout: 30) }
        let http = ConsoleClient(port: port)
        var up = false
        for _ in 0..<300 where !up {
            if let a = try? await http.get("/health"), a.status == 200 { up = true } else { try await Task.sleep(for: .milliseconds(200)) }
        }
        try #require(up, "console did not come up: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")

        // --- no login, no patient data
        let anon = try await http.get("/api/v1/studies")
        #expect(anon.status == 401 && anon.header("WWW-Authenticate")?.contains("Bearer") == true)
        #expect(anon.json["studies"] == nil)
        for page in ["/", "/patients/BRX-0001", "/quarantine", "/studies/x/report.png"] {
            let r = try await http.get(page)
            #expect(r.status == 303 && r.header("Location")?.hasPrefix("/login?next=") == true, "\(page): \(r.status)")
        }
        #expect(try await http.get("/api/v1/studies", headers: ["Authorization": "Bearer bxt_nope"]).status == 401)
        let ready = try await http.get("/ready")
        #expect(ready.status == 200 && ready.json["status"] as? String == "ready")
        let metrics = try await http.get("/metrics")
        #expect(metrics.text.contains("brixia_studies_processed_total 7"), "\(metrics.text)")
        #expect(metrics.text.contains("brixia_studies_failed_total 1"))
        #expect(metrics.text.contains("brixia_files_quarantined_total 2"))
        #expect(metrics.text.contains("brixia_study_processing_seconds_count 7"))
        #expect(metrics.text.contains("brixia_jobs{state=\"done\"} 7"))
        #expect(metrics.text.contains("brixia_outgoing_items{destination="))

        // --- the JSON API with a bearer token; answers carry the documented top-level fields
        func hasFields(_ a: ConsoleClient.Answer, _ schema: String) throws {
            let want = try ConsoleTestSupport.requiredFields(schema)
            #expect(!want.isEmpty)
            for f in want { #expect(a.json[f] != nil, "\(schema) answer lacks \(f): \(a.text.prefix(300))") }
        }
        let all = try await http.get("/api/v1/studies", headers: viewerAuth)
        #expect(all.status == 200)
        try hasFields(all, "Studies")
        #expect(all.json["count"] as? Int == 8)
        #expect((all.json["disclaimer"] as? String)?.contains("not for diagnostic use") == true)
        let studies = all.json["studies"] as? [[String: Any]] ?? []
        #expect(studies.allSatisfy { ($0["reference"] as? String)?.count == 12 })
        #expect(studies.filter { $0["state"] as? String == "done" }.allSatisfy { $0["global"] is Int })
        #expect(!all.text.contains("Müller"), "the list carries no patient names")
        #expect(try await http.get("/api/v1/studies?patient=BRX-0001", headers: viewerAuth).json["count"] as? Int == 4)
        #expect(try await http.get("/api/v1/studies?status=done", headers: viewerAuth).json["count"] as? Int == 7)
        #expect(try await http.get("/api/v1/studies?status=failed", headers: viewerAuth).json["count"] as? Int == 1)
        #expect(try await http.get("/api/v1/studies?date=2026-03-02", headers: viewerAuth).json["count"] as? Int == 1)
        #expect(try await http.get("/api/v1/studies?status=bogus", headers: viewerAuth).status == 400)
        let alerted = try await http.get("/api/v1/studies?alert=true", headers: viewerAuth).json["count"] as? Int ?? -1
        let calm = try await http.get("/api/v1/studies?alert=false", headers: viewerAuth).json["count"] as? Int ?? -1
        #expect(alerted + calm == 8 && alerted >= 0)

        let uid = try #require(studies.first { $0["patientID"] as? String == "BRX-0001" }?["studyInstanceUID"] as? String)
        let one = try await http.get("/api/v1/studies/\(uid)", headers: viewerAuth)
        #expect(one.status == 200)
        try hasFields(one, "Study")
        let study = one.json["study"] as? [String: Any] ?? [:]
        #expect((study["analyses"] as? [Any])?.isEmpty == false)
        #expect((one.json["qc"] as? [String: Any])?["eligibleInstances"] as? Int == 1)
        #expect((one.json["delivery"] as? [Any])?.count == 2, "SR and SC queued for the PACS: \(one.text.prefix(400))")
        #expect(try await http.get("/api/v1/studies/1.2.3.4.5", headers: viewerAuth).status == 404)

        let trend = try await http.get("/api/v1/patients/BRX-0001/trend", headers: viewerAuth)
        try hasFields(trend, "Trend")
        let exams = (trend.json["trend"] as? [String: Any])?["exams"] as? [[String: Any]] ?? []
        #expect(exams.count == 4)
        #expect(exams.compactMap { $0["date"] as? String } == exams.compactMap { $0["date"] as? String }.sorted())
        #expect(try await http.get("/api/v1/patients/NOBODY/trend", headers: viewerAuth).status == 404)

        let quarantine = try await http.get("/api/v1/quarantine", headers: viewerAuth)
        try hasFields(quarantine, "Quarantine")
        #expect(quarantine.json["total"] as? Int == 2)
        #expect(quarantine.text.contains("lateral") && quarantine.text.contains("not_dicom.dcm"))
        try hasFields(try await http.get("/api/v1/queue", headers: viewerAuth), "Queue")
        let outgoing = try await http.get("/api/v1/outgoing", headers: viewerAuth)
        try hasFields(outgoing, "Outgoing")
        #expect((outgoing.json["destinations"] as? [[String: Any]])?.first?["destination"] as? String != nil)

        // --- roles: a viewer cannot act or read the audit log
        #expect(try await http.request("POST", "/api/v1/studies/\(uid)/resend", headers: viewerAuth).status == 403)
        #expect(try await http.get("/api/v1/audit", headers: viewerAuth).status == 403)
        let resend = try await http.request("POST", "/api/v1/studies/\(uid)/resend", headers: operatorAuth)
        #expect(resend.status == 200, "\(resend.text)")
        try hasFields(resend, "Action")
        #expect(resend.json["requeued"] as? Int == 2)
        let retryDone = try await http.request("POST", "/api/v1/studies/\(uid)/retry", headers: operatorAuth)
        #expect(retryDone.status == 409, "a done study is not retried: \(retryDone.text)")

        // --- a browser session: login form, cookie flags, CSRF on every POST
        let origin = ["Origin": "http://127.0.0.1:\(port)"]
        let noOrigin = try await http.request("POST", "/login", form: ["username": "olivia", "password": "olivia password 123"])
        #expect(noOrigin.status == 403, "login without Origin/Referer is refused")
        let wrong = try await http.request("POST", "/login", headers: origin, form: ["username": "olivia", "password": "nope nope nope"])
        #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil)
        let login = try await http.request("POST", "/login", headers: origin,
                                           form: ["username": "olivia", "password": "olivia password 123", "next": "/quarantine"])
        #expect(login.status == 303 && login.header("Location") == "/quarantine")
        let setCookie = login.header("Set-Cookie") ?? ""
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && !setCookie.contains("Secure"))
        let sid = try #require(setCookie.split(separator: ";").first.map(String.init))
        let cookie = ["Cookie": sid]
        let worklist = try await http.get("/", headers: cookie)
        #expect(worklist.status == 200)
        #expect(worklist.text.contains("AI-generated, not verified by a physician, not for diagnostic use"))
        #expect(worklist.text.contains("BRX-0001") && worklist.text.contains("BRX-0002"))
        #expect(worklist.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        let patient = try await http.get("/patients/BRX-0001", headers: cookie)
        #expect(patient.status == 200 && patient.text.contains("<svg") && patient.text.contains("id=\"exam-3\""))
        #expect(!patient.text.contains("(nil)") && !patient.text.contains("Optional("), "absent values must not render")
        let png = try await http.get("/studies/\(uid)/report.png", headers: cookie)
        #expect(png.status == 200 && png.header("Content-Type") == "image/png")
        #expect(png.body.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        for page in ["/quarantine", "/failures", "/outgoing", "/studies/\(uid)"] {
            let r = try await http.get(page, headers: cookie)
            #expect(r.status == 200 && r.text.contains("not for diagnostic use"), "\(page)")
        }
        let studyPage = try await http.get("/studies/\(uid)", headers: cookie).text
        let csrf = try #require(studyPage.range(of: "name=\"csrf\" value=\"").map { String(studyPage[$0.upperBound...].prefix(64)) })
        let path = "/studies/\(uid)/resend"
        #expect(try await http.request("POST", path, headers: cookie.merging(origin) { $1 }, form: [:]).status == 403, "no CSRF token")
        #expect(try await http.request("POST", path, headers: cookie.merging(origin) { $1 }, form: ["csrf": String(repeating: "0", count: 64)]).status == 403)
        #expect(try await http.request("POST", path, headers: cookie.merging(["Origin": "http://evil.example"]) { $1 }, form: ["csrf": csrf]).status == 403)
        let ok = try await http.request("POST", path, headers: cookie.merging(origin) { $1 }, form: ["csrf": csrf])
        #expect(ok.status == 303 && ok.header("Location")?.hasSuffix("?done=resend") == true, "\(ok.status) \(ok.text)")

        // Retry from the failures page: the operator's button, then the study is queued again (the daemon takes it).
        let failures = try await http.get("/failures", headers: cookie).text
        #expect(failures.contains(failedUID) && failures.contains("disk full writing the SR (test)"))
        let fcsrf = try #require(failures.range(of: "name=\"csrf\" value=\"").map { String(failures[$0.upperBound...].prefix(64)) })
        #expect(fcsrf == csrf, "one CSRF token per session")
        let retry = try await http.request("POST", "/studies/\(failedUID)/retry", headers: cookie.merging(origin) { $1 }, form: ["csrf": csrf])
        #expect(retry.status == 303 && retry.header("Location")?.hasSuffix("?done=retry") == true, "\(retry.status) \(retry.text)")
        let after = try await http.get("/api/v1/studies/\(failedUID)", headers: viewerAuth)
        let events = ((after.json["study"] as? [String: Any])?["history"] as? [[String: Any]]) ?? []
        #expect(events.contains { ($0["message"] as? String)?.contains("retry requested by console:olivia") == true }, "\(after.text.prefix(2000))")

        // A viewer's session passes CSRF but not the role check.
        let vLogin = try await http.request("POST", "/login", headers: origin, form: ["username": "victor", "password": "victor password 123"])
        let vCookie = ["Cookie": vLogin.header("Set-Cookie")?.split(separator: ";").first.map(String.init) ?? ""]
        let vPage = try await http.get("/studies/\(uid)", headers: vCookie).text
        #expect(!vPage.contains("id=\"resend\""), "no operator buttons for viewers")
        let vCsrf = try #require(vPage.range(of: "name=\"csrf\" value=\"").map { String(vPage[$0.upperBound...].prefix(64)) })
        #expect(try await http.request("POST", path, headers: vCookie.merging(origin) { $1 }, form: ["csrf": vCsrf]).status == 403)

        // --- the browser: login, worklist and a patient page in headless Chromium, DOM asserted, screenshots saved
        if ProcessInfo.processInfo.environment["BRIXIA_SKIP_BROWSER_TEST"] != "1" {
            let shots = ProcessInfo.processInfo.environment["BRIXIA_CONSOLE_SCREENSHOTS"] ?? w.url("screenshots").path
            let browser = try await Brixia.runTool(URL(fileURLWithPath: "/bin/bash"),
                [Brixia.repoRoot.appendingPathComponent("scripts/console-browser-test.sh").path,
                 "http://127.0.0.1:\(port)", "victor", "victor password 123", shots], timeout: 900)
            #expect(browser.status == 0, "browser test failed:\n\(browser.stdout)\n\(browser.stderr)")
            #expect(browser.stdout.contains("passed, 0 failed"), "\(browser.stdout)")
        }

        // --- the audit log: who saw which patient
        let audit = try await http.get("/api/v1/audit?limit=1000", headers: operatorAuth)
        let entries = audit.json["entries"] as? [[String: Any]] ?? []
        #expect(entries.contains { $0["user"] as? String == "olivia" && $0["action"] as? String == "view-patient" && $0["patientID"] as? String == "BRX-0001" })
        #expect(entries.contains { $0["user"] as? String == "victor" && $0["action"] as? String == "api-view-trend" })
        #expect(entries.contains { $0["user"] as? String == "olivia" && $0["action"] as? String == "resend" && $0["studyInstanceUID"] as? String == uid })
        #expect(entries.contains { $0["action"] as? String == "view-report-image" })
        #expect(entries.contains { $0["action"] as? String == "retry" && $0["studyInstanceUID"] as? String == failedUID })

        // --- login failures are rate-limited (last: it locks this address out for a while)
        var statuses: [Int] = []
        for _ in 0..<6 {
            statuses.append(try await http.request("POST", "/login", headers: origin, form: ["username": "victor", "password": "wrong password!"]).status)
        }
        // This address already failed once above (olivia's wrong password): four more, then refused.
        #expect(statuses == [401, 401, 401, 401, 429, 429], "\(statuses)")
        let locked = try await http.request("POST", "/login", headers: origin, form: ["username": "victor", "password": "victor password 123"])
        #expect(locked.status == 429, "even the right password waits")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitAsync(timeout: 60) == 0)
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(text.contains("web console listening"))
        for name in Self.names { #expect(!text.contains(name), "patient name in the serve log") }
    }

    @Test func serveRefusesTheConsoleWithoutUsers() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let port = try ConsoleTestSupport.freePort()
        let cfg = w.url("brixia.conf")
        try "work_dir = \(w.root.path)\nmodel = \(model.path)\nhttp_port = \(port)\n".write(to: cfg, atomically: true, encoding: .utf8)
        let r = try await Brixia.run(["serve", "--config", cfg.path], env: E2E.env, timeout: 120)
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("console-users.json") && r.stderr.contains("brixia user add"), "\(r.stderr)")
        let bad = try await Brixia.run(["config", "check", cfg.path], env: E2E.env)
        #expect(bad.status == 1 && bad.stdout.contains("httpUsersFile"))
        try "work_dir = \(w.root.path)\nhttp_address = 10.0.0.1\n".write(to: cfg, atomically: true, encoding: .utf8)
        let noPort = try await Brixia.run(["serve", "--config", cfg.path], env: E2E.env, timeout: 60)
        #expect(noPort.status == 2 && noPort.stderr.contains("no httpPort"), "\(noPort.stderr)")
        try "work_dir = \(w.root.path)\nhttp_port = 8080\nhttp_address = example.org\n".write(to: cfg, atomically: true, encoding: .utf8)
        let badAddr = try await Brixia.run(["serve", "--config", cfg.path], env: E2E.env, timeout: 60)
        #expect(badAddr.status == 2 && badAddr.stderr.contains("httpAddress"), "\(badAddr.stderr)")
    }
}
