import BrixiaDomain
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

/// Deterministic pseudo-random data for kernel tests.
struct SeededRandom {
    var base: SplitMix64
    init(_ seed: UInt64) { base = SplitMix64(seed) }
    mutating func uniform(_ lo: Float = -1, _ hi: Float = 1) -> Float { base.uniform(lo, hi) }
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

typealias RandomWeights = SeededWeights
