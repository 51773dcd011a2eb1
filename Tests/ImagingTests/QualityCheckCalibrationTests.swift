import BSNetEngine
import Foundation
import ModelBundle
import Testing
@testable import Imaging

/// The calibration rule (`QualityCheck.derivedThresholds`) and its leave-one-out estimate on made-up measures,
/// and the committed record of the last evaluation against what the shipped model measures today.
@Suite struct QualityCheckCalibrationTests {
    /// A plausible chest's measures with the given symmetry and polarity margin.
    static func chest(symmetry: Double = 0.8, polarity: Double = 0.3, area: Double = 0.3, up: Double = 0.5) -> QualityCheck.Measures {
        var m = QualityCheck.Measures(lungFraction: area, rightLungFraction: area / 2, leftLungFraction: area / 2,
                                      symmetry: symmetry, largestTwoShare: 0.95, rightCentroid: (0.3, 0.45),
                                      leftCentroid: (0.7, 0.47), lungMean: 0.3, mediastinumMean: 0.3 + polarity, modeShare: 0.05)
        m.lungMeans = (0.3, 0.3)
        m.heights = (0.7, 0.72)
        m.baseLaterality = (up, up)
        return m
    }

    @Test func eachBoundIsTheExtremeWidenedByTheMarginAndRoundedOutwards() {
        let set = [Self.chest(symmetry: 0.485, polarity: 0.174, area: 0.168), Self.chest(symmetry: 0.9, polarity: 0.5, area: 0.517)]
        let t = QualityCheck.derivedThresholds(from: set)
        #expect(t.minSymmetry == 0.43)          // 0.485 - 0.05 = 0.435, down
        #expect(t.minPolarityMargin == 0.12)    // 0.124, down
        #expect(t.minLungFraction == 0.11 && t.maxLungFraction == 0.57)   // 0.118 down, 0.567 up
        #expect(t.minLungHeight == 0.65 && t.minUprightness == 0.45)
        #expect(t.centroidYRange == 0.40...0.52 && t.maxCentroidYGap == 0.07)
        // Not derived: the lung threshold and where the paired passes start.
        #expect(t.lungProbability == 0.5 && t.pairedCheckBelow == 0.25 && t.pairedPolarityBelow == 0.40)
        // Every calibration image passes its own bounds; an image just outside one fails.
        for m in set { #expect(QualityCheck.verdict(m, thresholds: t).passed, "\(QualityCheck.verdict(m, thresholds: t).failures)") }
        #expect(!QualityCheck.verdict(Self.chest(symmetry: 0.42), thresholds: t).passed)
        // A wider margin only loosens.
        #expect(QualityCheck.derivedThresholds(from: set, margin: 0.1).minSymmetry == 0.38)
    }

    @Test func pairedBoundsCountOnlyOtherVersionsThatAreChests() {
        var a = Self.chest(up: 0.1), b = Self.chest(up: 0.2)
        var turnedChest = Self.chest(up: 0.3)            // a chest, 0.2 more upright than a
        a.turned = QualityCheck.Alternative(turnedChest)
        turnedChest.largestTwoShare = 0.1                // not a chest: scattered (0.5 more upright than b)
        turnedChest.baseLaterality = (0.7, 0.7)
        b.turned = QualityCheck.Alternative(turnedChest)
        let t = QualityCheck.derivedThresholds(from: [a, b])
        #expect(abs(t.maxTurnedAdvantage - 0.25) < 1e-9, "\(t.maxTurnedAdvantage)")   // 0.2 + 0.05; b's does not count
        #expect(t.maxInvertedAdvantage == QualityCheck.Thresholds().maxInvertedAdvantage)  // none ran: the default stays
    }

    @Test func leaveOneOutJudgesEachImageWithoutItselfAndItsCopies() {
        let set = [Self.chest(symmetry: 0.9), Self.chest(symmetry: 0.85), Self.chest(symmetry: 0.5), Self.chest(symmetry: 0.5)]
        // Without grouping the two 0.5 images vouch for each other.
        #expect(QualityCheck.leaveOneOut(set).isEmpty)
        // The same radiograph in two data sets: left out together, both refused (0.85 - 0.05 = 0.80 > 0.5).
        let refused = QualityCheck.leaveOneOut(set, groups: ["a", "b", "c", "c"])
        #expect(refused.map(\.index) == [2, 3])
        #expect(refused.allSatisfy { $0.verdict.failures.contains { $0.contains("not symmetric") } }, "\(refused.map(\.verdict.failures))")
    }

    @Test func namedBoundsRoundTripAndRefuseWhatCannotBeUsed() throws {
        var t = QualityCheck.Thresholds()
        t.minSymmetry = 0.3; t.centroidYRange = 0.1...0.7; t.maxInvertedAdvantage = 0.02
        let named = t.namedBounds
        #expect(named.count == QualityCheck.boundNames.count && named["minCentroidY"] == 0.1 && named["maxCentroidY"] == 0.7)
        #expect(try QualityCheck.Thresholds(namedBounds: named) == t)
        var unknown = named; unknown["minSymetry"] = 0.3
        #expect(throws: QualityCheck.BoundsError.self) { try QualityCheck.Thresholds(namedBounds: unknown) }
        var missing = named; missing["minSymmetry"] = nil
        #expect(throws: QualityCheck.BoundsError.self) { try QualityCheck.Thresholds(namedBounds: missing) }
        var notFinite = named; notFinite["maxModeShare"] = .nan
        #expect(throws: QualityCheck.BoundsError.self) { try QualityCheck.Thresholds(namedBounds: notFinite) }
        var crossed = named; crossed["minMidpointX"] = 0.9
        do { _ = try QualityCheck.Thresholds(namedBounds: crossed); Issue.record("crossed range accepted") } catch {
            #expect("\(error)".contains("minMidpointX 0.9 is above maxMidpointX"), "\(error)")
        }
    }

    // MARK: the committed record

    static let record = SharedData.repoRoot.appendingPathComponent("docs/data/quality-check-measures.jsonl")
    static var shipped: URL? { DefaultModel.locate() }

    @Test(.enabled(if: SharedData.available, "needs ../shared (reference images)"),
          .enabled(if: QualityCheckCalibrationTests.shipped != nil, "no shipped models/bsnet-brixia-own in this checkout"),
          .timeLimit(.minutes(10)))
    func theRecordIsWhatTheShippedModelMeasuresToday() throws {
        // If the model or the measuring code changes, the recorded measures (and the bounds derived from them)
        // are stale: re-run scripts/eval-quality-check.sh and re-derive (docs/quality-check.md).
        var recorded: [String: [String: Any]] = [:]
        for line in try String(contentsOf: Self.record, encoding: .utf8).split(separator: "\n") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let image = o["image"] as? String { recorded[image] = o }
        }
        let bundle = try ModelBundle.load(from: try #require(Self.shipped), expecting: BSNetSignature.tensors)
        let net = try BSNet(weights: bundle.weights, threads: 2)
        // One calibration image, and the two that the cohen-only bounds refused (one through the paired pass).
        for rel in ["data/cohen/images/0.jpg", "data/opacity/images/gr1_lrg-a.jpg",
                    "data/opacity/images/SARS-10.1148rg.242035193-g04mr34g0-Fig8c-day10.jpeg"] {
            let o = try #require(recorded["../shared/" + rel], "\(rel) not in the record")
            let input = Preprocessor.modelInput(from: try DisplayImage.read(path: SharedData.path(rel)))
            let r = try QualityCheck.check(segmentation: try net.run(input).segmentation, input: input) { try net.run($0).segmentation }
            let m = r.measures
            // (The record's own "passed" is the verdict of the bounds at recording time; replay re-judges.)
            #expect(r.passed, "\(rel): \(r.failures)")
            for (key, value) in [("lungFraction", m.lungFraction), ("symmetry", m.symmetry), ("polarityMargin", m.polarityMargin),
                                 ("uprightness", m.uprightness), ("modeShare", m.modeShare)] {
                let was = try #require(o[key] as? Double)
                #expect(abs(was - value) < 1e-6, "\(rel) \(key): recorded \(was), measured \(value)")
            }
            #expect((o["inverted"] is NSNull || o["inverted"] == nil) == (m.inverted == nil), "\(rel): paired polarity pass")
        }
    }
}
