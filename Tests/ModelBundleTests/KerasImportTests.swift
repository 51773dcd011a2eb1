import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

@Suite struct KerasImportTests {
    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func readsAll352TensorsWithTheirValues() throws {
        let weights = try KerasWeightsFile(path: SharedData.bscoreH5.path)
        #expect(weights.tensorNames.count == 352)
        #expect(Set(weights.tensorNames).count == 352)
        #expect(!weights.tensorNames.contains { $0.hasSuffix(":0") })
        #expect(weights.sources.first?.kerasVersion == "2.21.0")
        #expect(weights.sources.first?.backend == "tensorflow")
        #expect(weights.sources.first?.layerCount == 235)
        #expect(weights.parameterCount == 20_947_836)  // layers.txt: model.count_params()
        #expect(weights.tensorNames.first == "bn_data/beta")
        #expect(weights.tensorNames.last == "retina_net_classifier_5/conv_block_17/batch_normalization_17/moving_variance")
        for ref in referenceTensors {
            let t = try weights.tensor(named: ref.name)
            #expect(t.shape == ref.shape, "\(ref.name)")
            for (i, v) in ref.samples { #expect(t.values[i] == v, "\(ref.name)[\(i)]") }
            #expect(float32SHA256(t) == ref.sha256, "\(ref.name)")
        }
        try weights.check(against: BSNetSignature.tensors)
    }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func segmentationSubsetIsNotEnoughButCombinesWithTheScoreFile() throws {
        // Simulate the authors' separate segmentation-model file: backbone + decoder only.
        let full = try KerasWeightsFile(path: SharedData.bscoreH5.path)
        let dir = try makeTempDir("seg"); defer { try? FileManager.default.removeItem(at: dir) }
        let segNames = full.tensorNames.filter { !$0.hasPrefix("stn/") && !$0.hasPrefix("retina_net") && !$0.hasPrefix("C") && !$0.hasPrefix("P") }
        let layers = try kerasLayers(segNames) { name in
            var t = try full.tensor(named: name)
            t.values = t.values.map { $0 + 1 }  // differs from the score file: later file must win
            return t
        }
        let seg = dir.appendingPathComponent("segmentation-model.h5")
        try writeKerasLikeH5(at: seg, layers: layers)

        let segOnly = try KerasWeightsFile(path: seg.path)
        #expect(segOnly.tensorNames.count == segNames.count)
        #expect(segNames.count == 208)  // backbone 96 + decoder 112 (architecture doc section 6)
        let error = #expect(throws: KerasImportError.self) { try segOnly.check(against: BSNetSignature.tensors) }
        guard case let .notBSNet(paths, issues)? = error else { Issue.record("wrong error \(String(describing: error))"); return }
        #expect(paths == [seg.path])
        #expect(issues.contains(.missing(name: "stn/locnet_dense/kernel", expectedShape: [13520, 50])))
        #expect(error!.description.contains("stn/locnet_conv0/kernel"))

        let combined = try KerasWeightsFile(paths: [seg.path, SharedData.bscoreH5.path])
        #expect(combined.tensorNames.count == 352)
        #expect(combined.overriddenWithDifferentValues.count == 208)
        #expect(float32SHA256(try combined.tensor(named: "conv0/kernel")) == referenceTensors[1].sha256)
        let reversed = try KerasWeightsFile(paths: [SharedData.bscoreH5.path, seg.path])
        #expect(try reversed.tensor(named: "conv0/kernel").values[0] == 0.008743126 + 1)
    }

    @Test func convertsFloat64AndFloat16Datasets() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let t = tensor([2, 3], start: -1, step: 0.5)  // exactly representable in half and double
        for bytes in [8, 2] {
            let url = dir.appendingPathComponent("w\(bytes).h5")
            try writeKerasLikeH5(at: url, layers: [("dense", [("dense/kernel:0", t)])], elementBytes: bytes)
            let w = try KerasWeightsFile(path: url.path)
            #expect(try w.tensor(named: "dense/kernel").values == t.values)
            #expect(try w.tensor(named: "dense/kernel").shape == [2, 3])
        }
    }

