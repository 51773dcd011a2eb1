import Foundation

/// Scores for the six regions r0...r5 (BS-Net order, r = 2*row + column), 4 grade probabilities each.
public typealias RegionScorer = ([Float]) throws -> [[Float]]

/// Per-super-pixel relevance from occlusion (the BS-Net paper's super-pixel maps, hackathon `get_explainability_map`).
public struct OcclusionMaps: Sendable, Equatable {
    /// Relevance per super-pixel (index k-1 for label k) and grade: max over the six regions of
    /// (P0[c] - Pk[c]) clipped to [0,1], divided by the maximum over all super-pixels and grades.
    public var positive: [[Float]]
    /// Same with (Pk[c] - P0[c]): where hiding the super-pixel raised a grade's probability.
    public var negative: [[Float]]
    /// Un-normalised maxima of the positive and negative drops (0 when nothing changed).
    public var positiveScale: Float
    public var negativeScale: Float
    /// Forward passes run, and super-pixels skipped because occluding them changes no input pixel.
    public var passes: Int
    public var skipped: Int

    /// Argmax grade per super-pixel (lowest grade on ties), nil where the strength is 0.
    public var classes: [Int?] {
        positive.map { w in
            var best = 0
            for c in 1..<w.count where w[c] > w[best] { best = c }
            return w[best] > 0 ? best : nil
        }
    }
    /// Max over grades per super-pixel.
    public var strength: [Float] { positive.map { $0.max() ?? 0 } }
}

public enum Occlusion {
    /// Occludes each super-pixel in turn (its pixels set to 0), rescoring with `score`.
    /// - Parameters:
    ///   - baseline: P0, the scores of the unoccluded input (6 x 4).
    ///   - progress: called after each super-pixel with (done, total).
    public static func run(input: [Float], superPixels sp: SuperPixels, baseline: [[Float]],
                           score: RegionScorer, progress: ((Int, Int) -> Void)? = nil) throws -> OcclusionMaps {
        guard input.count == sp.labels.count else { throw ExplainError.inputSize(expected: sp.labels.count, found: input.count) }
        try check(baseline, superPixel: 0)
        let members = sp.members()
        var pos = [[Float]](repeating: [0, 0, 0, 0], count: sp.count)
        var neg = pos
        var passes = 0, skipped = 0
        var occluded = input
        for k in 1...max(1, sp.count) where k <= sp.count {
            let pixels = members[k]
            // Exact shortcut: if the super-pixel is already black, the occluded input is the input and Pk = P0.
            if pixels.allSatisfy({ input[$0] == 0 }) {
                skipped += 1
            } else {
                for i in pixels { occluded[i] = 0 }
                let pk = try score(occluded)
                passes += 1
                for i in pixels { occluded[i] = input[i] }
                try check(pk, superPixel: k)
                for c in 0..<4 {
                    var up: Float = -.infinity, down: Float = -.infinity
                    for r in 0..<6 { up = max(up, baseline[r][c] - pk[r][c]); down = max(down, pk[r][c] - baseline[r][c]) }
                    pos[k - 1][c] = min(max(up, 0), 1)
                    neg[k - 1][c] = min(max(down, 0), 1)
                }
            }
            progress?(k, sp.count)
        }
        let ps = pos.joined().max() ?? 0, ns = neg.joined().max() ?? 0
        if ps > 0 { pos = pos.map { $0.map { $0 / ps } } }
        if ns > 0 { neg = neg.map { $0.map { $0 / ns } } }
        return OcclusionMaps(positive: pos, negative: neg, positiveScale: ps, negativeScale: ns, passes: passes, skipped: skipped)
    }

    static func check(_ p: [[Float]], superPixel k: Int) throws {
        guard p.count == 6, p.allSatisfy({ $0.count == 4 }) else {
            throw ExplainError.badScores(superPixel: k, reason: "expected 6 regions x 4 grades, got \(p.map(\.count))")
        }
        if let bad = p.joined().first(where: { !$0.isFinite || $0 < 0 || $0 > 1 }) {
            throw ExplainError.badScores(superPixel: k, reason: "probability \(bad) outside [0,1]")
        }
    }
}
