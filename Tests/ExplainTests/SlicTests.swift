import Foundation
import Testing
@testable import Explain

@Suite("SLIC super-pixels")
struct SlicTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The reference boundary map written by Fixtures/make_slic_reference.py (scikit-image 0.26.0 slic on the
    /// same synthetic image as RGB, n_segments 180, compactness 10, sigma 1): 145 segments, 13381 boundary pixels.
    static func referenceBoundaries() throws -> [Bool] {
        let bytes = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent("slic_reference_boundaries.bin")))
        try #require(bytes.count == 512 * 512 / 8)
        return (0..<(512 * 512)).map { bytes[$0 >> 3] & (0x80 >> UInt8($0 & 7)) != 0 }
    }

    /// Fraction of `a`'s true pixels with a true pixel of `b` within `radius` (Chebyshev).
    static func recall(_ a: [Bool], _ b: [Bool], radius: Int, size n: Int = 512) -> Double {
        var hit = 0, total = 0
        for y in 0..<n {
            for x in 0..<n where a[y * n + x] {
                total += 1
                search: for dy in -radius...radius {
                    for dx in -radius...radius {
                        let yy = y + dy, xx = x + dx
                        if yy >= 0, yy < n, xx >= 0, xx < n, b[yy * n + xx] { hit += 1; break search }
                    }
                }
            }
        }
        return total == 0 ? 1 : Double(hit) / Double(total)
    }

    @Test func matchesScikitImageOnTheSyntheticImage() throws {
        let ref = try Self.referenceBoundaries()
        #expect(ref.filter { $0 }.count == 13381)
        let sp = Slic.segment(gray8: SyntheticImage.gray8(), width: 512, height: 512)
        #expect(sp.count == 145)
        let mine = sp.boundaries()
        let recall = Self.recall(ref, mine, radius: 2), precision = Self.recall(mine, ref, radius: 2)
        let exact = zip(ref, mine).filter { $0 == $1 }.count
        #expect(recall >= 0.99, "boundary recall within 2 px: \(recall)")
        #expect(precision >= 0.99, "boundary precision within 2 px: \(precision)")
        // At the time of writing the boundary maps were identical; allow float-rounding flips only.
        #expect(exact >= 512 * 512 - 200, "identical boundary pixels: \(exact) of \(512 * 512)")
    }

    @Test func labelsAreCompleteAndConnected() {
        let sp = Slic.segment(gray8: SyntheticImage.gray8(), width: 512, height: 512, parameters: .init(segments: 40))
        #expect(sp.labels.allSatisfy { $0 >= 1 && Int($0) <= sp.count })
        #expect(Set(sp.labels).count == sp.count)
        // Every label is one 4-connected component.
        var seen = [Bool](repeating: false, count: sp.labels.count), components = 0
        for s in 0..<sp.labels.count where !seen[s] {
            components += 1
            var stack = [s]; seen[s] = true
            while let p = stack.popLast() {
                let x = p % 512, y = p / 512
                for (xx, yy) in [(x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)] where xx >= 0 && xx < 512 && yy >= 0 && yy < 512 {
                    let q = yy * 512 + xx
                    if !seen[q] && sp.labels[q] == sp.labels[p] { seen[q] = true; stack.append(q) }
                }
            }
        }
        #expect(components == sp.count)
    }

    @Test func gridLabAndSmoothingPieces() {
        let g = Slic.regularGrid(height: 512, width: 512, points: 180)
        #expect(g.ys.count == 13 && g.xs.count == 13 && g.stepY == 38 && g.ys.first == 19)
        #expect(Slic.regularGrid(height: 512, width: 512, points: 169).stepY == 39)
        let white = Slic.labOfGray(1), black = Slic.labOfGray(0)
        #expect(abs(white.0 - 100) < 1e-3 && abs(white.1) < 0.01 && abs(white.2) < 0.01)
        #expect(black.0 == 0)
        let flat = Slic.gaussian([Double](repeating: 3, count: 64), width: 8, height: 8, sigma: 1)
        #expect(flat.allSatisfy { abs($0 - 3) < 1e-12 })
        var spike = [Double](repeating: 0, count: 81); spike[40] = 1
        let blurred = Slic.gaussian(spike, width: 9, height: 9, sigma: 1)
        #expect(abs(blurred.reduce(0, +) - 1) < 1e-12 && blurred[40] > blurred[41] && blurred[41] > blurred[42])
    }

    @Test func restrictionKeepsOnlyMaskedParts() {
        let sp = SuperPixels(width: 4, height: 2, labels: [1, 1, 2, 2, 3, 3, 4, 4], count: 4)
        let r = sp.restricted(to: [false, true, false, false, true, true, false, true])
        #expect(r.labels == [0, 1, 0, 0, 2, 2, 0, 3] && r.count == 3)
        #expect(r.members()[2] == [4, 5])
    }
}
