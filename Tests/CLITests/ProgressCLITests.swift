import Foundation
import Testing

/// Long commands say where they are (n/N, elapsed, ETA, the file) and end with a summary that names
/// every study's outcome, score, alerts or reason, as text and as JSON.
@Suite(.serialized) struct ProgressCLITests {
    @Test(.timeLimit(.minutes(10)))
    func runOnceShowsProgressAndSummarisesEveryStudyAsTextAndJSON() async throws {
        let model = try E2E.sharedModel.get()
        func inbox(_ w: WorkDir, _ n: Int) throws {
            for i in 1...2 {
                let study = "\(E2E.root).5\(n).\(i)"
                var f = DicomFixture(study: study, sop: "\(study).1")
                f.studyDate = "2026010\(i)"
                try f.write(to: w.url("inbox/p1/day\(i).dcm"))
            }
            try Data("not DICOM".utf8).write(to: w.url("inbox/notes.txt"))
        }
        let w = try WorkDir()
        try inbox(w, 1)
        let r = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", model.path], env: E2E.env, timeout: 480)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        // Not a terminal: plain progress lines on stderr, one per study.
        #expect(r.stderr.contains("[1/2] "), "\(r.stderr)")
        #expect(r.stderr.contains("[2/2] "))
        #expect(r.stderr.contains("elapsed, ETA"))
        #expect(r.stderr.contains("file=p1/day1.dcm"), "the processing line names the file: \(r.stderr)")
        #expect(!r.stderr.contains("\u{1B}["), "no terminal escapes when stderr is not a terminal")
        #expect(r.stdout.contains("elapsed:"))
        let studyLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("  done ") }
        #expect(studyLines.count == 2, "\(r.stdout)")
        #expect(studyLines.allSatisfy { $0.contains("global ") && $0.contains("/18") })
        #expect(r.stdout.contains("p1/day1.dcm") && r.stdout.contains("p1/day2.dcm"))
        #expect(r.stdout.contains("notes.txt: unreadable"))

        let w2 = try WorkDir()
        try inbox(w2, 2)
        let j = try await Brixia.run(["run", "--once", "--json", "--work-dir", w2.root.path, "--model", model.path], env: E2E.env, timeout: 480)
        #expect(j.status == 0, "\(j.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any], "not JSON: \(j.stdout)")
        #expect(obj["clean"] as? Bool == true)
        #expect((obj["elapsedSeconds"] as? Double ?? 0) > 0)
        let counts = try #require(obj["counts"] as? [String: Any])
        #expect(counts["studiesProcessed"] as? Int == 2)
        let studies = try #require(obj["studies"] as? [[String: Any]])
        #expect(studies.count == 2)
        for s in studies {
            #expect(s["outcome"] as? String == "done")
            #expect((s["global"] as? Int).map { (0...18).contains($0) } == true)
            #expect((s["zones"] as? [String: Int])?.keys.sorted() == ["A", "B", "C", "D", "E", "F"])
            #expect((s["ref"] as? String)?.count == 12)
            #expect((s["files"] as? [String])?.first?.hasPrefix("p1/day") == true)
            #expect(s["alerts"] is [Any])
        }
        let quarantined = try #require(obj["quarantinedFiles"] as? [[String: String]])
        #expect(quarantined.count == 1 && quarantined[0]["file"] == "notes.txt")
        #expect(quarantined[0]["reason"]?.contains("not DICOM") == true)

        let misuse = try await Brixia.run(["run", "--json"], env: E2E.env)
        #expect(misuse.status != 0 && misuse.stderr.contains("--json goes with --once"))
    }

    @Test(.timeLimit(.minutes(5)))
    func scoreOnSeveralFilesReportsProgressOnStderr() async throws {
        let model = try E2E.sharedModel.get()
        let w = try WorkDir()
        for i in 1...2 { try DicomFixture(study: "\(E2E.root).59.\(i)", sop: "\(E2E.root).59.\(i).1").write(to: w.url("s\(i).dcm")) }
        let r = try await Brixia.run(["score", w.url("s1.dcm").path, w.url("s2.dcm").path, "--model", model.path, "--json"], env: E2E.env, timeout: 240)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("[1/2] ") && r.stderr.contains("[2/2] "), "\(r.stderr)")
        #expect(r.stderr.contains("s2.dcm"))
        #expect((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [Any])?.count == 2)
    }
}
