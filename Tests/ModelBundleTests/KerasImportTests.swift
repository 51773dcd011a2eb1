import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

@Suite struct KerasImportTests {
    @Test(.enabled(if: SharedData.available, "needs ../shared (reference data)"))
    func readsAll352Tensors() throws {
        let weights = try KerasWeightsFile(path: SharedData.bscoreH5.path)
        #expect(weights.tensorNames.count == 352)
        #expect(weights.sources.first?.kerasVersion == "2.21.0")
        #expect(weights.sources.first?.backend == "tensorflow")
        #expect(weights.sources.first?.layerCount == 235)
        #expect(weights.parameterCount == 20_947_836)
        #expect(try weights.tensor(named: "conv0/kernel").shape == [7, 7, 1, 64])
        #expect(try weights.tensor(named: "stn/locnet_dense/kernel").shape == [13520, 50])
        #expect(try weights.tensor(named: "retina_net_classifier_1/conv_block_3/conv2d_4/kernel").shape == [3, 3, 512, 8])
    }
}
