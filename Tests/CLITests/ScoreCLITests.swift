import Foundation
import Testing

/// `brixia score` through the real binary, on a shipped sample DICOM and on bad input,
/// with a seeded random fixture model the test generates itself.
@Suite(.serialized) struct ScoreCLITests {
    static let sample = Brixia.repoRoot.appendingPathComponent("Samples/studies/BRX-0002")

    static func firstSample() throws -> URL {
        let files = try FileManager.default.contentsOfDirectory(atPath: sample.path).filter { $0.hasSuffix(".dcm") }.sorted()
        return sample.appendingPathComponent(try #require(files.first))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ScoreCLITests.sample.path), "needs Samples/studies"),
          .timeLimit(.minutes(10)))
    func jsonHasZonesGlobalProbabilitiesModelAndTimings() async throws {
        let model = try E2E.sharedModel.get()
        let dicom = try Self.firstSample()
        let w = try WorkDir()
        let junk = w.url("junk.dcm")
        try Data("not an image".utf8).write(to: junk)

        let r = try await Brixia.run(["score", "--model", model.path, "--json", dicom.path, junk.path], timeout: 300)
        #expect(r.status == 1, "one file could not be scored: exit 1\n\(r.stderr)")
        #expect(r.stderr.contains("random test fixture"), "a fixture model is announced as meaningless")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)

        let ok = array[0]
        #expect(ok["path"] as? String == dicom.path)
        let zones = try #require(ok["zones"] as? [String: Int])
        #expect(Set(zones.keys) == ["A", "B", "C", "D", "E", "F"])
        #expect(zones.values.allSatisfy { (0...3).contains($0) })
        #expect(ok["global"] as? Int == zones.values.reduce(0, +))
        let probabilities = try #require(ok["probabilities"] as? [String: [Double]])
        for (zone, p) in probabilities {
            #expect(p.count == 4)
            #expect(abs(p.reduce(0, +) - 1) < 1e-4, "softmax of zone \(zone) sums to 1")
            // The reported grade is the argmax of the reported probabilities.
            #expect(p.firstIndex(of: p.max()!) == zones[zone])
        }
        // An uncalibrated model reports no confidence (docs/model-card.md, "Calibration").
        #expect(ok["confidence"] is NSNull)
        let m = try #require(ok["model"] as? [String: String])
        #expect(m["weightsSHA256"]?.count == 64)
        let timings = try #require(ok["timings"] as? [String: Double])
        #expect(Set(timings.keys) == ["decode", "preprocess", "network"])
        #expect(timings["network"]! > 0)

        let bad = array[1]
        #expect(bad["path"] as? String == junk.path)
        #expect((bad["error"] as? String)?.contains("junk.dcm") == true)
        #expect((bad["error"] as? String)?.contains("neither DICOM") == true, "both readers' refusal is reported")
        #expect(bad["zones"] == nil)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ScoreCLITests.sample.path), "needs Samples/studies"),
          .timeLimit(.minutes(10)))
    func calibratedModelReportsTemperedProbabilitiesAndConfidence() async throws {
        let model = try E2E.sharedModel.get()
        let dicom = try Self.firstSample()
        let w = try WorkDir()
        // The same weights with a calibration block (T = 2: flatter probabilities, same grades).
        let calibrated = try Self.copy(model, to: w.url("calibrated")) { m in
            m["calibration"] = ["method": "temperature", "temperature": 2.0, "fittedOn": "test", "lowConfidenceBelow": 0.99]
        }
        let raw = try await Self.scoreJSON(model, dicom), cal = try await Self.scoreJSON(calibrated, dicom)
        #expect(raw["zones"] as? [String: Int] == cal["zones"] as? [String: Int], "calibration never changes a grade")
        let pr = try #require(raw["probabilities"] as? [String: [Double]]), pc = try #require(cal["probabilities"] as? [String: [Double]])
        let conf = try #require(cal["confidence"] as? [String: Any])
        let zoneConf = try #require(conf["zones"] as? [String: Double])
        for z in ["A", "B", "C", "D", "E", "F"] {
            let r = try #require(pr[z]), c = try #require(pc[z])
            // softmax(log p / 2) = sqrt(p) normalised
            let s = r.map { $0.squareRoot() }, total = s.reduce(0, +)
            for (x, e) in zip(c, s) { #expect(abs(x - e / total) < 1e-4) }
            #expect(abs(zoneConf[z]! - c.max()!) < 1e-6)
        }
        let study = try #require(conf["study"] as? Double)
        #expect(abs(study - zoneConf.values.reduce(0, +) / 6) < 1e-9)
        #expect(conf["temperature"] as? Double == 2 && conf["lowConfidence"] as? Bool == true)
        let text = try await Brixia.run(["score", "--model", calibrated.path, dicom.path], timeout: 300)
        #expect(text.stdout.contains("LOW CONFIDENCE") && text.stdout.contains(String(format: "confidence: %.2f", study)))
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ScoreCLITests.sample.path), "needs Samples/studies"),
          .timeLimit(.minutes(10)))
    func readoutFromModelJSONDecidesTheGradesAndTheConfidence() async throws {
        let model = try E2E.sharedModel.get()
        let dicom = try Self.firstSample()
        let w = try WorkDir()
        // The same weights read out as the shipped model is (since 0.3): mirrored, calibrated, median grade.
        let dir = try Self.copy(model, to: w.url("median")) { m in
            m["calibration"] = ["method": "temperature", "temperature": 1.5, "fittedOn": "test"]
            m["readout"] = ["decision": "median", "mirrorAverage": true]
        }
        let plain = try await Self.scoreJSON(model, dicom), median = try await Self.scoreJSON(dir, dicom)
        let zones = try #require(median["zones"] as? [String: Int])
        let probs = try #require(median["probabilities"] as? [String: [Double]])
        let plainProbs = try #require(plain["probabilities"] as? [String: [Double]])
        let zoneConf = try #require((median["confidence"] as? [String: Any])?["zones"] as? [String: Double])
        var mirroredChanged = false
        for z in ["A", "B", "C", "D", "E", "F"] {
            let p = try #require(probs[z])
            // The smallest grade whose cumulative probability reaches one half.
            var cumulative = 0.0
            let expected = p.firstIndex { cumulative += $0; return cumulative >= 0.5 * p.reduce(0, +) }
            #expect(zones[z] == expected, "zone \(z): \(p)")
            #expect(abs(zoneConf[z]! - p[zones[z]!]) < 1e-6, "confidence is the reported grade's probability")
            if zip(p, plainProbs[z]!).contains(where: { abs($0 - $1) > 1e-4 }) { mirroredChanged = true }
        }
        #expect(mirroredChanged, "mirroring and calibration change the probabilities")
        let text = try await Brixia.run(["model", "info", dir.path], timeout: 60)
        #expect(text.stdout.contains("readout:       median grade per zone, averaged with the mirrored image"), "\(text.stdout)")
    }

