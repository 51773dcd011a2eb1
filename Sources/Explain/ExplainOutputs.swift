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
        let zones = LungZone.allCases.map { "\($0.rawValue)\(s.grade($0) ?? 0)" }.joined(separator: " ")
        return "Brixia score \(s.global)/18 (\(zones))"
    }

    static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw ReportError.ioFailure(path: url.path, detail: "\(error)")
        }
    }
}
