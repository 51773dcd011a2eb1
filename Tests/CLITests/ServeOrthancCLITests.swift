#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Store
import Testing

/// `brixia serve` (the real binary) against a real Orthanc on loopback: the storage SCP receives a study pushed by
/// Orthanc, the pipeline scores it with the seeded fixture model, and the outgoing queue sends SR + SC back.
@Suite(.serialized, .enabled(if: OrthancServer.binaryAvailable,
                             "needs Orthanc (Debian package orthanc; scripts/install-deps.sh installs it)"))
struct ServeOrthancCLITests {
    /// A config in the `key = value` form with the network keys, as an operator would write it.
    static func writeConfig(_ w: WorkDir, scpPort: UInt16, pacs: OrthancServer, quietSeconds: Double, extra: String = "") throws -> URL {
        let url = w.url("brixia.conf")
        try Data("""
            quiet_period = \(quietSeconds)
            stability_seconds = 0.3
            rescan_interval = 1
            threads = 1
            scp_ae_title = BRIXIA
            scp_port = \(scpPort)
            scp_bind_address = 127.0.0.1
            scp_allowed_calling_ae_titles = \(pacs.aeTitle), OTHER
            destinations = \(pacs.destination)
            send_timeout = 5
            send_initial_backoff = 1
            send_max_backoff = 2
            send_retry_window = 600
            \(extra)
            """.utf8).write(to: url)
        return url
    }

    /// Starts `brixia serve` and waits until its SCP listens.
    static func startServe(_ w: WorkDir, config: URL) async throws -> Daemon {
        let model = try E2E.sharedModel.get()
        let d = try Daemon(args: ["--work-dir", w.root.path, "--model", model.path, "--config", config.path],
                           env: ["BRIXIA_ALLOW_TEST_FIXTURE": "1"], log: w.url("serve.log"))
        let up = try await eventually(60) { log(w).contains("storage SCP listening") || !d.process.isRunning }
        #expect(up && d.process.isRunning, "serve did not start its SCP:\n\(log(w).suffix(3000))")
        return d
    }

    static func log(_ w: WorkDir) -> String { (try? String(contentsOf: w.url("serve.log"), encoding: .utf8)) ?? "" }

    /// Puts a synthetic DX study into Orthanc and has Orthanc push it to brixia (C-STORE, synchronous).
    static func pushStudy(_ w: WorkDir, pacs: OrthancServer, study: String, sop: String, patient: String) throws -> String {
        var f = DicomFixture(study: study, sop: sop)
        f.patientID = patient
        f.seed = 7
        let src = w.url("src/\(sop).dcm")
        try f.write(to: src)
        _ = try pacs.rest("POST", "/instances", file: src.path)
        let studyID = try #require(try pacs.lookup(study, type: "Study"))
        _ = try pacs.rest("POST", "/modalities/brixia/store", body: #"{"Resources":["\#(studyID)"],"Synchronous":true}"#)
        return studyID
    }

    static func outgoing(_ w: WorkDir) async throws -> [[String: Any]] {
        let r = try await Brixia.run(["status", "--db", w.url("brixia.sqlite").path, "--json"])
        guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw CLIError("status --json failed (\(r.status)): \(r.stderr)")
        }
        return obj["outgoing"] as? [[String: Any]] ?? []
    }

    /// Every value of `key` anywhere in Orthanc's simplified-tags JSON (any order).
    static func values(_ key: String, in json: Any) -> [Any] {
        var out: [Any] = []
        func walk(_ v: Any) {
            if let d = v as? [String: Any] {
                if let x = d[key] { out.append(x) }
                for (k, x) in d where k != key { walk(x) }
            } else if let a = v as? [Any] { a.forEach(walk) }
        }
        walk(json)
        return out
    }

