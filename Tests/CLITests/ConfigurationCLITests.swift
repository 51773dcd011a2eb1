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
