import BSNetEngine
import Foundation
import Imaging
import ModelBundle
import Testing

/// The shipped default model is a *trained* network, checked through the Swift engine on real images: its lung
/// segmentation agrees with the radiologists' masks, and the lung super-pixels the explanation maps occlude are
/// therefore the lungs. (Its grades are evaluated by cross-validation in training/, docs/model-card.md.)
@Suite struct ShippedModelCohenTests {
    static var shipped: URL? { DefaultModel.locate() }

    @Test(.enabled(if: CohenData.available, "needs ../shared (Cohen images and lung masks)"),
          .enabled(if: ShippedModelCohenTests.shipped != nil, "no shipped models/bsnet-brixia-own in this checkout"),
          .timeLimit(.minutes(5)))
    func shippedModelSegmentsTheLungsOfCohenImages() throws {
        let bundle = try ModelBundle.load(from: try #require(Self.shipped), expecting: BSNetSignature.tensors)
        #expect(!bundle.manifest.isTestFixture)
        let net = try BSNet(weights: bundle.weights, threads: 2)
        let pairs = try CohenData.pairs()
        // Four images spread over the list (the model saw them in training: this checks the shipped bundle and
        // the engine, not generalisation).
        var dices: [Double] = []
        for (image, mask) in stride(from: 0, to: pairs.count, by: pairs.count / 4).prefix(4).map({ pairs[$0] }) {
            let out = try net.run(Preprocessor.modelInput(from: try DisplayImage.read(path: image.path)))
            let human = try CohenData.lungMask(mask)
            let predicted = out.segmentation.map { $0 > 0.5 }
            let both = zip(predicted, human).filter { $0 && $1 }.count
            let dice = 2 * Double(both) / Double(predicted.filter { $0 }.count + human.filter { $0 }.count)
            dices.append(dice)
        }
        // A random or untrained network gives Dice far below 0.5 (speckle over the whole image).
        #expect(dices.allSatisfy { $0 > 0.75 }, "Dice per image \(dices)")
    }
}
