import Foundation
@testable import BSNetEngine

enum SharedData {
    /// Repo root = 3 levels up from Tests/EngineTests/File.swift; ../shared next to it.
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let reference = shared.appendingPathComponent("data/reference/bsnet-keras")
    static var available: Bool { FileManager.default.fileExists(atPath: reference.appendingPathComponent("input_cxr.npy").path) }
    static func path(_ name: String) -> String { reference.appendingPathComponent(name).path }
}

/// Deterministic pseudo-random numbers (SplitMix64) for kernel tests.
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float {
        lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
    }
    mutating func array(_ n: Int, _ lo: Float = -1, _ hi: Float = 1) -> [Float] { (0..<n).map { _ in uniform(lo, hi) } }
    mutating func tensor(_ s: Shape4, _ lo: Float = -1, _ hi: Float = 1) -> Tensor { Tensor(s, values: array(s.count, lo, hi)) }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count)")
    var m: Float = 0
    for i in 0..<a.count { m = max(m, abs(a[i] - b[i])) }
    return m
}

func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

/// Random weights of the right shapes for every tensor the network needs (BN variances positive).
struct RandomWeights: WeightProvider {
    var tensors: [String: WeightTensor] = [:]
    init(seed: UInt64) {
        var rng = SeededRandom(seed)
        for spec in BSNet.tensorSpecs {
            let n = spec.shape.reduce(1, *)
            let fanIn = spec.shape.count >= 2 ? spec.shape.dropLast().reduce(1, *) : 1
            let bound = (3 / Float(fanIn)).squareRoot()
            let values: [Float]
            if spec.name.hasSuffix("moving_variance") { values = rng.array(n, 0.5, 1.5) }
            else if spec.name.hasSuffix("gamma") { values = rng.array(n, 0.7, 1.3) }
            else if spec.shape.count == 1 { values = rng.array(n, -0.1, 0.1) }
            else { values = rng.array(n, -bound, bound) }
            tensors[spec.name] = WeightTensor(shape: spec.shape, values: values)
        }
    }
    var tensorNames: [String] { Array(tensors.keys) }
    func tensor(named name: String) throws -> WeightTensor {
        guard let t = tensors[name] else { throw BSNetError.missingTensor(name: name) }
        return t
    }
}

/// Development-only provider: one .npy per tensor ('/' replaced by '__'), converted from the Keras h5.
struct NpyDirectoryWeights: WeightProvider {
    let directory: String
    var tensorNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".npy") }
            .map { String($0.dropLast(4)).replacingOccurrences(of: "__", with: "/") }
    }
    func tensor(named name: String) throws -> WeightTensor {
        let a = try NpyArray.read(path: directory + "/" + name.replacingOccurrences(of: "/", with: "__") + ".npy")
        return WeightTensor(shape: a.shape, values: a.floats())
    }
}
