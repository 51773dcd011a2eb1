import BrixiaDomain
import Testing
@testable import BSNetEngine

/// Several score heads on one trunk (issue #17, BS-Net-Ens style): heads after the first carry their tensors under
/// "head<h>/", the engine detects them from the weights and reports the mean of the heads' probabilities.
@Suite struct EnsembleTests {
    static let trunkAndHeadA = SeededWeights(seed: 11)
    static let headB = SeededWeights(seed: 12)

    /// Names of the first head's tensors: those a second head repeats under "head1/".
    static func headTensorNames() throws -> [String] {
        let one = Set(BSNet.tensorSpecs.map(\.name))
        let two = try BSNet.tensorSpecs(scoreHeads: 2).map(\.name)
        let extra = two.filter { !one.contains($0) }
        #expect(extra.allSatisfy { $0.hasPrefix("head1/") })
        let names = extra.map { String($0.dropFirst("head1/".count)) }
        #expect(names == BSNet.scoreHeadTensorNames, "the engine's list of one head's tensors")
        return names
    }

    @Test func aSecondHeadRepeatsExactlyTheScoreHeadsTensors() throws {
        let names = try Self.headTensorNames()
        // The FPN (8 convs: kernel + bias) and six classifiers (3 conv blocks with BN, 1 conv): 16 + 6 x 20.
        #expect(names.count == 136)
        #expect(names.contains("P5/kernel") && names.contains("retina_net_classifier_5/conv2d_23/kernel"))
        #expect(!names.contains { $0.hasPrefix("stage") || $0.hasPrefix("decoder") || $0.hasPrefix("stn/") })
        #expect(try BSNet.tensorSpecs(scoreHeads: 3).count == BSNet.tensorSpecs.count + 2 * 136)
    }

    @Test func theEnsembleReportsTheMeanOfItsHeadsAndTheTrunkOnce() throws {
        let head = try Self.headTensorNames()
        // Network 1: trunk + head A. Network 2: the same trunk + head B. Ensemble: trunk + A + B as "head1/".
        var second = Self.trunkAndHeadA
        var ensemble = Self.trunkAndHeadA
        for name in head {
            second.tensors[name] = Self.headB.tensors[name]
            ensemble.tensors["head1/" + name] = Self.headB.tensors[name]
        }
        let netA = try BSNet(weights: Self.trunkAndHeadA), netB = try BSNet(weights: second)
        let ens = try BSNet(weights: ensemble)
        #expect(netA.scoreHeads == 1 && ens.scoreHeads == 2)
        var rng = SeededRandom(21)
        let x = rng.array(512 * 512, 0, 1)
        let a = try netA.run(x), b = try netB.run(x), e = try ens.run(x)
        #expect(e.segmentation == a.segmentation && e.theta == a.theta)
        var heldApart = false
        for r in 0..<6 {
            let mean = zip(a.regionProbabilities[r], b.regionProbabilities[r]).map { ($0 + $1) / 2 }
            #expect(maxAbsDiff(e.regionProbabilities[r], mean) < 1e-6, "region \(r)")
            if maxAbsDiff(a.regionProbabilities[r], b.regionProbabilities[r]) > 1e-3 { heldApart = true }
        }
        #expect(heldApart, "the two heads must differ for the mean to be tested")
    }

    @Test func aPartialExtraHeadIsAMissingTensorNamingIt() throws {
        var w = Self.trunkAndHeadA
        for name in try Self.headTensorNames() { w.tensors["head1/" + name] = Self.headB.tensors[name] }
        w.tensors["head1/retina_net_classifier_2/conv_block_7/batch_normalization_7/moving_variance"] = nil
        #expect(throws: BSNetError.missingTensor(name: "head1/retina_net_classifier_2/conv_block_7/batch_normalization_7/moving_variance")) {
            try BSNet(weights: w)
        }
    }
}
