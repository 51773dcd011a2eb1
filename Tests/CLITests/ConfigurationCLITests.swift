import Foundation
import Testing

@Suite struct ConfigurationCLITests {
    @Test(.timeLimit(.minutes(2)))
    func runWithoutModelStopsWithHowToImport() async throws {
        let w = try WorkDir()
        try DicomFixture(study: "1.2.826.0.1.3680043.9.7777.10", sop: "1.2.826.0.1.3680043.9.7777.10.1").write(to: w.url("inbox/a.dcm"))
        // An explicit model that is not there (without one, the shipped default model would be used).
        let r = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", w.url("no-model").path], timeout: 60)
        #expect(!r.timedOut)
        #expect(r.status == 2)
        #expect(r.stderr.contains("no model bundle"))
        #expect(r.stderr.contains("brixia model import-keras"))
        #expect(w.files("inbox") == ["a.dcm"])           // nothing touched
    }

    @Test(.timeLimit(.minutes(2)))
    func badConfigFileIsReportedPlainly() async throws {
        let w = try WorkDir()
        try Data(#"{"inbx": "/typo"}"#.utf8).write(to: w.url("brixia.json"))
        let r = try await Brixia.run(["run", "--once", "--config", w.url("brixia.json").path], cwd: w.root, timeout: 60)
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown keys: inbx"))
        let r2 = try await Brixia.run(["run", "--once", "--work-dir", w.root.path], env: ["BRIXIA_THREADS": "lots"], timeout: 60)
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("BRIXIA_THREADS"))
    }

    /// `config keys` lists the table the parser uses: every key a file may set, with its variable, and the
    /// flags' help shows the same defaults.
    @Test(.timeLimit(.minutes(2)))
    func configKeysListsEverySetting() async throws {
        let r = try await Brixia.run(["config", "keys", "--json"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let byKey = Dictionary(uniqueKeysWithValues: keys.compactMap { k in (k["key"] as? String).map { ($0, k) } })
        #expect(byKey["quietPeriodSeconds"]?["environment"] as? String == "BRIXIA_QUIET_SECONDS")
        #expect((byKey["scpAllowedCallingAETitles"]?["spellings"] as? [String])?.contains("scp_allowed_callers") == true)
        #expect(byKey["httpPort"]?["range"] as? String == "1-65535")
        #expect(byKey.count == keys.count && keys.count >= 35)
        let text = try await Brixia.run(["config", "keys"], timeout: 60)
        #expect(text.status == 0 && text.stdout.contains("sendRetryWindowSeconds") && text.stdout.contains("[network]"))
        let help = try await Brixia.run(["run", "--help"], timeout: 60)
        let flat = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(flat.contains("processed (default 10). Env: BRIXIA_QUIET_SECONDS."), "\(help.stdout)")
    }
}

@Suite struct FixtureCLITests {
    /// The generated fixtures are what the end-to-end tests claim: a readable, eligible frontal
    /// radiograph, and an ineligible lateral one.
    @Test(.timeLimit(.minutes(2)))
    func generatedFixturesReadAsIntended() async throws {
        let w = try WorkDir()
        try DicomFixture(study: "1.2.826.0.1.3680043.9.7777.11", sop: "1.2.826.0.1.3680043.9.7777.11.1").write(to: w.url("pa.dcm"))
        var lat = DicomFixture(study: "1.2.826.0.1.3680043.9.7777.11", sop: "1.2.826.0.1.3680043.9.7777.11.2")
        lat.viewPosition = "LL"
        try lat.write(to: w.url("lat.dcm"))
        let r = try await Brixia.run(["inspect", "--json", w.url("pa.dcm").path, w.url("lat.dcm").path], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(json.count == 2)
        let text = r.stdout
        #expect(text.contains("lateral view"))
        let eligibleFlags = json.compactMap { obj -> Bool? in
            if let e = obj["eligible"] as? Bool { return e }
            if let e = (obj["eligibility"] as? [String: Any])?["eligible"] as? Bool { return e }
            return nil
        }
        #expect(eligibleFlags == [true, false], "\(text.prefix(2000))")
    }
}
