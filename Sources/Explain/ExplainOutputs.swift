import BrixiaDomain
import Foundation
import Reports

/// Writing the maps: PNG files for people, an RGB Secondary Capture for the pipeline.
public enum ExplainOutputs {
    /// All panel kinds, in the order they are written.
    public static let kinds: [MapRenderer.Kind] = [.grade(0), .grade(1), .grade(2), .grade(3), .classes, .strength, .negative]

    /// Writes `<prefix><kind>.png` for every map plus `<prefix>overlay.png` (the SC page) into `directory`.
    @discardableResult
    public static func writePNGs(_ e: Explanation, theta: [Float]? = nil, caption: String? = nil, modelLine: String,
                                 scoreLine: String, to directory: URL, prefix: String = "explain-") throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var written: [URL] = []
        for kind in kinds {
            let url = directory.appendingPathComponent("\(prefix)\(kind.fileStem).png")
            try write(MapRenderer.panel(e, kind: kind, theta: theta, caption: caption).pngData(), to: url)
            written.append(url)
        }
        let url = directory.appendingPathComponent("\(prefix)overlay.png")
        try write(MapRenderer.overlayPage(e, theta: theta, modelLine: modelLine, scoreLine: scoreLine).pngData(), to: url)
        written.append(url)
        return written
    }

    /// The class/strength overlay as an RGB Secondary Capture in the analysed study (series 9903 by default).
    public static func writeSecondaryCapture(_ e: Explanation, theta: [Float]? = nil, report input: ReportInput,
                                             writer: ReportWriter = ReportWriter(), seriesNumber: Int = 9903,
                                             to directory: URL) throws -> WrittenObject {
        // The full SHA-256 on the page and in the header: the SC must identify the exact weights.
        let model = "\(input.model.name) \(input.model.version), weights SHA-256 \(input.model.weightsSHA256)"
        let page = MapRenderer.overlayPage(e, theta: theta, modelLine: "Model: \(model)", scoreLine: scoreLine(input.scores))
        return try writer.writeImageSecondaryCapture(
            page, for: input, seriesNumber: seriesNumber,
            seriesDescription: "Brixia AI explainability map - not for diagnostic use",
            derivationDescription: "Super-pixel occlusion relevance of \(input.model.name) \(input.model.version) grades " +
                "(\(e.superPixels.count) lung super-pixels, \(e.maps.passes) occluded runs); model \(model); " +
                "legend: grade 0 green, 1 yellow, 2 red, 3 black; AI generated, not for diagnostic use",
            to: directory)
    }

    public static func scoreLine(_ s: BrixiaScores) -> String {
        let zones = Zone.allCases.map { "\($0.rawValue)\(s.grade($0) ?? 0)" }.joined(separator: " ")
        return "Brixia score \(s.global)/18 (\(zones))"
    }

    static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw ReportError.ioFailure(path: url.path, detail: "\(error)")
        }
    }
}

extension ExplainOutputs {
    /// The segment the strength map is written as: a morphologically altered structure (SCT 49755003, the
    /// category of findings), typed with the project's own code, since no standard concept means "relevance of
    /// this area for an AI grade".
    public static let strengthProperty = ReportWriter.SegmentProperty(
        category: .init("49755003", "SCT", "Morphologically Altered Structure"),
        type: .init("BRX-RELEVANCE", "99BRIXIA", "Relevance for the AI Brixia score"))

    /// The strength map (max relevance over grades, 0...1) on the analysed image's grid: the model input is the
    /// image squashed to 512x512, so each source pixel takes the map value of the model pixel it was resized to
    /// (nearest; the map is constant over each super-pixel). Values 0...255 for the SEG's maximum fraction 255.
    public static func strengthFractions(_ e: Explanation, rows: Int, columns: Int) -> [UInt8] {
        let s = e.strengthMap, n = e.size
        var out = [UInt8](repeating: 0, count: rows * columns)
        for y in 0..<rows {
            let my = min(n - 1, Int((Double(y) + 0.5) * Double(n) / Double(rows)))
            for x in 0..<columns {
                let mx = min(n - 1, Int((Double(x) + 0.5) * Double(n) / Double(columns)))
                out[y * columns + x] = UInt8((min(max(s[my * n + mx], 0), 1) * 255).rounded())
            }
        }
        return out
    }

    /// The strength map as a FRACTIONAL (probability) Segmentation in the analysed study (series 9904 by default),
    /// one frame on the source image's grid, referencing that image.
    public static func writeSegmentation(_ e: Explanation, report input: ReportInput, rows: Int, columns: Int,
                                         patientOrientation: String, pixelSpacing: (row: Double, column: Double)?,
                                         writer: ReportWriter = ReportWriter(),
                                         seriesNumber: Int = 9904, to directory: URL) throws -> WrittenObject {
        let model = "\(input.model.name) \(input.model.version), weights SHA-256 \(input.model.weightsSHA256)"
        return try writer.writeFractionalSegmentation(
            strengthFractions(e, rows: rows, columns: columns), rows: rows, columns: columns, for: input,
            patientOrientation: patientOrientation, pixelSpacing: pixelSpacing, seriesNumber: seriesNumber,
            seriesDescription: "Brixia AI relevance map - not for diagnostic use",
            segmentLabel: "AI relevance (strength)",
            segmentDescription: "Super-pixel occlusion relevance (max over grades) of the AI Brixia score; AI generated, not for diagnostic use",
            property: strengthProperty,
            derivationDescription: "Super-pixel occlusion relevance of \(input.model.name) \(input.model.version) grades, max over grades " +
                "(\(e.superPixels.count) lung super-pixels, \(e.maps.passes) occluded runs); model \(model); AI generated, not for diagnostic use",
            to: directory)
    }
}
