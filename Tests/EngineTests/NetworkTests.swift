import Testing
@testable import BSNetEngine

/// The network on seeded random weights: structure, validation and output invariants.
@Suite(.serialized) struct NetworkTests {
    static let weights = RandomWeights(seed: 1234)
    /// One network for the suite (building it takes seconds). nonisolated(unsafe): a BSNet has a mutable arena,
    /// and only this `.serialized` suite's tests use it, one at a time.
    nonisolated(unsafe) static let net: BSNet = try! BSNet(weights: weights, threads: 1)

    @Test func tensorSpecsListThe352KerasWeights() {
        let specs = BSNet.tensorSpecs
        #expect(specs.count == 352)
        #expect(Set(specs.map(\.name)).count == 352)
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0.shape) })
        #expect(byName["bn_data/beta"] == [1])
        #expect(byName["bn_data/gamma"] == nil)   // scale=False
        #expect(byName["conv0/kernel"] == [7, 7, 1, 64])
        #expect(byName["decoder_stage5-1_upsample/kernel"] == [4, 4, 16, 512])      // wrap-around: 16 filters
        #expect(byName["decoder_stage5-1_conv2/kernel"] == [3, 3, 272, 16])
        #expect(byName["decoder_stage4-2_upsample/kernel"] == [4, 4, 256, 16])
        #expect(byName["decoder_stage2-4_conv2/kernel"] == [3, 3, 320, 64])
        #expect(byName["decoder_stage1-5_conv2/kernel"] == [3, 3, 32, 32])
        #expect(byName["stn/locnet_dense/kernel"] == [13520, 50])
        #expect(byName["stn/locnet_alignment/bias"] == [6])
        #expect(byName["retina_net_classifier_1/conv_block_3/conv2d_4/kernel"] == [3, 3, 512, 8])
        #expect(byName["retina_net_classifier_5/conv_block_17/batch_normalization_17/moving_variance"] == [8])
        #expect(byName["retina_net_classifier_5/conv2d_23/kernel"] == [3, 3, 8, 4])
        // Parameter count of the Keras model (20,947,836 including BN moving statistics).
        #expect(specs.reduce(0) { $0 + $1.shape.reduce(1, *) } == 20_947_836)
    }

    @Test func missingTensorIsATypedErrorNamingIt() {
        var w = Self.weights
        w.tensors["decoder_stage3-2_bn1/moving_mean"] = nil
        #expect(throws: BSNetError.missingTensor(name: "decoder_stage3-2_bn1/moving_mean")) { try BSNet(weights: w) }
    }

    @Test func misShapedTensorIsATypedErrorNamingIt() {
        var w = Self.weights
        w.tensors["P5/kernel"] = WeightTensor(shape: [3, 3, 512, 256], values: [Float](repeating: 0, count: 3 * 3 * 512 * 256))
        #expect(throws: BSNetError.tensorShapeMismatch(name: "P5/kernel", expected: [3, 3, 256, 512], found: [3, 3, 512, 256])) {
            try BSNet(weights: w)
        }
    }

    @Test func rejectsNonFiniteAndWrongSizedInput() {
        var x = [Float](repeating: 0.5, count: 512 * 512)
        x[513] = .nan
        let error = #expect(throws: BSNetError.self) { try Self.net.run(x) }
        guard case let .nonFiniteInput(index, value) = error else { Issue.record("wrong error \(String(describing: error))"); return }
        #expect(index == 513 && value.isNaN)
        x[513] = .infinity
        #expect(throws: BSNetError.self) { try Self.net.run(x) }
        #expect(throws: BSNetError.inputSizeMismatch(expected: 512 * 512, found: 10)) { try Self.net.run([Float](repeating: 0, count: 10)) }
    }

    @Test func outputsHaveTheRightShapesAndInvariants() throws {
        var rng = SeededRandom(3)
        let out = try Self.net.run(rng.array(512 * 512, 0, 1))
        #expect(out.segmentation.count == 512 * 512 && out.alignedSegmentation.count == 512 * 512)
        #expect(out.segmentation.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(out.theta.count == 6)
        #expect(out.regionProbabilities.count == 6)
        for p in out.regionProbabilities {
            #expect(p.count == 4)
            #expect(abs(p.reduce(0, +) - 1) < 1e-5)
        }
        #expect((0...18).contains(out.globalScore))
        #expect(out.stageTimings.total > 0)
        // The aligned segmentation is the seg warped by theta (checked against the naive sampler).
        let seg = Tensor(Shape4(1, 512, 512, 1), values: out.segmentation)
        let warped = ReferenceOps.stnSample(seg, theta: out.theta)
        #expect(maxAbsDiff(warped.toArray(), out.alignedSegmentation) < 1e-5)
    }

    @Test func repeatedRunsAreIdenticalDespiteBufferReuse() throws {
        var rng = SeededRandom(4)
        let a = rng.array(512 * 512, 0, 1), b = rng.array(512 * 512, 0, 1)
        let first = try Self.net.run(a)
        _ = try Self.net.run(b)
        let again = try Self.net.run(a)
        // Not bitwise: OpenBLAS' thread count is process-wide and other suites may change it meanwhile,
        // which changes summation order. A reuse bug (stale or clobbered buffers) would be O(0.1).
        #expect(maxAbsDiff(first.segmentation, again.segmentation) < 1e-5)
        #expect(maxAbsDiff(first.scoresTensor, again.scoresTensor) < 1e-5)
        #expect(Self.net.arenaBytes < 600 << 20)
    }
}
