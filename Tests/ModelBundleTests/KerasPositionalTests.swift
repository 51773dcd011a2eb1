import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

/// Counter-shifted names: the authors' code names the score head from per-process counters, so a
/// file saved after another model was built in the same process carries other numbers.
struct CounterShift {
    var classifier = 0, block = 0, conv = 0, bn = 0

    /// `retina_net_classifier_1..6`, conv2d numbers shifted by one.
    static let byOne = CounterShift(classifier: 1, conv: 1)
    /// As if a whole head had been built before: `retina_net_classifier_6..11`.
    static let wholeHead = CounterShift(classifier: 6, block: 18, conv: 24, bn: 18)

    func apply(_ name: String) -> String {
        name.split(separator: "/", omittingEmptySubsequences: false).map { part -> String in
            let p = String(part)
            for (stem, shift) in [("retina_net_classifier", classifier), ("conv_block", block), ("conv2d", conv),
                                  ("batch_normalization", bn)] {
                let suffix = p.hasSuffix(":0") ? ":0" : ""
                let base = String(p.dropLast(suffix.count))
                guard base == stem || base.hasPrefix(stem + "_"), let n = base == stem ? 0 : Int(base.dropFirst(stem.count + 1)) else { continue }
                let m = n + shift
                return (m == 0 ? stem : "\(stem)_\(m)") + suffix
            }
            return p
        }.joined(separator: "/")
    }
}

/// The score model's layers with `tensors`' values, as written to h5 (names with ":0"), renamed by `shift`.
func kerasLayers(_ layout: [KerasLayerSpec], tensors: WeightProvider, shift: CounterShift = .init()) throws
    -> [(String, [(String, WeightTensor)])] {
    try layout.map { layer in
        (shift.apply(layer.name), try layer.weights.map { (shift.apply($0.name) + ":0", try tensors.tensor(named: $0.name)) })
    }
}

@Suite struct KerasPositionalTests {
    static let layout = BSNetKerasLayout.scoreModel()
    /// Seeded random values with BS-Net's exact shapes: the rules are tested without ../shared.
    static let weights = FixtureModel.randomWeights(specs: layout.flatMap(\.weights), seed: 16)

    func expectSameTensors(_ w: KerasWeightsFile, _ source: WeightProvider = weights) throws {
        #expect(w.tensorNames.count == 352)
        for spec in Self.layout.flatMap(\.weights) {
            let t = try w.tensor(named: spec.name)
            #expect(t.shape == spec.shape, "\(spec.name)")
            #expect(t.values == (try source.tensor(named: spec.name)).values, "\(spec.name)")
        }
    }

    @Test func layoutIsTheEnginesTensorList() {
        #expect(Self.layout.count == 100)
        let names = Self.layout.flatMap(\.weights).map(\.name)
        #expect(names.count == 352)
        #expect(Set(names) == Set(BSNet.tensorSpecs.map(\.name)))
        #expect(Self.layout[86].name == "C1_reduced")  // backbone 40 + decoder 45 + stn
        #expect(Self.layout[99].weights[13].name == "retina_net_classifier_5/conv2d_23/bias")
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func layoutIsTheReferenceFilesOrder() throws {
        // The authors' file, weight-carrying layers and weight_names in stored order.
        let raw = try KerasWeightsFile.read(path: SharedData.bscoreH5.path)
        let stored = raw.layers.filter { !$0.weights.isEmpty }
        #expect(stored.map(\.name) == Self.layout.map(\.name))
        #expect(stored.flatMap { $0.weights.map { KerasWeightsFile.tensorName(fromWeightName: $0.weightName) } }
                == Self.layout.flatMap(\.weights).map(\.name))
    }

