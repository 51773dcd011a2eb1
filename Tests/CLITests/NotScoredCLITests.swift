import Foundation
import Testing

/// Issue #14 item 3 end to end with the shipped model: a frontal-by-header image that fails the image-content
/// check becomes a not-scored study with a dciodvfy-clean "AI analysis not performed" SR, shown by
/// `studies`, `show` and `status` (text and --json).
@Suite(.serialized) struct NotScoredCLITests {
    @Test(.enabled(if: ScoreCLITests.hasShippedModel, "no models/bsnet-brixia-own in this checkout"),
          .timeLimit(.minutes(10)))
    func aFlatImageIsNotScoredAndExplained() async throws {
        let w = try WorkDir()
        let study = "\(E2E.root).40.1"
        var flat = DicomFixture(study: study, sop: "\(study).1")
        flat.pixelData = Data(repeating: 0x08, count: flat.size * flat.size * 2)
        try flat.write(to: w.url("inbox/\(study)/DX.1"))
        let r = try await Brixia.run(["run", "--once", "--work-dir", w.root.path, "--model", ScoreCLITests.shippedModel.path],
                                     env: E2E.env, timeout: 480)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("studies not scored:  1"))
        #expect(w.files("outbox") == ["brixia_\(study)_v1.sr.dcm"], "only the not-performed SR")
        #expect(w.files("quarantine").isEmpty)
        let sr = w.url("outbox/brixia_\(study)_v1.sr.dcm").path
        if let dciodvfy = ["/usr/bin/dciodvfy", "/usr/local/bin/dciodvfy"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let p = Process(); let err = Pipe()
            p.executableURL = URL(fileURLWithPath: dciodvfy); p.arguments = [sr]; p.standardError = err; p.standardOutput = Pipe()
            try p.run(); p.waitUntilExit()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(!text.split(separator: "\n").contains { $0.hasPrefix("Error") }, "\(text)")
        }

        let db = w.url("brixia.sqlite").path
        let studies = try await Brixia.run(["studies", "--db", db], timeout: 60)
        #expect(studies.stdout.contains("not-scored") && studies.stdout.contains("AI analysis not performed: image-content check failed"))
        let sj = try await Brixia.run(["studies", "--db", db, "--json"], timeout: 60)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(sj.stdout.utf8)) as? [[String: Any]])
        #expect((list.first?["notScoredReason"] as? String)?.hasPrefix("image-content check failed") == true)
        let show = try await Brixia.run(["show", study, "--db", db], timeout: 60)
        #expect(show.stdout.contains("not scored (1):") && show.stdout.contains("output SR"))
        let status = try await Brixia.run(["status", "--db", db, "--json"], timeout: 60)
        let st = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(st["notScoredStudies"] as? Int == 1)
    }
}
