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

/// SplitMix64: tiny, fast, reproducible across platforms.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(_ seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float = 0, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
}
