import Foundation
import Testing
@testable import Explain

@Suite("Occlusion bookkeeping (fake scorer)")
struct OcclusionTests {
    static let base: [[Float]] = (0..<6).map { _ in [0.1, 0.3, 0.4, 0.2] }

    /// 8x1 image, labels 1 1 2 2 3 3 4 4; super-pixel 4 is already black.
    static let sp = SuperPixels(width: 8, height: 1, labels: [1, 1, 2, 2, 3, 3, 4, 4], count: 4)
    static let input: [Float] = [1, 1, 0.5, 0.5, 1, 1, 0, 0]

    /// Hiding pixel 0 moves 0.3 of region 3's grade-2 mass to grade 0; hiding pixel 2 moves 0.15 of
    /// region 5's grade-1 mass to grade 3; hiding pixels 4-5 changes nothing.
    static func fake(_ x: [Float]) throws -> [[Float]] {
        var p = base
        if x[0] == 0 { p[3][2] -= 0.3; p[3][0] += 0.3 }
        if x[2] == 0 { p[5][1] -= 0.15; p[5][3] += 0.15 }
        return p
    }

    @Test func relevanceIsTheNormalisedMaxDropOverRegions() throws {
        var calls = 0
        let m = try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base) { x in
            calls += 1
            return try Self.fake(x)
        }
        #expect(calls == 3 && m.passes == 3 && m.skipped == 1)
        func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 } }
        #expect(abs(m.positiveScale - 0.3) < 1e-6)
        #expect(close(m.positive[0], [0, 0, 1, 0]))
        #expect(close(m.positive[1], [0, 0.5, 0, 0]))
        #expect(close(m.positive[2], [0, 0, 0, 0]) && close(m.positive[3], [0, 0, 0, 0]))
        #expect(close(m.negative[0], [1, 0, 0, 0]) && close(m.negative[1], [0, 0, 0, 0.5]))
        #expect(m.classes == [2, 1, nil, nil])
        #expect(close(m.strength, [1, 0.5, 0, 0]))
    }

    @Test func inputIsRestoredBetweenOcclusions() throws {
        var seen: [[Float]] = []
        _ = try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base) { x in
            seen.append(x); return Self.base
        }
        #expect(seen == [[0, 0, 0.5, 0.5, 1, 1, 0, 0], [1, 1, 0, 0, 1, 1, 0, 0], [1, 1, 0.5, 0.5, 0, 0, 0, 0]])
    }

    @Test func badScoresAreTypedErrors() {
        #expect(throws: ExplainError.badScores(superPixel: 1, reason: "expected 6 regions x 4 grades, got [4]")) {
            try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base) { _ in [[0.25, 0.25, 0.25, 0.25]] }
        }
        #expect(throws: ExplainError.badScores(superPixel: 1, reason: "probability nan outside [0,1]")) {
            try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base) { _ in
                (0..<6).map { _ in [Float.nan, 0, 0, 0] }
            }
        }
        #expect(throws: ExplainError.inputSize(expected: 8, found: 3)) {
            try Occlusion.run(input: [1, 2, 3], superPixels: Self.sp, baseline: Self.base) { _ in Self.base }
        }
    }

    @Test func nothingChangedGivesZeroMaps() throws {
        let m = try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base) { _ in Self.base }
        #expect(m.positiveScale == 0 && m.positive.joined().allSatisfy { $0 == 0 } && m.classes.allSatisfy { $0 == nil })
    }

    /// Several scorers (worker threads): the same maps as one, every super-pixel scored exactly once.
    @Test func parallelScorersGiveTheSerialMaps() throws {
        let serial = try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base) { try Self.fake($0) }
        let lock = NSLock()
        var seen: [[Float]] = []
        let scorer: RegionScorer = { x in lock.lock(); seen.append(x); lock.unlock(); return try Self.fake(x) }
        var progress: [Int] = []
        let parallel = try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base,
                                         scorers: [scorer, scorer, scorer]) { done, total in
            #expect(total == 4); progress.append(done)
        }
        #expect(parallel == serial)
        #expect(seen.count == 3 && Set(seen.map { $0.description }).count == 3)
        #expect(progress.sorted() == [2, 3, 4] && progress.count == 3)
    }

    @Test func aFailingScorerFailsTheRunWithTheLowestSuperPixel() {
        struct Boom: Error {}
        let bad: RegionScorer = { x in if x[2] == 0 { throw Boom() }; return Self.base }
        #expect(throws: Boom.self) {
            try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base, scorers: [bad, bad])
        }
        let nan: RegionScorer = { _ in (0..<6).map { _ in [Float.nan, 0, 0, 0] } }
        #expect(throws: ExplainError.badScores(superPixel: 1, reason: "probability nan outside [0,1]")) {
            try Occlusion.run(input: Self.input, superPixels: Self.sp, baseline: Self.base, scorers: [nan, nan])
        }
    }
}
