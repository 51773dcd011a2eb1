import Foundation
import ModelBundle
import Testing
@testable import BSNetEngine

/// The incremental occlusion runner must give the full network's output (only the summation order
/// differs) while actually reusing work.
@Suite struct OcclusionRunnerTests {
    /// A smooth chest-like phantom: bright mediastinum and body, two darker lung fields, a rib-like ripple.
    static func phantom() -> [Float] {
        let n = BSNetArchitecture.inputSize
        var x = [Float](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in 0..<n {
                let u = Float(c) / Float(n) - 0.5, v = Float(r) / Float(n) - 0.5
                var value: Float = 0.75 - 0.3 * (u * u + v * v)
                for cx: Float in [-0.2, 0.2] {
                    let d = ((u - cx) / 0.15) * ((u - cx) / 0.15) + (v / 0.32) * (v / 0.32)
                    if d < 1 { value -= 0.45 * (1 - d) + 0.03 * sin(40 * v) }
                }
                x[r * n + c] = min(max(value, 0), 1)
            }
        }
        return x
    }

    /// Occlusions: a super-pixel-sized blob in a lung, one at the image corner (crops leave the image),
    /// one on the midline, and a scattered set of pixels (a bounding box much larger than the pixels).
    static func occlusions() -> [[Int]] {
        let n = BSNetArchitecture.inputSize
        func disc(_ cy: Int, _ cx: Int, _ r: Int) -> [Int] {
            var p: [Int] = []
            for y in max(0, cy - r)..<min(n, cy + r + 1) { for x in max(0, cx - r)..<min(n, cx + r + 1) where (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r { p.append(y * n + x) } }
            return p
        }
        return [disc(250, 160, 18), disc(3, 508, 20), disc(300, 256, 15), [5 * n + 300, 40 * n + 330, 70 * n + 310]]
    }

    func check(_ net: BSNet, tolerance: Float) throws {
        let input = Self.phantom()
        let baseline = try OcclusionBaseline(network: net, input: input)
        let runner = OcclusionRunner(network: net, baseline: baseline)
        var splitSeen = false
        for pixels in Self.occlusions() {
            var occluded = input
            for i in pixels { occluded[i] = 0 }
            let fast = try runner.run(occluded)
            let modes = runner.lastModes
            let fastSegmentation = runner.lastSegmentation
            let full = try net.run(occluded)
            let diff = maxAbsDiff(fast.flatMap { $0 }, full.regionProbabilities.flatMap { $0 })
            #expect(diff < tolerance, "probabilities differ by \(diff) for an occlusion of \(pixels.count) pixels")
            #expect(maxAbsDiff(fastSegmentation, full.segmentation) < 1e-4)
            // It reuses: at least the encoder's first two stages run on crops.
            #expect(modes.filter { $0 == "local" }.count >= 20, "\(modes.filter { $0 == "local" }.count) local layers")
            splitSeen = splitSeen || modes.contains("split")
            // And the occlusion mattered at all (else the comparison proves nothing).
            let moved = maxAbsDiff(full.regionProbabilities.flatMap { $0 }, baseline.output.regionProbabilities.flatMap { $0 })
            #expect(moved > 10 * diff)
        }
        // The lung occlusion reaches the deep encoder everywhere, so U-Net++ merges are split.
        #expect(splitSeen)
        // No difference: the baseline's scores, no run.
        #expect(try runner.run(input) == baseline.output.regionProbabilities)
        // A change everywhere: nothing is local, still exact.
        let dimmed = input.map { $0 * 0.9 }
        let all = try runner.run(dimmed)
        #expect(maxAbsDiff(all.flatMap { $0 }, try net.run(dimmed).regionProbabilities.flatMap { $0 }) < tolerance)
        #expect(!runner.lastModes.contains("local"))
    }

    @Test(.timeLimit(.minutes(5)))
    func matchesTheFullNetworkWithSeededWeights() throws {
        try check(try BSNet(weights: SeededWeights(seed: 7), threads: 1), tolerance: 1e-5)
    }

    @Test(.enabled(if: DefaultModel.locate() != nil, "no shipped models/bsnet-brixia-own in this checkout"),
          .timeLimit(.minutes(5)))
    func matchesTheFullNetworkWithTheShippedModel() throws {
        let bundle = try ModelBundle.load(from: try #require(DefaultModel.locate()), expecting: BSNetSignature.tensors)
        try check(try BSNet(weights: bundle.weights, threads: 2), tolerance: 1e-5)
    }

    @Test func boxesFollowTheWindowArithmetic() {
        // Brute force on one axis: output o of a k/s/p window op reads inputs o*s-p ..< o*s-p+k.
        for (k, s, p) in [(3, 1, 1), (3, 2, 1), (7, 2, 3), (1, 2, 0), (3, 2, 1)] {
            let inSize = 40, outSize = (inSize + 2 * p - k) / s + 1
            for a in 0..<inSize { for b in (a + 1)...min(inSize, a + 6) {
                let box = Box(y0: a, y1: b, x0: 0, x1: 1).throughWindow(k: k, s: s, p: p, outH: outSize, outW: 1)
                let touched = (0..<outSize).filter { o in ((o * s - p)..<(o * s - p + k)).overlaps(a..<b) }
                if let first = touched.first, let last = touched.last {
                    #expect(box.y0 == first && box.y1 == last + 1, "k\(k) s\(s) p\(p) [\(a),\(b))")
                } else {
                    #expect(box.isEmpty, "k\(k) s\(s) p\(p) [\(a),\(b)) reaches no output")   // a 1x1/2 conv skips odd inputs
                }
            } }
        }
        // 4x4/2 'same' transposed conv: input i reaches outputs 2i-1 ... 2i+2.
        for a in 0..<20 { for b in (a + 1)...min(20, a + 5) {
            let box = Box(y0: a, y1: b, x0: 0, x1: 1).throughTransposed(outH: 40, outW: 1)
            let touched = (0..<40).filter { o in (a..<b).contains { i in o >= 2 * i - 1 && o <= 2 * i + 2 } }
            #expect(box.y0 == touched.first! && box.y1 == touched.last! + 1)
            let src = box.transposedSource(inH: 20, inW: 1)
            let needed = (box.y0..<box.y1).flatMap { o in (0..<20).filter { i in o >= 2 * i - 1 && o <= 2 * i + 2 } }
            #expect(src.y0 <= needed.min()! && src.y1 >= needed.max()! + 1)
        } }
    }
}
