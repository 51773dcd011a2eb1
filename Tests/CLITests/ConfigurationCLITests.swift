import Foundation
import Testing

@Suite struct ConfigurationCLITests {
    @Test(.timeLimit(.minutes(2)))
    func runWithoutModelStopsWithHowToImport() throws {
        let w = try WorkDir()
        try DicomFixture(study: "1.2.826.0.1.3680043.9.7777.10", sop: "1.2.826.0.1.3680043.9.7777.10.1").write(to: w.url("inbox/a.dcm"))
        let r = try Brixia.run(["run", "--once", "--work-dir", w.root.path], timeout: 60)
        #expect(!r.timedOut)
        #expect(r.status == 2)
        #expect(r.stderr.contains("no model bundle"))
        #expect(r.stderr.contains("brixia model import-keras"))
        #expect(w.files("inbox") == ["a.dcm"])           // nothing touched
    }

    @Test(.timeLimit(.minutes(2)))
    func badConfigFileIsReportedPlainly() throws {
        let w = try WorkDir()
        try Data(#"{"inbx": "/typo"}"#.utf8).write(to: w.url("brixia.json"))
        let r = try Brixia.run(["run", "--once", "--config", w.url("brixia.json").path], cwd: w.root, timeout: 60)
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown keys: inbx"))
        let r2 = try Brixia.run(["run", "--once", "--work-dir", w.root.path], env: ["BRIXIA_THREADS": "lots"], timeout: 60)
        #expect(r2.status == 2)
        #expect(r2.stderr.contains("BRIXIA_THREADS"))
    }
}