    /// Zone grades of the SR in content order: the numeric items whose concept is BRX-ZONE.
    static func zoneGrades(inSR tags: Any) -> [Int] {
        var grades: [Int] = []
        func walk(_ v: Any) {
            if let d = v as? [String: Any] {
                let concept = (d["ConceptNameCodeSequence"] as? [[String: Any]])?.first?["CodeValue"] as? String
                if concept?.hasPrefix("BRX-ZONE-") == true, let m = (d["MeasuredValueSequence"] as? [[String: Any]])?.first,
                   let s = m["NumericValue"] as? String, let g = Int(s.trimmingCharacters(in: .whitespaces)) {
                    grades.append(g)
                }
                if let items = d["ContentSequence"] as? [Any] { items.forEach(walk) }
            } else if let a = v as? [Any] { a.forEach(walk) }
        }
        walk(tags)
        return grades
    }

    /// Checks the SR and SC brixia stored for `study` are in Orthanc, in the same study, with the stored zone
    /// values and references to the source image.
    static func checkReportsInOrthanc(_ w: WorkDir, pacs: OrthancServer, study: String, studyID: String, sourceSOP: String, patient: String) throws {
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        let analyses = try store.analyses(studyInstanceUID: study)
        #expect(analyses.count == 1)
        let a = try #require(analyses.first)
        let outputs = try store.outputs(analysisID: a.id)
        #expect(Set(outputs.map(\.kind)) == ["SR", "SC"], "\(outputs.map(\.kind))")
        for o in outputs {
            let id = try #require(try pacs.lookup(o.sopInstanceUID, type: "Instance"), "\(o.kind) \(o.sopInstanceUID) not in Orthanc")
            let parent = try #require(try pacs.rest("GET", "/instances/\(id)/study") as? [String: Any])
            #expect(parent["ID"] as? String == studyID, "\(o.kind) filed in another Orthanc study")
            #expect((parent["MainDicomTags"] as? [String: Any])?["StudyInstanceUID"] as? String == study)
            let tags = try #require(try pacs.rest("GET", "/instances/\(id)/tags?simplify") as? [String: Any])
            #expect(tags["SOPInstanceUID"] as? String == o.sopInstanceUID)
            #expect(tags["StudyInstanceUID"] as? String == study)
            #expect(tags["PatientID"] as? String == patient)
            let meta = try #require(try pacs.rest("GET", "/instances/\(id)/metadata?expand") as? [String: Any])
            #expect(meta["RemoteAET"] as? String == "BRIXIA")
            switch o.kind {
            case "SR":
                #expect(tags["Modality"] as? String == "SR")
                #expect(zoneGrades(inSR: tags) == a.zones.ordered, "SR zones vs store \(a.zones.ordered)")
                let evidence = values("CurrentRequestedProcedureEvidenceSequence", in: tags)
                #expect(values("ReferencedSOPInstanceUID", in: evidence).contains { $0 as? String == sourceSOP },
                        "SR evidence does not reference the source image")
                #expect(values("ReferencedSOPInstanceUID", in: tags["ContentSequence"] ?? []).contains { $0 as? String == sourceSOP },
                        "SR content does not reference the source image")
            default:
                #expect(tags["SOPClassUID"] as? String == "1.2.840.10008.5.1.4.1.1.7")
                let source = (tags["SourceImageSequence"] as? [[String: Any]])?.first
                #expect(source?["ReferencedSOPInstanceUID"] as? String == sourceSOP)
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func orthancPushesStudyServeScoresItAndSendsSRAndSCBack() async throws {
        let w = try WorkDir()
        let scpPort = Ports.free()
        let pacs = OrthancServer(dir: w.url("orthanc"), brixiaPort: scpPort)
        try pacs.start()
        defer { pacs.stop() }
        let d = try await Self.startServe(w, config: try Self.writeConfig(w, scpPort: scpPort, pacs: pacs, quietSeconds: 1))
        defer { if d.process.isRunning { d.signal(SIGKILL); _ = d.wait(timeout: 10) } }

        let study = "\(E2E.root).60.1", sop = "\(E2E.root).60.1.1"
        let pushed = Date()
        let studyID = try Self.pushStudy(w, pacs: pacs, study: study, sop: sop, patient: "NET-RT-1")
        let back = try await eventually(300) { pacs.studyInstances(studyID).count >= 3 }
        print("round trip: push to brixia -> SR + SC in Orthanc in \(String(format: "%.1f", Date().timeIntervalSince(pushed))) s (quiet period 1 s, fixture model, debug build)")
        #expect(back, "SR + SC did not reach Orthanc; serve log:\n\(Self.log(w).suffix(4000))")
        #expect(pacs.studyInstances(studyID).count == 3, "exactly the source image, the SR and the SC")
        try Self.checkReportsInOrthanc(w, pacs: pacs, study: study, studyID: studyID, sourceSOP: sop, patient: "NET-RT-1")

        let dest = try #require(try await Self.outgoing(w).first)
        #expect(dest["destination"] as? String == pacs.destination)
        #expect(dest["sent"] as? Int == 2 && dest["pending"] as? Int == 0 && dest["failed"] as? Int == 0, "\(dest)")
        let show = try await Brixia.run(["show", study, "--db", w.url("brixia.sqlite").path])
        #expect(show.status == 0)
        #expect(show.stdout.components(separatedBy: "sent to \(pacs.destination)").count - 1 == 2, "\(show.stdout)")
        // The received file was archived like any inbox file.
        #expect(w.files("archive").map { ($0 as NSString).lastPathComponent } == ["\(sop).dcm"])

        d.signal(SIGTERM)
        #expect(await d.waitAsync(timeout: 90) == 0, "graceful shutdown on SIGTERM")
        #expect(Self.log(w).contains("storage SCP stopped"))
        // The counters at stop are the real ones (they used to be read after the SCP was freed: always 0).
        let stopped = Self.log(w).split(separator: "\n").first { $0.contains("storage SCP stopped") }.map(String.init) ?? ""
        #expect(stopped.contains("stored=1") && stopped.contains("rejectedAssociations=0"), "\(stopped)")
    }

    @Test(.timeLimit(.minutes(10)))
    func pacsDownWhenReportsAreReadyThenQueueDeliversWhenItIsBack() async throws {
        let w = try WorkDir()
        let scpPort = Ports.free()
        let pacs = OrthancServer(dir: w.url("orthanc"), brixiaPort: scpPort)
        try pacs.start()
        defer { pacs.stop() }
        // A long quiet period: Orthanc is stopped well before the study is scored.
        let d = try await Self.startServe(w, config: try Self.writeConfig(w, scpPort: scpPort, pacs: pacs, quietSeconds: 8))
        defer { if d.process.isRunning { d.signal(SIGKILL); _ = d.wait(timeout: 10) } }

        let study = "\(E2E.root).61.1", sop = "\(E2E.root).61.1.1"
        let studyID = try Self.pushStudy(w, pacs: pacs, study: study, sop: sop, patient: "NET-DOWN-1")
        try pacs.crash()

        // Reports are queued and retried while the PACS is down: pending, with the connection error.
        var last: [String: Any] = [:]
        let failing = try await eventually(300) {
            last = (try? await Self.outgoing(w))?.first ?? [:]
            return last["pending"] as? Int == 2 && (last["lastError"] as? String ?? "").contains("cannot connect")
        }
        #expect(failing, "status never showed 2 pending with a connection error: \(last)\n\(Self.log(w).suffix(3000))")
        #expect(last["sent"] as? Int == 0 && last["nextAttemptAt"] != nil)
        let status = try await Brixia.run(["status", "--db", w.url("brixia.sqlite").path])
        #expect(status.stdout.contains("\(pacs.destination)  pending 2, sent 0, failed 0"), "\(status.stdout)")
        #expect(status.stdout.contains("last error"), "\(status.stdout)")
        let show = try await Brixia.run(["show", study, "--db", w.url("brixia.sqlite").path])
        #expect(show.stdout.components(separatedBy: "pending for \(pacs.destination)").count - 1 == 2, "\(show.stdout)")

        // PACS back (same database and ports): the queue delivers both, nothing lost, nothing twice.
        try pacs.start()
        let back = try await eventually(120) { pacs.studyInstances(studyID).count >= 3 }
        #expect(back, "queued reports not delivered after the PACS came back:\n\(Self.log(w).suffix(3000))")
        try Self.checkReportsInOrthanc(w, pacs: pacs, study: study, studyID: studyID, sourceSOP: sop, patient: "NET-DOWN-1")
        let delivered = try await eventually(30) {
            let s = (try? await Self.outgoing(w))?.first ?? [:]
            return s["sent"] as? Int == 2 && s["pending"] as? Int == 0
        }
        #expect(delivered)
        #expect(pacs.studyInstances(studyID).count == 3)

        d.signal(SIGTERM)
        #expect(await d.waitAsync(timeout: 90) == 0, "graceful shutdown on SIGTERM")
    }

    /// `brixia serve` with a destination, SIGKILLed at seeded random moments (intake, scoring, commit, queueing,
    /// sending) and restarted: in the end every study's SR and SC are in Orthanc exactly once, the queue has
    /// exactly one row per report, all sent, and no other object reached the PACS.
    @Test(.enabled(if: ExtendedTests.enabled, Comment(rawValue: ExtendedTests.skipMessage)), .timeLimit(.minutes(15)))
    func sigkillAtRandomPointsNeitherLosesNorDuplicatesASend() async throws {
        let w = try WorkDir()
        let scpPort = Ports.free()
        let pacs = OrthancServer(dir: w.url("orthanc"), brixiaPort: scpPort)
        try pacs.start()
        defer { pacs.stop() }
        // Crashes count as attempts and, three in one study, make it poison: allow many of both, as
        // KillRestartCLITests does (the kills are the test).
        let config = try Self.writeConfig(w, scpPort: scpPort, pacs: pacs, quietSeconds: 1, extra: "max_attempts = 1000\nmax_crashes = 1000")
        let model = try E2E.sharedModel.get()
        let args = ["--work-dir", w.root.path, "--model", model.path, "--config", config.path]
        let env = ["BRIXIA_ALLOW_TEST_FIXTURE": "1"]
        var studies: [String] = []
        func add(_ n: Int) throws {
            let st = "\(E2E.root).63.\(n)"
            studies.append(st)
            var f = DicomFixture(study: st, sop: "\(st).1")
            f.patientID = "NET-KILL-\(n)"; f.seed = UInt32(n)
            try f.write(to: w.url("inbox/\(st)/a.dcm"))
        }
        try add(1); try add(2)
        var rng = SeededRandom(state: 0x5E4D)
        for k in 1...6 {
            let d = try Daemon(args: args, env: env, log: w.url("serve.log"))
            try await Task.sleep(nanoseconds: UInt64(rng.uniform(0.5, 9) * 1e9))
            d.signal(SIGKILL)
            _ = await d.waitAsync(timeout: 10)
            if k == 3 { try add(3) }
        }
        let d = try Daemon(args: args, env: env, log: w.url("serve.log"))
        defer { if d.process.isRunning { d.signal(SIGKILL); _ = d.wait(timeout: 10) } }
        let done = try await eventually(420) {
            let s = (try? await Self.outgoing(w))?.first ?? [:]
            return s["sent"] as? Int == studies.count * 2 && s["pending"] as? Int == 0
        }
        let queueState = (try? await Self.outgoing(w)) ?? []
        #expect(done, "not all reports sent: \(queueState)\n\(Self.log(w).suffix(3000))")
        d.signal(SIGTERM)
        #expect(await d.waitAsync(timeout: 90) == 0)
        // What the kills hit (depends on machine speed; reported, not asserted).
        let log = Self.log(w)
        let count = { (s: String) in log.components(separatedBy: s).count - 1 }
        print("network kill test: re-queued interrupted studies \(count("re-queued interrupted study")), staged analyses finished by recovery \(count("finishing a staged analysis")), queueing passes \(count("reports queued for the PACS")), delivery rounds that stored \(count("outgoing: objects stored"))")

        let rows = try await Brixia.run(["status", "--db", w.url("brixia.sqlite").path, "--json"])
        let out = try #require(((try JSONSerialization.jsonObject(with: Data(rows.stdout.utf8)) as? [String: Any])?["outgoing"] as? [[String: Any]])?.first)
        #expect(out["sent"] as? Int == studies.count * 2 && out["failed"] as? Int == 0, "\(out)")
        for (n, st) in studies.enumerated() {
            let studyID = try #require(try pacs.lookup(st, type: "Study"), "study \(st) not in Orthanc")
            // Exactly the SR and the SC of the one analysis (the source image was never in this Orthanc).
            #expect(pacs.studyInstances(studyID).count == 2, "\(st)")
            try Self.checkReportsInOrthanc(w, pacs: pacs, study: st, studyID: studyID, sourceSOP: "\(st).1", patient: "NET-KILL-\(n + 1)")
        }
        let all = try #require(try pacs.rest("GET", "/instances") as? [String])
        #expect(all.count == studies.count * 2, "objects in Orthanc: \(all.count)")
    }

    /// The PACS down for longer than the retry window: the reports become `failed` (status shows it, nothing is
    /// dropped); once the PACS is back, `brixia send --retry-failed` re-queues and delivers them.
    @Test(.timeLimit(.minutes(10)))
    func reportsFailedAfterTheRetryWindowAreKeptAndSentOnRetry() async throws {
        let w = try WorkDir()
        let pacs = OrthancServer(dir: w.url("orthanc"), brixiaPort: Ports.free())   // not started: down
        let model = try E2E.sharedModel.get()
        try Data("""
            destinations = \(pacs.destination)
            send_timeout = 5
            send_initial_backoff = 1
            send_max_backoff = 1
            send_retry_window = 1
            """.utf8).write(to: w.url("brixia.conf"))
        let st = "\(E2E.root).64.1"
        try DicomFixture(study: st, sop: "\(st).1").write(to: w.url("inbox/\(st)/a.dcm"))
        let args = ["run", "--once", "--work-dir", w.root.path, "--model", model.path, "--config", w.url("brixia.conf").path]
        let env = ["BRIXIA_ALLOW_TEST_FIXTURE": "1"]
        let first = try await Brixia.run(args, env: env, timeout: 240)
        #expect(first.status == 0 && first.stdout.contains("\(pacs.destination)  pending 2, sent 0, failed 0"), "\(first.stdout)\n\(first.stderr.suffix(2000))")
        try await Task.sleep(nanoseconds: 2_000_000_000)
        // The next delivery round is past the window: failed, kept, with the reason.
        let second = try await Brixia.run(args, env: env, timeout: 240)
        #expect(second.stdout.contains("\(pacs.destination)  pending 0, sent 0, failed 2"), "\(second.stdout)")
        let db = w.url("brixia.sqlite").path
        let status = try await Brixia.run(["status", "--db", db])
        #expect(status.stdout.contains("pending 0, sent 0, failed 2") && status.stdout.contains("cannot connect to"), "\(status.stdout)")
        let show = try await Brixia.run(["show", st, "--db", db])
        #expect(show.stdout.components(separatedBy: "FAILED for \(pacs.destination)").count - 1 == 2, "\(show.stdout)")

        try pacs.start()
        defer { pacs.stop() }
        let retry = try await Brixia.run(["send", "--retry-failed", "--queue", db, "--to", pacs.destination])
        #expect(retry.status == 0, "\(retry.stdout)\n\(retry.stderr)")
        #expect(retry.stdout.contains("re-queued 2 failed item(s)"), "\(retry.stdout)")
        let store = try BrixiaStore.openExisting(path: db)
        let analysis = try #require(try store.analyses(studyInstanceUID: st).first)
        for o in try store.outputs(analysisID: analysis.id) {
            #expect(try pacs.lookup(o.sopInstanceUID, type: "Instance") != nil, "\(o.kind) not delivered")
        }
        let after = try #require(try await Self.outgoing(w).first)
        #expect(after["sent"] as? Int == 2 && after["failed"] as? Int == 0, "\(after)")
    }
}
