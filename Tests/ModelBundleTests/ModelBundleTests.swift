import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

@Suite struct ModelBundleTests {
    static let small = InMemoryWeights([
        ("conv0/kernel", WeightTensor(shape: [3, 3, 1, 2], values: (0..<18).map { Float($0) * 0.1 - 0.7 })),
        ("bn0/gamma", WeightTensor(shape: [2], values: [1.1, 0.9])),
        ("dense/kernel", WeightTensor(shape: [2, 3], values: [0.001, -0.25, 0.5, 3.14159, -2.71828, 1e-4])),
    ])
    static var specs: [ExpectedTensor] { try! ExpectedTensor.list(from: small) }
    static let manifest = ModelManifest(name: "test-model", version: "1.2.3", licence: "test",
                                        provenance: .init(sources: [], tool: "tests", toolVersion: "0"))

    func writeSmall(_ dir: URL, dtype: SafetensorsDType = .f32) throws -> URL {
        let url = dir.appendingPathComponent("bundle")
        try ModelBundle.write(to: url, manifest: Self.manifest, weights: Self.small, dtype: dtype, expecting: Self.specs)
        return url
    }

    /// Rewrites model.json after `edit`, recomputing the weights hash so only the intended defect remains.
    func tamper(_ bundle: URL, weights: ((inout Data) -> Void)? = nil, manifest: ((inout ModelManifest) -> Void)? = nil) throws {
        let wURL = bundle.appendingPathComponent(ModelBundle.weightsFileName)
        let mURL = bundle.appendingPathComponent(ModelBundle.manifestFileName)
        var m = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: mURL))
        if let weights {
            var d = try Data(contentsOf: wURL)
            weights(&d)
            try d.write(to: wURL)
            m.weights.sha256 = ModelBundle.sha256Hex(d)
        }
        manifest?(&m)
        try m.encoded().write(to: mURL)
    }

    @Test func float32RoundTripIsExact() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        let b = try ModelBundle.load(from: url, expecting: Self.specs)
        #expect(b.manifest.name == "test-model")
        #expect(b.manifest.version == "1.2.3")
        #expect(b.manifest.weights.tensorCount == 3)
        #expect(b.manifest.weights.parameterCount == 26)
        #expect(b.manifest.weights.sha256 == ModelBundle.sha256Hex(try Data(contentsOf: url.appendingPathComponent("weights.safetensors"))))
        #expect(b.manifest.intendedUse.contains("not for diagnostic use"))
        #expect(b.weights.tensorNames == ["bn0/gamma", "conv0/kernel", "dense/kernel"])  // canonical: by name
        for name in Self.small.tensorNames {
            #expect(try b.weights.tensor(named: name).values == Self.small.tensor(named: name).values)
        }
        try b.verifyValues()
        // Only the bundle remains: no temporary directories next to it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bundle"])
    }

    @Test func float16RoundTripWithinTolerance() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let b = try ModelBundle.load(from: try writeSmall(dir, dtype: .f16), expecting: Self.specs)
        #expect(b.manifest.weights.dtype == .f16)
        for name in Self.small.tensorNames {
            for (x, y) in zip(try Self.small.tensor(named: name).values, try b.weights.tensor(named: name).values) {
                #expect(abs(x - y) <= abs(x) * 0.0005 + 1e-7, "\(name)")
            }
        }
    }

    @Test func writeRefusesToOverwriteUnlessAsked() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        #expect(throws: ModelBundleError.destinationExists(directory: url.path)) {
            try ModelBundle.write(to: url, manifest: Self.manifest, weights: Self.small)
        }
        var m = Self.manifest
        m.version = "2"
        try ModelBundle.write(to: url, manifest: m, weights: Self.small, overwrite: true)
        #expect(try ModelBundle.load(from: url, expecting: []).manifest.version == "2")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bundle"])
    }

    @Test func missingBundleAndFiles() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let nowhere = dir.appendingPathComponent("nowhere")
        #expect(throws: ModelBundleError.bundleNotFound(directory: nowhere.path)) { try ModelBundle.load(from: nowhere, expecting: []) }
        let url = try writeSmall(dir)
        try FileManager.default.removeItem(at: url.appendingPathComponent("weights.safetensors"))
        #expect(throws: ModelBundleError.missingFile(directory: url.path, file: "weights.safetensors")) { try ModelBundle.load(from: url, expecting: []) }
        try FileManager.default.removeItem(at: url.appendingPathComponent("model.json"))
        #expect(throws: ModelBundleError.missingFile(directory: url.path, file: "model.json")) { try ModelBundle.load(from: url, expecting: []) }
    }

    @Test func corruptManifest() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        let mURL = url.appendingPathComponent("model.json")
        try Data("{ not json".utf8).write(to: mURL)
        let e1 = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .corruptManifest(file, _)? = e1 else { Issue.record("wrong error \(String(describing: e1))"); return }
        #expect(file == mURL.path)

        try Data(#"{"format": "brixia-model-bundle", "formatVersion": 1, "name": "x"}"#.utf8).write(to: mURL)
        let e2 = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        #expect(e2?.description.contains("missing field") == true)

        try Data(#"{"format": "something-else"}"#.utf8).write(to: mURL)
        let e3 = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        if case .unsupportedFormat? = e3 {} else { Issue.record("wrong error \(String(describing: e3))") }
    }

    @Test func checksumMismatch() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        let wURL = url.appendingPathComponent("weights.safetensors")
        var d = try Data(contentsOf: wURL)
        d[d.count - 1] ^= 0x01  // one flipped bit in the last tensor
        try d.write(to: wURL)
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .checksumMismatch(file, _, found)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(file == wURL.path)
        #expect(found == ModelBundle.sha256Hex(d))
    }

    @Test func truncatedWeightsWithMatchingChecksum() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        try tamper(url, weights: { $0 = $0.prefix($0.count - 8) })
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .invalidWeights(_, underlying)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        if case .offsetsOutOfBounds(_, let tensor, _, _, _) = underlying { #expect(tensor == "dense/kernel") } else {
            Issue.record("wrong underlying error \(underlying)")
        }
    }

    @Test func headerOffsetsOutOfBounds() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        // Rewrite the header so bn0/gamma points past the end of the data.
        try tamper(url, weights: { d in
            let n = d.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            var header = try! JSONSerialization.jsonObject(with: d.subdata(in: 8..<(8 + n))) as! [String: Any]
            var entry = header["bn0/gamma"] as! [String: Any]
            entry["data_offsets"] = [100000, 100008]
            header["bn0/gamma"] = entry
            let json = try! JSONSerialization.data(withJSONObject: header)
            var length = UInt64(json.count).littleEndian
            d = Data(bytes: &length, count: 8) + json + d.subdata(in: (8 + n)..<d.count)
        })
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .invalidWeights(_, .offsetsOutOfBounds(_, tensor, 100000, 100008, _))? = e else {
            Issue.record("wrong error \(String(describing: e))"); return
        }
        #expect(tensor == "bn0/gamma")
        #expect(e!.description.contains("bn0/gamma"))
    }

    @Test func missingAndMisShapedTensors() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        let expect = Self.specs + [ExpectedTensor(name: "final_conv/bias", shape: [1])]
        let e1 = #expect(throws: ModelBundleError.tensorsDoNotMatch(directory: url.path, issues: [.missing(name: "final_conv/bias", expectedShape: [1])])) {
            try ModelBundle.load(from: url, expecting: expect)
        }
        #expect(e1?.description.contains("final_conv/bias") == true)
        let reshaped = Self.specs.map { $0.name == "dense/kernel" ? ExpectedTensor(name: $0.name, shape: [3, 2]) : $0 }
        let e2 = #expect(throws: ModelBundleError.tensorsDoNotMatch(directory: url.path, issues: [.wrongShape(name: "dense/kernel", expected: [3, 2], found: [2, 3])])) {
            try ModelBundle.load(from: url, expecting: reshaped)
        }
        #expect(e2?.description.contains("dense/kernel") == true)
    }

    @Test func wrongDType() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        try tamper(url, manifest: { $0.weights.dtype = .f16 })
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .wrongDType(_, tensor, expected, found)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(Self.small.tensorNames.contains(tensor))
        #expect(expected == .f16 && found == .f32)
    }

    @Test func tensorCountMismatchIsCorruptManifest() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = try writeSmall(dir)
        try tamper(url, manifest: { $0.weights.tensorCount = 4 })
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        if case .corruptManifest? = e {} else { Issue.record("wrong error \(String(describing: e))") }
    }

    @Test func nonFiniteValuesAreCaughtByVerify() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let nan = InMemoryWeights([("x/kernel", WeightTensor(shape: [2], values: [1, .nan]))])
        let b = try ModelBundle.write(to: dir.appendingPathComponent("b"), manifest: Self.manifest, weights: nan)
        #expect(throws: ModelBundleError.nonFiniteValue(directory: b.directory.path, tensor: "x/kernel")) { try b.verifyValues() }
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func importedReferenceBundleEqualsTheH5() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let h5 = try KerasWeightsFile(path: SharedData.bscoreH5.path)
        let specs = try ExpectedTensor.list(from: h5)  // the 352-tensor list, derived from the h5 itself
        #expect(specs.count == 352)
        let b = try ModelBundle.write(to: dir.appendingPathComponent("ref"), manifest: Self.manifest, weights: h5, expecting: specs)
        let reloaded = try ModelBundle.load(from: b.directory, expecting: specs)
        #expect(reloaded.weights.tensorNames == SafetensorsFile.canonicalOrder(h5.tensorNames))
        for name in h5.tensorNames {
            #expect(try reloaded.weights.tensor(named: name).values == h5.tensor(named: name).values, "\(name)")
        }
        for ref in referenceTensors {
            #expect(float32SHA256(try reloaded.weights.tensor(named: ref.name)) == ref.sha256, "\(ref.name)")
        }
        // float16: every value within half-precision rounding of the original.
        let half = try ModelBundle.write(to: dir.appendingPathComponent("ref16"), manifest: Self.manifest, weights: h5,
                                         dtype: .f16, expecting: specs)
        for name in ["conv0/kernel", "stn/locnet_dense/kernel", "bn0/moving_variance", "retina_net_classifier_3/conv2d_15/bias"] {
            for (x, y) in zip(try h5.tensor(named: name).values, try half.weights.tensor(named: name).values) {
                #expect(abs(x - y) <= abs(x) * 0.0005 + 6e-8, "\(name)")
            }
        }
    }
}