    @Test func readsLayerNamesSplitIntoChunks() throws {
        // Keras splits attributes over 64 KiB into layer_names0, layer_names1, ...
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("chunked.h5")
        let file = try #require(HDF5File.create(path: url.path))
        try file.writeStringsAttribute("layer_names0", on: "/", ["a"])
        try file.writeStringsAttribute("layer_names1", on: "/", ["b", "empty"])
        for (layer, w) in [("a", ["a/kernel:0"]), ("b", ["b/bias:0"]), ("empty", [])] {
            try file.createGroup("/" + layer)
            try file.writeStringsAttribute("weight_names", on: "/" + layer, w)
            for name in w { try file.writeDataset("/\(layer)/\(name)", shape: [2], values: [1, 2]) }
        }
        _ = consume file
        let w = try KerasWeightsFile(path: url.path)
        #expect(w.tensorNames == ["a/kernel", "b/bias"])
    }

    @Test func missingFile() {
        #expect(throws: KerasImportError.fileNotFound(path: "/nonexistent/x.h5")) { try KerasWeightsFile(path: "/nonexistent/x.h5") }
    }

    @Test func notHDF5() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("fake.h5")
        try Data("this is not hdf5\n".utf8).write(to: url)
        let error = #expect(throws: KerasImportError.notHDF5(path: url.path)) { try KerasWeightsFile(path: url.path) }
        #expect(error?.description.contains("fake.h5") == true)
    }

    @Test func hdf5ThatIsNotKerasWeights() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("plain.h5")
        let file = try #require(HDF5File.create(path: url.path))
        try file.writeDataset("/data", shape: [3], values: [1, 2, 3])
        _ = consume file
        let error = #expect(throws: KerasImportError.self) { try KerasWeightsFile(path: url.path) }
        guard case let .notKerasWeights(path, reason)? = error else { Issue.record("wrong error"); return }
        #expect(path == url.path)
        #expect(reason.contains("layer_names"))
    }

    @Test func listedDatasetMissing() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("broken.h5")
        let file = try #require(HDF5File.create(path: url.path))
        try file.writeStringsAttribute("layer_names", on: "/", ["conv0"])
        try file.createGroup("/conv0")
        try file.writeStringsAttribute("weight_names", on: "/conv0", ["conv0/kernel:0"])
        _ = consume file
        #expect(throws: KerasImportError.missingDataset(path: url.path, layer: "conv0", dataset: "/conv0/conv0/kernel:0")) {
            try KerasWeightsFile(path: url.path)
        }
    }

    @Test func layerGroupMissingOrNoWeightNames() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("nogroup.h5")
        var file = try #require(HDF5File.create(path: url.path))
        try file.writeStringsAttribute("layer_names", on: "/", ["conv0"])
        file = try #require(HDF5File.create(path: dir.appendingPathComponent("noweights.h5").path))
        try file.writeStringsAttribute("layer_names", on: "/", ["conv0"])
        try file.createGroup("/conv0")
        _ = consume file
        for name in ["nogroup.h5", "noweights.h5"] {
            let p = dir.appendingPathComponent(name).path
            let error = #expect(throws: KerasImportError.self) { try KerasWeightsFile(path: p) }
            guard case let .notKerasWeights(path, reason)? = error else { Issue.record("wrong error for \(name)"); continue }
            #expect(path == p)
            #expect(reason.contains("conv0"))
        }
    }

    @Test func tensorNameStripsOnlyTheZeroSuffix() {
        #expect(KerasWeightsFile.tensorName(fromWeightName: "conv0/kernel:0") == "conv0/kernel")
        #expect(KerasWeightsFile.tensorName(fromWeightName: "odd/name:1") == "odd/name:1")
    }

    @Test func missingTensorLookupNamesTheTensor() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("w.h5")
        try writeKerasLikeH5(at: url, layers: [("dense", [("dense/kernel:0", tensor([2]))])])
        let w = try KerasWeightsFile(path: url.path)
        #expect(throws: MissingTensorError(name: "dense/bias", source: url.path)) { try w.tensor(named: "dense/bias") }
    }
}
