import BrixiaDomain
/// Seeded random weights with every shape BS-Net expects: for benchmarks and tests that need a
/// full network but no trained model. Glorot-like uniform kernels, small biases, BN gamma in
/// [0.7,1.3], moving variance in [0.5,1.5] (never zero). Not a model: outputs are meaningless.
public struct SeededWeights: WeightProvider, Sendable {
    public var tensors: [String: WeightTensor] = [:]

    public init(seed: UInt64) {
        var rng = SplitMix64(seed)
        for spec in BSNet.tensorSpecs {
            let n = spec.shape.reduce(1, *)
            let fanIn = spec.shape.count >= 2 ? spec.shape.dropLast().reduce(1, *) : 1
            let bound = (3 / Float(fanIn)).squareRoot()
            let (lo, hi): (Float, Float)
            if spec.name.hasSuffix("moving_variance") { (lo, hi) = (0.5, 1.5) }
            else if spec.name.hasSuffix("gamma") { (lo, hi) = (0.7, 1.3) }
            else if spec.shape.count == 1 { (lo, hi) = (-0.1, 0.1) }
            else { (lo, hi) = (-bound, bound) }
            tensors[spec.name] = WeightTensor(shape: spec.shape, values: (0..<n).map { _ in rng.uniform(lo, hi) })
        }
    }

    public var tensorNames: [String] { Array(tensors.keys) }

    public func tensor(named name: String) throws -> WeightTensor {
        guard let t = tensors[name] else { throw BSNetError.missingTensor(name: name) }
        return t
    }
}