@Suite struct ManifestPathTests {
    @Test func weightsFileMustStayInsideTheBundle() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("b")
        try ModelBundle.write(to: url, manifest: ModelBundleTests.manifest, weights: ModelBundleTests.small)
        let mURL = url.appendingPathComponent("model.json")
        var m = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: mURL))
        m.weights.file = "../b/weights.safetensors"
        try m.encoded().write(to: mURL)
        let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
        guard case let .corruptManifest(file, reason)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(file == mURL.path)
        #expect(reason.contains("weights.file"))
    }
}

@Suite struct ManifestTrainingRecordTests {
    @Test func trainingRecordRoundTripsAndIsOptional() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("b")
        try ModelBundle.write(to: url, manifest: ModelBundleTests.manifest, weights: ModelBundleTests.small)
        // A bundle without the record (imported weights) loads with training == nil.
        #expect(try ModelBundle.load(from: url, expecting: []).manifest.training == nil)
        let mURL = url.appendingPathComponent("model.json")
        var m = try JSONDecoder().decode(ModelManifest.self, from: Data(contentsOf: mURL))
        m.training = .init(data: "144 images", dataLicence: "CC BY-NC-SA 4.0", recipe: "training/budget_run.sh",
                           evaluation: ["mean zone MAE vs senior 0.7", "median predictor 0.862"])
        try m.encoded().write(to: mURL)
        let loaded = try ModelBundle.load(from: url, expecting: []).manifest
        #expect(loaded.training == m.training)
        #expect(loaded.training?.evaluation.count == 2)
    }
}

