import BrixiaDomain
import Testing
@testable import BSNetEngine

@Suite struct ZoneTests {
    @Test func regionIndexMappingMatchesTheOfficialLabelLayout() {
        // Official layout: reshape([A..F],(2,3)).T = [[A,D],[B,E],[C,F]] and r = 2*row + col.
        let expected: [Zone: Int] = [.A: 0, .D: 1, .B: 2, .E: 3, .C: 4, .F: 5]
        for (zone, r) in expected {
            #expect(zone.regionIndex == r)
            #expect(Zone(regionIndex: r) == zone)
        }
        #expect([Zone.A, .B, .C].allSatisfy { $0.column == 0 })   // image-left = patient's right lung
        #expect([Zone.D, .E, .F].allSatisfy { $0.column == 1 })
        #expect(Zone.A.row == 0 && Zone.B.row == 1 && Zone.C.row == 2)
        #expect(Zone.D.row == 0 && Zone.E.row == 1 && Zone.F.row == 2)
    }

    @Test func zoneBoxesFollowTheMapping() {
        // Zone A: upper band, image-left half; zone F: lower band, image-right half.
        #expect(Resample.zoneBoxes[Zone.A.regionIndex] == [0, 0, 0.4, 0.5])
        #expect(Resample.zoneBoxes[Zone.D.regionIndex] == [0, 0.5, 0.4, 1])
        #expect(Resample.zoneBoxes[Zone.E.regionIndex] == [0.3, 0.5, 0.7, 1])
        #expect(Resample.zoneBoxes[Zone.C.regionIndex] == [0.6, 0, 1, 0.5])
        #expect(Resample.zoneBoxes[Zone.F.regionIndex] == [0.6, 0.5, 1, 1])
    }

    @Test func gradesAndGlobalScoreComeFromTheRightRegions() {
        // Region r gets its grade at index r % 4 so every zone is distinguishable.
        let probs: [[Float]] = (0..<6).map { r in (0..<4).map { $0 == r % 4 ? 0.7 : 0.1 } }
        let out = BSNetOutput(segmentation: [], alignedSegmentation: [], theta: [], regionProbabilities: probs, stageTimings: StageTimings())
        #expect(out.grades == [.A: 0, .D: 1, .B: 2, .E: 3, .C: 0, .F: 1])
        #expect(out.globalScore == 7)
        #expect(out.probabilities(.E) == probs[3])
        // Keras (1,3,2,4): out[row][col] = region 2*row+col, so flattening gives r0..r5 in order.
        #expect(out.scoresTensor == probs.flatMap { $0 })
    }
}
