import Dispatch
import Foundation
import Synchronization

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

/// What `concurrentPerform`'s workers share. @unchecked Sendable, because: worker w calls only `scorers[w]` (a
/// scorer is never used by two threads), `done` and `progress` are touched only under `lock`, and
/// concurrentPerform returns only after every worker has finished, so nothing here outlives the call or is reached
/// unsynchronised.
private final class WorkerShared: @unchecked Sendable {
    let scorers: [RegionScorer]
    private let progress: ((Int, Int) -> Void)?
    private var done: Int
    private let lock = NSLock()
    init(scorers: [RegionScorer], progress: ((Int, Int) -> Void)?, done: Int) {
        self.scorers = scorers; self.progress = progress; self.done = done
    }
    func finishedOne(total: Int) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        progress?(done, total)
    }
}

public enum Occlusion {
    /// Occludes each super-pixel in turn (its pixels set to 0), rescoring with `score`.
    /// - Parameters:
    ///   - baseline: P0, the scores of the unoccluded input (6 x 4).
    ///   - progress: called after each super-pixel with (done, total).
    public static func run(input: [Float], superPixels sp: SuperPixels, baseline: [[Float]],
                           score: RegionScorer, progress: ((Int, Int) -> Void)? = nil) throws -> OcclusionMaps {
        try withoutActuallyEscaping(score) { s in
            try run(input: input, superPixels: sp, baseline: baseline, scorers: [s], progress: progress)
        }
    }

    /// As above with one scorer per worker thread (e.g. one single-threaded BSNet each): the occluded
    /// inputs are spread over the workers, each super-pixel is scored exactly once, and the maps are
    /// identical to a serial run with the same scorer (each Pk depends only on its own occluded input).
    /// `progress` is called under a lock, from the worker threads.
    public static func run(input: [Float], superPixels sp: SuperPixels, baseline: [[Float]],
                           scorers: [RegionScorer], progress: ((Int, Int) -> Void)? = nil) throws -> OcclusionMaps {
        guard input.count == sp.labels.count else { throw ExplainError.inputSize(expected: sp.labels.count, found: input.count) }
        precondition(!scorers.isEmpty, "at least one scorer")
        try check(baseline, superPixel: 0)
        let members = sp.members()
        // Exact shortcut: if a super-pixel is already black, the occluded input is the input and Pk = P0.
        let todo = (1...max(1, sp.count)).filter { $0 <= sp.count && !members[$0].allSatisfy { input[$0] == 0 } }
        let results = ResultSlots(count: sp.count + 1)
        let queue = WorkQueue(todo)
        let shared = WorkerShared(scorers: scorers, progress: progress, done: sp.count - todo.count)
        let total = sp.count
        DispatchQueue.concurrentPerform(iterations: min(scorers.count, max(1, todo.count))) { w in
            var occluded = input
            while let k = queue.next() {
                let pixels = members[k]
                for i in pixels { occluded[i] = 0 }
                let r = Result { try shared.scorers[w](occluded) }
                for i in pixels { occluded[i] = input[i] }
                results.set(k, r)
                if case .failure = r { queue.stop() }
                shared.finishedOne(total: total)
            }
        }
        var pos = [[Float]](repeating: [0, 0, 0, 0], count: sp.count)
        var neg = pos
        for k in todo {
            guard let r = results.get(k) else { continue }   // not run: an earlier failure stopped the queue
            let pk = try r.get()
            try check(pk, superPixel: k)
            for c in 0..<4 {
                var up: Float = -.infinity, down: Float = -.infinity
                for r in 0..<6 { up = max(up, baseline[r][c] - pk[r][c]); down = max(down, pk[r][c] - baseline[r][c]) }
                pos[k - 1][c] = min(max(up, 0), 1)
                neg[k - 1][c] = min(max(down, 0), 1)
            }
        }
        let ps = pos.joined().max() ?? 0, ns = neg.joined().max() ?? 0
        if ps > 0 { pos = pos.map { $0.map { $0 / ps } } }
        if ns > 0 { neg = neg.map { $0.map { $0 / ns } } }
        return OcclusionMaps(positive: pos, negative: neg, positiveScale: ps, negativeScale: ns,
                             passes: todo.count, skipped: sp.count - todo.count)
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

/// Super-pixels still to score, handed out one at a time (dynamic: occlusion costs are equal, workers are not).
final class WorkQueue: Sendable {
    private let items: [Int]
    private let position = Mutex(0)
    init(_ items: [Int]) { self.items = items }
    func next() -> Int? {
        position.withLock { p in
            guard p < items.count else { return nil }
            p += 1
            return items[p - 1]
        }
    }
    func stop() { position.withLock { $0 = items.count } }
}

/// Per-super-pixel results written by the workers.
final class ResultSlots: Sendable {
    private let slots: Mutex<[Result<[[Float]], Error>?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ k: Int, _ r: Result<[[Float]], Error>) { slots.withLock { $0[k] = r } }
    func get(_ k: Int) -> Result<[[Float]], Error>? { slots.withLock { $0[k] } }
}
