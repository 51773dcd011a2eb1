#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Store
import Testing

/// The pipeline's optional explanation Secondary Capture, end to end with the real `brixia` binary, the
/// seeded random fixture model and few super-pixels (so it stays fast).
@Suite(.serialized) struct ExplainPipelineCLITests {
    static var dciodvfy: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let p = "\(dir)/dciodvfy"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static func tool(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out; p.standardError = out
        try p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: d, as: UTF8.self)
    }

    static func weightsSHA(_ model: URL) throws -> String {
        let obj = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("model.json"))) as? [String: Any]
        return try #require((obj?["weights"] as? [String: Any])?["sha256"] as? String)
    }

    @Test(.timeLimit(.minutes(10)), .enabled(if: dciodvfy != nil, "needs dciodvfy (dicom3tools)"))
    func runOnceAddsAValidExplanationSCToTheStudyAfterTheScores() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let study = "\(E2E.root).60.1"
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/\(study)/DX.\(study).1"))
        try Data("explain = true\nexplain_segments = 8\n".utf8).write(to: w.url("brixia.conf"))
        let r = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", model.path,
                                      "--config", w.url("brixia.conf").path], env: E2E.env, timeout: 540)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let name = "brixia_\(study)_v1.explain.dcm"
        let segName = "brixia_\(study)_v1.explain-seg.dcm"
        #expect(w.files("outbox") == [segName, name, "brixia_\(study)_v1.sc.dcm", "brixia_\(study)_v1.sr.dcm"])
        // The strength map as a SEG beside the SC: valid, in the study, referencing the analysed image.
        let segCheck = try Self.tool(Self.dciodvfy!, [w.url("outbox/\(segName)").path])
        #expect(!segCheck.split(separator: "\n").contains { $0.hasPrefix("Error") }, "\(segCheck)")
        let segDump = try Self.tool("/usr/bin/dcmdump", ["-Un", "+L", w.url("outbox/\(segName)").path])
        #expect(segDump.contains("[\(study)]") && segDump.contains("[\(study).1]") && segDump.contains("(0028,135a) CS [YES]"))
        #expect(w.files("outbox", hidden: true).allSatisfy { !$0.hasPrefix(".brixia-explain/") }, "\(w.files("outbox", hidden: true))")
        // The scores were committed before the explanation was even queued.
        let log = r.stderr
        let done = try #require(log.range(of: "study done")), published = try #require(log.range(of: "explanation published"))
        #expect(published.lowerBound > done.lowerBound)
        // `status` lists the explanation queue beside the others (text and JSON).
        let status = try await Brixia.run(["status", "--work-dir", w.root.path], env: E2E.env, timeout: 60)
        #expect(status.status == 0 && status.stdout.contains("explanations: queued 0, running 0, done 1, failed 0"), "\(status.stdout)")
        let statusJSON = try await Brixia.run(["status", "--json", "--work-dir", w.root.path], env: E2E.env, timeout: 60)
        let obj = try JSONSerialization.jsonObject(with: Data(statusJSON.stdout.utf8)) as? [String: Any]
        #expect(((obj?["explanations"] as? [String: Any])?["counts"] as? [String: Int])?["done"] == 1, "\(statusJSON.stdout)")
        let retry = try await Brixia.run(["retry", "--explanations", "--work-dir", w.root.path], env: E2E.env, timeout: 60)
        #expect(retry.status == 0 && retry.stdout.contains("no failed explanation to retry"), "\(retry.stdout)\(retry.stderr)")

        let sc = w.url("outbox/\(name)").path
        let v = try Self.tool(Self.dciodvfy!, [sc])
        #expect(!v.split(separator: "\n").contains { $0.contains("Error") }, "\(v)")
        let dump = try Self.tool("/usr/bin/dcmdump", ["-Un", "+L", sc])
        #expect(dump.contains("[\(study)]"))                       // same study
        #expect(dump.contains("(0020,0011) IS [9903]"))            // its own series
        #expect(dump.contains("not for diagnostic use"))
        #expect(dump.contains(try Self.weightsSHA(model)))          // full weights SHA-256
        #expect(dump.contains("1.2.840.10008.5.1.4.1.1.7"))        // Secondary Capture
        let srDump = try Self.tool("/usr/bin/dcmdump", ["-Un", w.url("outbox/brixia_\(study)_v1.sc.dcm").path])
        func series(_ d: String) -> String? {
            d.split(separator: "\n").first { $0.hasPrefix("(0020,000e)") }.map(String.init)
        }
        #expect(series(dump) != nil && series(dump) != series(srDump))

        let show = try await Brixia.run(["show", study, "--db", w.url("brixia.sqlite").path], timeout: 60)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("output EXPLAIN-SC"), "\(show.stdout)")
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        let a = try #require(try store.analyses(studyInstanceUID: study).first)
        #expect(try store.outputs(analysisID: a.id).filter { $0.kind == "EXPLAIN-SC" }.count == 1)
        #expect(try store.outputs(analysisID: a.id).filter { $0.kind == "EXPLAIN-SEG" }.count == 1)
    }

    /// `brixia explain FILE --seg`: the strength map as a FRACTIONAL SEG in the image's study, on the image's grid,
    /// referencing it, valid for dciodvfy; a non-DICOM input is refused before any work.
    @Test(.timeLimit(.minutes(10)), .enabled(if: dciodvfy != nil, "needs dciodvfy (dicom3tools)"))
    func explainCommandWritesAValidSegmentation() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let study = "\(E2E.root).61.1"
        let source = w.url("in/DX.dcm")
        try DicomFixture(study: study, sop: "\(study).1").write(to: source)
        let r = try await Brixia.run(["explain", source.path, "--model", model.path, "--segments", "8", "--threads", "1",
                                      "--nice", "0", "--seg", "--out", w.url("out").path], env: E2E.env, timeout: 540)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let seg = try #require(w.files("out").first { $0.hasPrefix("BRIXIA_SEG_") }, "\(w.files("out"))")
        let path = w.url("out/\(seg)").path
        let v = try Self.tool(Self.dciodvfy!, [path])
        #expect(!v.split(separator: "\n").contains { $0.contains("Error") }, "\(v)")
        let dump = try Self.tool("/usr/bin/dcmdump", ["-Un", "+L", path])
        let src = try Self.tool("/usr/bin/dcmdump", ["-Un", source.path])
        #expect(dump.contains("1.2.840.10008.5.1.4.1.1.66.4"))      // Segmentation Storage
        #expect(dump.contains("[\(study)]") && dump.contains("[\(study).1]"))   // same study, references the image
        #expect(dump.contains("[FRACTIONAL]") && dump.contains("(0020,0011) IS [9904]"))
        let sha = try Self.weightsSHA(model)
        #expect(dump.contains("not for diagnostic use") && dump.contains(sha))
        func line(_ d: String, _ tag: String) -> String? { d.split(separator: "\n").first { $0.hasPrefix(tag) }.map(String.init) }
        #expect(line(dump, "(0028,0010)") == line(src, "(0028,0010)") && line(dump, "(0028,0011)") == line(src, "(0028,0011)"),
                "the SEG must have the source's rows and columns")

        let png = w.url("out/explain-strength.png").path
        let bad = try await Brixia.run(["explain", png, "--model", model.path, "--seg", "--out", w.url("out2").path],
                                       env: E2E.env, timeout: 120)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--seg needs a DICOM image") && bad.stderr.contains(png), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: w.url("out2/explain-strength.png").path))
    }

    /// `brixia serve` SIGKILLed while its explanation worker runs, restarted: the explanation is computed
    /// again from its persisted job and published exactly once; the orphaned worker leaves nothing behind.
    @Test(.timeLimit(.minutes(12)))
    func killWhileExplainingThenRestartPublishesExactlyOneSC() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let study = "\(E2E.root).61.1"
        try Data("""
            {"quietPeriodSeconds": 0.5, "stabilitySeconds": 0.2, "rescanIntervalSeconds": 1, "workerThreads": 1,
             "explain": true, "explainSegments": 8, "maxAttempts": 5}
            """.utf8).write(to: w.url("brixia.json"))
        let args = ["--work-dir", w.root.path, "--model", model.path, "--config", w.url("brixia.json").path]
        let env = ["BRIXIA_ALLOW_TEST_FIXTURE": "1"]
        try DicomFixture(study: study, sop: "\(study).1").write(to: w.url("inbox/DX.\(study).1"))

        let d1 = try Daemon(args: args, env: env, log: w.url("serve.log"))
        // Wait until a worker was started for the queued job, then kill the pipeline hard.
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline && !w.files("outbox", hidden: true).contains(where: { $0.hasSuffix("/worker.log") }) {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(w.files("outbox", hidden: true).contains { $0.hasSuffix("/worker.log") })
        d1.signal(SIGKILL)
        _ = await d1.waitAsync(timeout: 10)

        let d2 = try Daemon(args: args, env: env, log: w.url("serve.log"))
        let name = "brixia_\(study)_v1.explain.dcm"
        let end = Date().addingTimeInterval(400)
        while Date() < end && !w.files("outbox").contains(name) { try await Task.sleep(nanoseconds: 100_000_000) }
        // Let a possible duplicate appear before stopping.
        try await Task.sleep(nanoseconds: 1_500_000_000)
        d2.signal(SIGTERM)
        _ = await d2.waitAsync(timeout: 30)
        let log = (try? String(contentsOf: w.url("serve.log"), encoding: .utf8)) ?? ""
        #expect(w.files("outbox") == ["brixia_\(study)_v1.explain-seg.dcm", name, "brixia_\(study)_v1.sc.dcm", "brixia_\(study)_v1.sr.dcm"], "\(log)")
        let store = try BrixiaStore.openExisting(path: w.url("brixia.sqlite").path)
        let a = try #require(try store.analyses(studyInstanceUID: study).first)
        #expect(try store.analyses(studyInstanceUID: study).count == 1)
        #expect(try store.outputs(analysisID: a.id).filter { $0.kind == "EXPLAIN-SC" }.count == 1)
        #expect(try store.outputs(analysisID: a.id).filter { $0.kind == "EXPLAIN-SEG" }.count == 1)
        #expect(!w.files("outbox", hidden: true).contains { $0.hasPrefix(".brixia-explain/") }, "\(w.files("outbox", hidden: true))")
        // The recovery path that ran: the job found running after the restart was queued again as a crash.
        let job = try #require(try store.explanationJobs(states: [.done]).first)
        let path = try store.explanationHistory(id: job.id).map { "\($0.fromState ?? "-")>\($0.toState ?? "-")" }
        #expect(path == ["->queued", "queued>running", "running>queued", "queued>running", "running>done"], "\(path)")
        #expect(job.attempts == 2 && job.failureKind == .crash)
    }
}