/// model.json says how many score heads the weights hold (issue #17: an ensemble sharing the trunk).
@Suite struct ManifestScoreHeadsTests {
    static let twoHeads = InMemoryWeights([
        ("P5/kernel", WeightTensor(shape: [1], values: [1])),
        ("head1/P5/kernel", WeightTensor(shape: [1], values: [2])),
    ])

    @Test func theManifestMustCountTheHeadsTheWeightsHold() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("b")
        var m = ModelBundleTests.manifest
        m.scoreHeads = 2
        m = try ModelBundle.write(to: url, manifest: m, weights: Self.twoHeads).manifest   // with its weights block
        #expect(m.scoreHeads == 2)
        let mURL = url.appendingPathComponent("model.json")
        for (claimed, says) in [(nil, "scoreHeads is absent (1) but the weights hold 2"), (3, "scoreHeads is 3 but the weights hold 2"),
                                (0, "scoreHeads is 0, expected 1 to 16")] as [(Int?, String)] {
            m.scoreHeads = claimed
            try m.encoded().write(to: mURL)
            let e = #expect(throws: ModelBundleError.self) { try ModelBundle.load(from: url, expecting: []) }
            guard case let .corruptManifest(file, reason)? = e else { Issue.record("wrong error \(String(describing: e))"); continue }
            #expect(file == mURL.path && reason.contains(says), "\(reason)")
        }
        // A one-head bundle needs no field (every bundle written before ensembles).
        let one = dir.appendingPathComponent("one")
        #expect(try ModelBundle.write(to: one, manifest: ModelBundleTests.manifest, weights: ModelBundleTests.small).manifest.scoreHeads == nil)
    }

    @Test func anIncompleteExtraHeadIsNamedWhenTheModelsTensorsAreExpected() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        var w = SeededWeights(seed: 5)
        for name in BSNet.scoreHeadTensorNames { w.tensors["head1/" + name] = w.tensors[name] }
        w.tensors["head1/C1_reduced/bias"] = nil
        var m = ModelBundleTests.manifest
        m.scoreHeads = 2
        let e = #expect(throws: ModelBundleError.self) {
            try ModelBundle.write(to: dir.appendingPathComponent("b"), manifest: m, weights: w, expecting: BSNetSignature.tensors)
        }
        guard case let .tensorsDoNotMatch(_, issues)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(issues.map { "\($0)" }.joined().contains("head1/C1_reduced/bias"), "\(issues)")
    }
}