    @Test func counterShiftNamesAsTheIssueDescribes() {
        #expect(CounterShift.byOne.apply("retina_net_classifier/conv_block/conv2d/kernel:0") == "retina_net_classifier_1/conv_block/conv2d_1/kernel:0")
        #expect(CounterShift.wholeHead.apply("retina_net_classifier_5/conv_block_17/batch_normalization_17/gamma:0")
                == "retina_net_classifier_11/conv_block_35/batch_normalization_35/gamma:0")
        #expect(CounterShift.wholeHead.apply("stage1_unit1_conv1/kernel:0") == "stage1_unit1_conv1/kernel:0")
    }

    @Test(arguments: [("save_weights", KerasFileStyle.saveWeights), ("model.save", .modelSave),
                      ("model.save + optimizer", .modelSaveWithOptimizer), ("TF 2.2", .tf22)])
    func everyVariantImportsByNameAndCounterShiftedByPosition(_ label: String, _ style: KerasFileStyle) throws {
        let dir = try makeTempDir("pos"); defer { try? FileManager.default.removeItem(at: dir) }
        // Unshifted: names match, nothing renamed.
        let plain = dir.appendingPathComponent("plain.h5")
        try writeKerasLikeH5(at: plain, layers: try kerasLayers(Self.layout, tensors: Self.weights), style: style)
        let byName = try KerasWeightsFile(paths: [plain.path], matching: Self.layout)
        #expect(byName.sources[0].rule == .names, "\(label)")
        #expect(byName.sources[0].renamedGroups.isEmpty)
        #expect(byName.sources[0].kerasVersion == style.kerasVersion)
        try expectSameTensors(byName)

        for (shift, firstGroup) in [(CounterShift.byOne, "retina_net_classifier_1"), (.wholeHead, "retina_net_classifier_6")] {
            let url = dir.appendingPathComponent("shifted-\(shift.classifier).h5")
            try writeKerasLikeH5(at: url, layers: try kerasLayers(Self.layout, tensors: Self.weights, shift: shift), style: style)
            // Today's name rule refuses it, as the issue reports.
            let plainNames = try KerasWeightsFile(path: url.path)
            let e = #expect(throws: KerasImportError.self) { try plainNames.check(against: BSNetSignature.tensors) }
            #expect(e?.description.contains("retina_net_classifier/conv_block/conv2d/kernel") == true)

            let w = try KerasWeightsFile(paths: [url.path], matching: Self.layout)
            #expect(w.sources[0].rule == .position, "\(label) \(shift)")
            #expect(w.sources[0].renamedGroups.count == 6)
            #expect(w.sources[0].renamedGroups.first == KerasGroupRename(from: firstGroup, to: "retina_net_classifier"))
            #expect(w.sources[0].renamedGroups.last?.to == "retina_net_classifier_5")
            try expectSameTensors(w)
            try w.check(against: BSNetSignature.tensors)
        }
    }

    @Test func aNameMatchingSegmentationFileCombinesWithAShiftedScoreFile() throws {
        let dir = try makeTempDir("pos"); defer { try? FileManager.default.removeItem(at: dir) }
        let seg = dir.appendingPathComponent("segmentation-model.h5")
        let segLayers = Array(try kerasLayers(Self.layout, tensors: Self.weights).prefix(85)).map { layer in
            (layer.0, layer.1.map { ($0.0, WeightTensor(shape: $0.1.shape, values: $0.1.values.map { $0 + 1 })) })
        }
        try writeKerasLikeH5(at: seg, layers: segLayers)
        let score = dir.appendingPathComponent("bscore-model.h5")
        try writeKerasLikeH5(at: score, layers: try kerasLayers(Self.layout, tensors: Self.weights, shift: .wholeHead))
        let w = try KerasWeightsFile(paths: [seg.path, score.path], matching: Self.layout)
        #expect(w.sources.map(\.rule) == [.names, .position])
        #expect(w.overriddenWithDifferentValues.count == 208)  // the later score file wins, as in the authors' code
        try expectSameTensors(w)
    }

    @Test func positionalMismatchIsRefusedNamingTheFirstOne() throws {
        let dir = try makeTempDir("pos"); defer { try? FileManager.default.removeItem(at: dir) }
        let shifted = try kerasLayers(Self.layout, tensors: Self.weights, shift: .byOne)

        // Two layers swapped: C1_reduced (1x1) and P1 (3x3) at weight-carrying positions 87 and 88.
        var swapped = shifted
        swapped.swapAt(86, 87)
        let url1 = dir.appendingPathComponent("swapped.h5")
        try writeKerasLikeH5(at: url1, layers: swapped)
        let e1 = #expect(throws: KerasImportError.self) { try KerasWeightsFile(paths: [url1.path], matching: Self.layout) }
        guard case let .notBSNetByNameOrPosition(path, nameIssues, positional)? = e1 else { Issue.record("wrong error \(String(describing: e1))"); return }
        #expect(path == url1.path)
        #expect(nameIssues.first == .missing(name: "retina_net_classifier/conv_block/conv2d/kernel", expectedShape: [3, 3, 512, 8]))
        #expect(positional.position == 87)
        #expect(positional.detail.contains("'P1'") && positional.detail.contains("'C1_reduced/kernel' [1, 1, 64, 64]"))
        #expect(e1!.description.contains("by position"))

        // A layer missing: stage1_unit1_sc (1 weight) at position 8; the file has the next layer there.
        var missing = shifted
        missing.remove(at: 7)
        let url2 = dir.appendingPathComponent("missing.h5")
        try writeKerasLikeH5(at: url2, layers: missing)
        let e2 = #expect(throws: KerasImportError.self) { try KerasWeightsFile(paths: [url2.path], matching: Self.layout) }
        guard case let .notBSNetByNameOrPosition(_, _, p2)? = e2 else { Issue.record("wrong error \(String(describing: e2))"); return }
        #expect(p2.position == 8)
        #expect(p2.detail == "the file has 'stage1_unit2_bn1' with 4 weights there, BS-Net has 'stage1_unit1_sc' with 1")

        // The head's last classifier missing: every present layer agrees, the count does not.
        let url3 = dir.appendingPathComponent("short.h5")
        try writeKerasLikeH5(at: url3, layers: Array(shifted.dropLast()))
        let e3 = #expect(throws: KerasImportError.self) { try KerasWeightsFile(paths: [url3.path], matching: Self.layout) }
        guard case let .notBSNetByNameOrPosition(_, _, p3)? = e3 else { Issue.record("wrong error \(String(describing: e3))"); return }
        #expect(p3.position == 100)
        #expect(p3.detail.contains("99 weight-carrying layers") && p3.detail.contains("first missing: 'retina_net_classifier_5'"))

        // A value of another shape in the right place (a transposed Dense kernel).
        var transposed = shifted
        let stn = transposed[85].1[4]
        transposed[85].1[4] = (stn.0, WeightTensor(shape: [50, 13520], values: stn.1.values))
        let url4 = dir.appendingPathComponent("transposed.h5")
        try writeKerasLikeH5(at: url4, layers: transposed)
        let e4 = #expect(throws: KerasImportError.self) { try KerasWeightsFile(paths: [url4.path], matching: Self.layout) }
        guard case let .notBSNetByNameOrPosition(_, _, p4)? = e4 else { Issue.record("wrong error \(String(describing: e4))"); return }
        #expect(p4.position == 86)
        #expect(p4.detail.contains("weight 5") && p4.detail.contains("[50, 13520]") && p4.detail.contains("'stn/locnet_dense/kernel' [13520, 50]"))
    }

    @Test func partialFilesAreStillRefusedByName() throws {
        // Standard names, score head absent: the name rule's message, as before.
        let dir = try makeTempDir("pos"); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("partial.h5")
        try writeKerasLikeH5(at: url, layers: Array(try kerasLayers(Self.layout, tensors: Self.weights).prefix(86)))
        let e = #expect(throws: KerasImportError.self) { try KerasWeightsFile(paths: [url.path], matching: Self.layout) }
        guard case let .notBSNet(paths, issues)? = e else { Issue.record("wrong error \(String(describing: e))"); return }
        #expect(paths == [url.path])
        #expect(issues.count == 136)  // the score head (FPN 16 + 6 x 20)
        #expect(issues.first == .missing(name: "C1_reduced/kernel", expectedShape: [1, 1, 64, 64]))
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func theAuthorsFileWithShiftedCountersGivesTheSameBundle() throws {
        // The reference file's real tensors, rewritten with shifted group and weight names.
        let dir = try makeTempDir("pos"); defer { try? FileManager.default.removeItem(at: dir) }
        let reference = try KerasWeightsFile(path: SharedData.bscoreH5.path)
        let manifest = ModelManifest(name: "t", version: "1", licence: "test", provenance: .init(sources: [], tool: "tests", toolVersion: "0"))
        let original = try ModelBundle.write(to: dir.appendingPathComponent("original"), manifest: manifest, weights: reference)
        for shift in [CounterShift.byOne, .wholeHead] {
            let url = dir.appendingPathComponent("shifted-\(shift.classifier).h5")
            try writeKerasLikeH5(at: url, layers: try kerasLayers(Self.layout, tensors: reference, shift: shift), style: .tf22)
            let w = try KerasWeightsFile(paths: [url.path], matching: Self.layout)
            #expect(w.sources[0].rule == .position)
            try expectSameTensors(w, reference)
            for ref in referenceTensors { #expect(float32SHA256(try w.tensor(named: ref.name)) == ref.sha256, "\(ref.name)") }
            let b = try ModelBundle.write(to: dir.appendingPathComponent("b\(shift.classifier)"), manifest: manifest, weights: w)
            #expect(b.manifest.weights.sha256 == original.manifest.weights.sha256)
        }
    }
}
