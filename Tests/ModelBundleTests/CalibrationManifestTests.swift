import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

/// model.json's optional "calibration" block (docs/model-bundle.md).
@Suite struct CalibrationManifestTests {
    /// The small test bundle written into `dir`, for a test to edit its model.json.
    static func smallBundle(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("b")
        try ModelBundle.write(to: url, manifest: ModelBundleTests.manifest, weights: ModelBundleTests.small)
        return url
    }

    @Test func calibrationRoundTripsIsOptionalAndLeavesTheChecksum() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.smallBundle(in: dir)
        let plain = try ModelBundle.load(from: url, expecting: []).manifest
        // Without the block: identity, and nothing claims to be calibrated.
        #expect(plain.calibration == nil)
        #expect(plain.probabilityCalibration.isIdentity)

        let mURL = url.appendingPathComponent("model.json")
        var m = plain
        m.calibration = .init(temperature: 1.7, fittedOn: "synthetic", lowConfidenceBelow: 0.42,
                              ece: ["before": 0.2, "after": 0.05], notes: "test")
        try m.encoded().write(to: mURL)
        let loaded = try ModelBundle.load(from: url, expecting: []).manifest
        #expect(loaded.calibration == m.calibration)
        #expect(loaded.probabilityCalibration.temperature == 1.7)
        #expect(loaded.weights.sha256 == plain.weights.sha256)
        // The block is what training/calibrate.py writes.
        let raw = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: mURL)) as? [String: Any])
        let block = try #require(raw["calibration"] as? [String: Any])
        #expect(block["method"] as? String == "temperature" && block["lowConfidenceBelow"] as? Double == 0.42)
    }

    @Test func qualityCheckBoundsAreReplacedInPlaceAndValidated() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.smallBundle(in: dir)
        var m = try ModelBundle.load(from: url, expecting: []).manifest
        #expect(m.qualityCheck == nil)
        m.qualityCheck = .init(bounds: ["minSymmetry": 0.4], derivedFrom: "synthetic", margin: 0.05, leaveOneOut: "1/10 refused")
        try ModelBundle.replaceManifest(in: url, with: m)
        #expect(try ModelBundle.load(from: url, expecting: []).manifest.qualityCheck == m.qualityCheck)
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() == ["model.json", "weights.safetensors"])
        // Another model's weights section is refused, and the file is left as it was.
        var other = m
        other.weights.sha256 = String(repeating: "0", count: 64)
        #expect(throws: ModelBundleError.self) { try ModelBundle.replaceManifest(in: url, with: other) }
        #expect(try ModelBundle.load(from: url, expecting: []).manifest == m)
        // A negative margin is a corrupt manifest naming the field.
        var bad = m
        bad.qualityCheck?.margin = -1
        try bad.encoded().write(to: url.appendingPathComponent("model.json"))
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .corruptManifest(_, reason)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(reason.contains("qualityCheck.margin"), "\(reason)")
    }

    @Test func invalidCalibrationIsACorruptManifest() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.smallBundle(in: dir)
        let mURL = url.appendingPathComponent("model.json")
        let base = try ModelBundle.load(from: url, expecting: []).manifest
        let bad: [(ModelManifest.Calibration, String)] = [
            (.init(temperature: 0, fittedOn: "x"), "temperature"),
            (.init(temperature: -1, fittedOn: "x"), "temperature"),
            (.init(temperature: .infinity, fittedOn: "x"), "temperature"),
            (.init(method: "isotonic", temperature: 1, fittedOn: "x"), "method"),
            (.init(temperature: 1.2, fittedOn: "x", lowConfidenceBelow: 1.5), "lowConfidenceBelow"),
        ]
        for (c, field) in bad {
            var m = base
            m.calibration = c
            // JSONEncoder cannot write infinity: write that case by hand.
            if c.temperature.isInfinite {
                var json = String(decoding: try base.encoded(), as: UTF8.self)
                json = json.replacingOccurrences(of: "\"format\" :", with: "\"calibration\" : {\"method\": \"temperature\", \"temperature\": 1e999, \"fittedOn\": \"x\"}, \"format\" :")
                try Data(json.utf8).write(to: mURL)
            } else {
                try m.encoded().write(to: mURL)
            }
            let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
            guard case let .corruptManifest(file, reason)? = e else { Issue.record("\(field): wrong error \(String(describing: e))"); continue }
            #expect(file == mURL.path)
            // (1e999 is refused by the JSON parser itself, before the field is looked at.)
            if c.temperature.isFinite { #expect(reason.contains(field), "\(reason)") }
        }
    }

    @Test func readoutRoundTripsDefaultsToArgmaxAndRefusesUnknownRules() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try Self.smallBundle(in: dir)
        let mURL = url.appendingPathComponent("model.json")
        let plain = try ModelBundle.load(from: url, expecting: []).manifest
        #expect(plain.readout == nil && plain.engineReadout == .argmax)

        var m = plain
        m.readout = .init(decision: "median", mirrorAverage: true, notes: "test")
        try m.encoded().write(to: mURL)
        let loaded = try ModelBundle.load(from: url, expecting: []).manifest
        #expect(loaded.engineReadout == Readout(decision: .median, mirrorAverage: true))
        #expect(loaded.weights.sha256 == plain.weights.sha256)

        m.readout = .init(decision: "mean")
        try m.encoded().write(to: mURL)
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .corruptManifest(file, reason)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(file == mURL.path && reason.contains("readout.decision 'mean'") && reason.contains("median"), "\(reason)")
    }
}
