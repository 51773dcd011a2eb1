import BSNetEngine
import Foundation
@testable import ModelBundle
import Testing

@Suite struct FixtureModelTests {
    let specs = [
        ExpectedTensor(name: "conv0/kernel", shape: [7, 7, 1, 64]),
        ExpectedTensor(name: "bn0/gamma", shape: [64]),
        ExpectedTensor(name: "bn0/beta", shape: [64]),
        ExpectedTensor(name: "bn0/moving_mean", shape: [64]),
        ExpectedTensor(name: "bn0/moving_variance", shape: [64]),
        ExpectedTensor(name: "P5/bias", shape: [512]),
        ExpectedTensor(name: "stn/locnet_dense/kernel", shape: [100, 50]),
        ExpectedTensor(name: "stn/locnet_alignment/kernel", shape: [50, 6]),
        ExpectedTensor(name: "stn/locnet_alignment/bias", shape: [6]),
    ]

    @Test func deterministicPerSeedAndDifferentAcrossSeeds() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let a = try FixtureModel.writeRandomBundle(to: dir.appendingPathComponent("a"), specs: specs, seed: 7)
        let b = try FixtureModel.writeRandomBundle(to: dir.appendingPathComponent("b"), specs: specs, seed: 7)
        let c = try FixtureModel.writeRandomBundle(to: dir.appendingPathComponent("c"), specs: specs, seed: 8)
        #expect(a.manifest.weights.sha256 == b.manifest.weights.sha256)
        #expect(a.manifest.weights.sha256 != c.manifest.weights.sha256)
        #expect(try ModelBundle.load(from: a.directory, expecting: specs).weights.tensorNames == SafetensorsFile.canonicalOrder(specs.map(\.name)))
    }

    @Test func valuesFollowTheInitialisationRules() throws {
        let w = FixtureModel.randomWeights(specs: specs, seed: 1)
        let k = try w.tensor(named: "conv0/kernel").values
        let limit = Float((6.0 / Double(49 + 49 * 64)).squareRoot())
        #expect(k.allSatisfy { abs($0) <= limit })
        #expect(k.contains { abs($0) > limit * 0.9 })  // spread over the range, not all tiny
        #expect(Set(k).count > 3000)
        #expect(try w.tensor(named: "bn0/gamma").values.allSatisfy { $0 == 1 })
        #expect(try w.tensor(named: "bn0/beta").values.allSatisfy { $0 == 0 })
        #expect(try w.tensor(named: "bn0/moving_mean").values.allSatisfy { $0 == 0 })
        #expect(try w.tensor(named: "bn0/moving_variance").values.allSatisfy { $0 == 1 })
        #expect(try w.tensor(named: "P5/bias").values.allSatisfy { $0 == 0 })
        #expect(try w.tensor(named: "stn/locnet_alignment/kernel").values.allSatisfy { $0 == 0 })
        #expect(try w.tensor(named: "stn/locnet_alignment/bias").values == [1, 0, 0, 0, 1, 0])
    }

    @Test func manifestSaysItIsAFixture() throws {
        let dir = try makeTempDir(); defer { try? FileManager.default.removeItem(at: dir) }
        let b = try FixtureModel.writeRandomBundle(to: dir.appendingPathComponent("f"), specs: specs, seed: 3)
        #expect(b.manifest.isTestFixture)
        #expect(b.manifest.intendedUse.contains("random test fixture, not a trained model"))
        let json = try String(contentsOf: b.directory.appendingPathComponent("model.json"), encoding: .utf8)
        #expect(json.contains("random test fixture, not a trained model"))
    }
}
