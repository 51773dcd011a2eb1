import Foundation
import Imaging
import Testing
@testable import Explain

/// The cost of a map is one forward pass per *lung* super-pixel. With a trained model the predicted lung
/// mask is close to the human lung masks of the Cohen images (../shared/data/cohen/masks), so SLIC at the
/// paper's 180 segments restricted to those masks gives the number of occluded runs a trained model needs.
enum CohenData {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/cohen")
    static var available: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent("masks.csv").path) }

    /// (image, mask) file pairs from masks.csv.
    static func pairs() throws -> [(image: URL, mask: URL)] {
        let text = try String(contentsOf: root.appendingPathComponent("masks.csv"), encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).dropFirst().compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 2 else { return nil }
            return (root.appendingPathComponent("images/\(f[0])"), root.appendingPathComponent("masks/\(f[1])"))
        }
    }

    /// The lung mask in the model-input frame: the same bilinear squash to 512x512 as the image, lung = 255.
    static func lungMask(_ url: URL) throws -> [Bool] {
        let m = try ImageFile.readGray8(path: url.path)
        let lung = try DisplayImage(width: m.width, height: m.height, gray8: m.pixels.map { $0 == 255 ? 255 : 0 })
        return Preprocessor.resized(lung).map { $0 > 0.5 }
    }
}

@Suite struct CohenLungSuperPixelTests {
    /// Every 6th image with a mask (all of them with BRIXIA_EXPLAIN_ALL_COHEN=1); prints the counts.
    @Test(.enabled(if: CohenData.available, "needs ../shared (Cohen images and lung masks)"))
    func lungSuperPixelsAt180Segments() throws {
        let all = try CohenData.pairs()
        let every = ProcessInfo.processInfo.environment["BRIXIA_EXPLAIN_ALL_COHEN"] == "1" ? 1 : 6
        let chosen = all.enumerated().filter { $0.offset % every == 0 }.map(\.element)
        try #require(chosen.count >= 5)
        var counts: [Int] = [], totals: [Int] = []
        for (image, mask) in chosen {
            let input = Preprocessor.modelInput(from: try DisplayImage.read(path: image.path))
            let sp = Slic.segment(input, width: 512, height: 512, parameters: SlicParameters(segments: 180))
            let lung = sp.restricted(to: try CohenData.lungMask(mask))
            counts.append(lung.count); totals.append(sp.count)
        }
        let sorted = counts.sorted()
        let mean = Double(counts.reduce(0, +)) / Double(counts.count)
        print(String(format: "Cohen lung super-pixels at 180 segments: %d images, image %d-%d, lungs mean %.1f, median %d, min %d, max %d",
                     counts.count, totals.min()!, totals.max()!, mean, sorted[sorted.count / 2], sorted.first!, sorted.last!))
        // Measured (docs/performance.md): mean about 90 of about 150 super-pixels touch the lungs. A jump
        // means SLIC or the restriction changed, and with it the cost of every map.
        #expect(mean >= 60 && mean <= 110, "mean lung super-pixels \(mean): \(counts)")
        #expect(counts.allSatisfy { $0 > 0 })
    }
}