    /// A copy of the bundle `model` at `dir` with its model.json edited by `edit`.
    static func copy(_ model: URL, to dir: URL, editing edit: (inout [String: Any]) -> Void) throws -> URL {
        try FileManager.default.copyItem(at: model, to: dir)
        let mURL = dir.appendingPathComponent("model.json")
        var m = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: mURL)) as? [String: Any])
        edit(&m)
        try JSONSerialization.data(withJSONObject: m, options: [.sortedKeys]).write(to: mURL)
        return dir
    }

    /// `brixia score --model MODEL --json DICOM`: the one file's JSON object (exit status 0 expected).
    static func scoreJSON(_ model: URL, _ dicom: URL) async throws -> [String: Any] {
        let r = try await Brixia.run(["score", "--model", model.path, "--json", dicom.path], timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        return try #require((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])?.first)
    }

    static let shippedModel = Brixia.repoRoot.appendingPathComponent("models/bsnet-brixia-own")
    static var hasShippedModel: Bool {
        FileManager.default.fileExists(atPath: shippedModel.appendingPathComponent("model.json").path)
    }

    @Test(.enabled(if: !ScoreCLITests.hasShippedModel, "the checkout ships models/bsnet-brixia-own: covered by the next test"))
    func withoutAModelItStopsAndSaysHowToGetOne() async throws {
        let r = try await Brixia.run(["score", "whatever.dcm"], env: ["BRIXIA_MODEL": ""], timeout: 60)
        #expect(r.status != 0)
        #expect(r.stderr.contains("brixia model import-keras"))
    }

    /// Without --model or BRIXIA_MODEL, score uses the shipped default model, a real trained one.
    @Test(.enabled(if: ScoreCLITests.hasShippedModel, "no models/bsnet-brixia-own in this checkout"),
          .enabled(if: FileManager.default.fileExists(atPath: ScoreCLITests.sample.path), "needs Samples/studies"),
          .timeLimit(.minutes(10)))
    func withoutAModelTheShippedDefaultIsUsed() async throws {
        let dicom = try Self.firstSample()
        let r = try await Brixia.run(["score", "--json", dicom.path], env: ["BRIXIA_MODEL": ""], timeout: 300)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stderr.contains("random test fixture"))
        let array = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let m = try #require(array.first?["model"] as? [String: String])
        #expect(m["name"] == "bsnet-brixia-own")
        let manifest = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.shippedModel.appendingPathComponent("model.json"))) as? [String: Any])
        let weights = try #require(manifest["weights"] as? [String: Any])
        #expect(m["weightsSHA256"] == weights["sha256"] as? String)
        // It is a trained model with its evaluation on record, not a fixture.
        #expect(manifest["isTestFixture"] as? Bool == false)
        let training = try #require(manifest["training"] as? [String: Any])
        #expect((training["evaluation"] as? [String])?.isEmpty == false)
        // Calibrated (docs/model-card.md, "Calibration"): the confidence is reported; otherwise it is null.
        if let cal = manifest["calibration"] as? [String: Any] {
            let conf = try #require(array.first?["confidence"] as? [String: Any])
            #expect(conf["temperature"] as? Double == cal["temperature"] as? Double)
        } else {
            #expect(array.first?["confidence"] is NSNull)
        }
        let v = try await Brixia.run(["model", "verify", Self.shippedModel.path], timeout: 120)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
    }

    @Test func aMissingModelFolderIsNamed() async throws {
        let r = try await Brixia.run(["score", "--model", "/nonexistent/brixia-model", "x.dcm"], timeout: 60)
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/brixia-model"))
    }

    /// Issue #14 item 3: a file that is not a frontal chest by header, and one whose image fails the content check
    /// (a flat image with a frontal chest header), get no score: the reason, exit status 3, and
    /// `eligible` / `qc` / `reason` in --json.
    @Test(.enabled(if: ScoreCLITests.hasShippedModel, "no models/bsnet-brixia-own in this checkout"),
          .timeLimit(.minutes(10)))
    func notScoredFilesSayWhyAndExit3() async throws {
        let w = try WorkDir()
        let lateral = Brixia.repoRoot.appendingPathComponent("Samples/rejects/lateral_LL.dcm")
        var flat = DicomFixture(study: "2.25.71", sop: "2.25.71.1")
        flat.size = 320
        flat.pixelData = Data(repeating: 0x08, count: 320 * 320 * 2)   // one gray level: nothing to see
        let flatURL = w.url("flat.dcm")
        try flat.write(to: flatURL)

        let r = try await Brixia.run(["score", "--json", lateral.path, flatURL.path], env: ["BRIXIA_MODEL": ""], timeout: 300)
        #expect(r.status == 3, "not scored, none unreadable: exit 3\n\(r.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        let lat = array[0]
        #expect(lat["eligible"] as? Bool == false)
        #expect((lat["reason"] as? String)?.hasPrefix("AI analysis not performed: not eligible: lateral view") == true)
        #expect(lat["qc"] is NSNull && lat["zones"] == nil && lat["global"] == nil)
        let f = array[1]
        #expect(f["eligible"] as? Bool == true)
        let qc = try #require(f["qc"] as? [String: Any])
        #expect(qc["passed"] as? Bool == false)
        #expect((f["reason"] as? String)?.hasPrefix("AI analysis not performed: image-content check failed") == true)
        #expect(f["zones"] == nil && f["global"] == nil, "no score is reported")

        let text = try await Brixia.run(["score", lateral.path], env: ["BRIXIA_MODEL": ""], timeout: 300)
        #expect(text.status == 3)
        #expect(text.stdout.contains("AI analysis not performed: not eligible: lateral view"))
        #expect(!text.stdout.contains("global:"))
    }
}
