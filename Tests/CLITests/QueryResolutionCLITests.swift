import Foundation
import Testing

/// The query commands find the pipeline's state the way `run` does (no --db needed after a default
/// `run --once`), the log's short study reference works with `show`, and `--version` answers everywhere.
@Suite(.serialized) struct QueryResolutionCLITests {
    @Test(.timeLimit(.minutes(10)))
    func queryCommandsFindTheDefaultRunsDatabaseAndTheLogReference() async throws {
        let w = try WorkDir()
        let model = try E2E.sharedModel.get()
        let study = "\(E2E.root).40.1"
        // A user's folder with the default work dir layout: ./brixia-work/inbox.
        let work = w.url("brixia-work")
        try DicomFixture(study: study, sop: "\(study).1").write(to: work.appendingPathComponent("inbox/a.dcm"))
        try Data("not an image".utf8).write(to: work.appendingPathComponent("inbox/readme.txt"))

        let run = try await Brixia.run(["run", "--once", "--model", model.path], env: E2E.env, cwd: w.root, timeout: 480)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        // The log names the study by its short reference, never by UID at info level.
        let logged = run.stderr.split(separator: "\n").first { $0.contains("processing study") }.map(String.init) ?? ""
        let ref = try #require(logged.range(of: #"study=[0-9a-f]{12}"#, options: .regularExpression)
            .map { String(logged[$0].dropFirst("study=".count)) }, "no study reference in: \(run.stderr)")

        // No flags: ./brixia-work/brixia.sqlite, as `run` used.
        let studies = try await Brixia.run(["studies"], cwd: w.root)
        #expect(studies.status == 0, "\(studies.stderr)")
        #expect(studies.stdout.contains(study))
        #expect(studies.stdout.contains(ref), "studies has no column with the log's reference \(ref):\n\(studies.stdout)")
        // Files set aside at intake are not studies, but `studies` says where they went and why.
        #expect(studies.stdout.contains("1 file set aside at intake"), "\(studies.stdout)")
        let quarantined = try await Brixia.run(["studies", "--status", "quarantined"], cwd: w.root)
        #expect(quarantined.stdout.contains("readme.txt: unreadable"), "\(quarantined.stdout)")

        let show = try await Brixia.run(["show", ref], cwd: w.root)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("study    \(study)"))
        let prefix = try await Brixia.run(["show", String(ref.prefix(8))], cwd: w.root)
        #expect(prefix.stdout.contains("study    \(study)"))
        let unknown = try await Brixia.run(["show", "0000000000ab"], cwd: w.root)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("no study has the UID or log reference 0000000000ab"))

        // From elsewhere: --work-dir, BRIXIA_WORK_DIR, --config and BRIXIA_CONFIG all lead to the same store.
        let elsewhere = FileManager.default.temporaryDirectory
        let byFlag = try await Brixia.run(["status", "--work-dir", work.path], cwd: elsewhere)
        #expect(byFlag.status == 0, "\(byFlag.stderr)")
        #expect(byFlag.stdout.contains("done 1"))
        let byEnv = try await Brixia.run(["trend", "TEST-ID", "--json"], env: ["BRIXIA_WORK_DIR": work.path], cwd: elsewhere)
        #expect(byEnv.stderr.contains("database not found") == false, "\(byEnv.stderr)")
        let config = w.url("brixia.conf")
        try Data("workDir = \(work.path)\n".utf8).write(to: config)
        let byConfig = try await Brixia.run(["studies", "--config", config.path], cwd: elsewhere)
        #expect(byConfig.stdout.contains(study), "\(byConfig.stderr)")
        let byConfigEnv = try await Brixia.run(["show", ref], env: ["BRIXIA_CONFIG": config.path], cwd: elsewhere)
        #expect(byConfigEnv.stdout.contains("study    \(study)"), "\(byConfigEnv.stderr)")

        // Nothing there: the error names the path it looked at and how to point elsewhere.
        let empty = try WorkDir()
        let none = try await Brixia.run(["studies"], cwd: empty.root)
        #expect(none.status != 0)
        #expect(none.stderr.contains(empty.url("brixia-work/brixia.sqlite").path))
        #expect(none.stderr.contains("--work-dir"))
    }

    @Test func versionAnswersOnEveryCommandAndExplainResolvesTheModelLikeScore() async throws {
        let root = try await Brixia.run(["--version"])
        #expect(root.status == 0)
        #expect(root.stdout.hasPrefix("brixia "))
        for sub in ["score", "status", "serve", "explain"] {
            let r = try await Brixia.run([sub, "--version"])
            #expect(r.status == 0 && r.stdout == root.stdout, "\(sub): \(r.stdout) \(r.stderr)")
        }
        // Every command an operator uses shows examples in its help.
        for sub in [["inspect"], ["score"], ["run"], ["serve"], ["trend"], ["studies"], ["show"], ["status"], ["retry"],
                    ["explain"], ["send"], ["receive"], ["echo"], ["bench"], ["config", "check"]] {
            let h = try await Brixia.run(sub + ["--help"])
            #expect(h.stdout.contains("Examples:\n") && h.stdout.contains("  brixia \(sub[0])"), "\(sub) --help has no examples")
        }
        // explain reads BRIXIA_MODEL like score (it used to say "no model" unless --model was given).
        let w = try WorkDir()
        let missing = w.url("no-such-model").path
        for sub in ["score", "explain"] {
            var args = [sub, w.url("x.dcm").path]
            if sub == "explain" { args += ["--out", w.url("maps").path] }
            let r = try await Brixia.run(args, env: ["BRIXIA_MODEL": missing])
            #expect(r.status != 0)
            #expect(r.stderr.contains(missing), "\(sub) did not use BRIXIA_MODEL: \(r.stderr)")
        }
    }
}
