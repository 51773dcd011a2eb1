@testable import BSNetEngine
import Foundation
import ModelBundle
import Reports
import Testing
@testable import Explain

/// A 512x512 input, a two-ellipse "lung" segmentation and a fake scorer whose region-0 grade-2 probability
/// falls with the number of hidden pixels in the image's upper-left quadrant.
enum FakeCase {
    static let n = 512
    static let input: [Float] = SyntheticImage.gray8().map { Float($0) / 255 }
    static let segmentation: [Float] = (0..<(n * n)).map { i in
        let x = Double(i % n), y = Double(i / n)
        func inside(_ cx: Double) -> Bool { pow((x - cx) / 100, 2) + pow((y - 260) / 190, 2) < 1 }
        return inside(150) || inside(362) ? 0.9 : 0.1
    }
    static let base: [[Float]] = (0..<6).map { _ in [0.4, 0.3, 0.2, 0.1] }

    static func baseline() -> BSNetOutput {
        BSNetOutput(segmentation: segmentation, alignedSegmentation: segmentation, theta: [1, 0, 0, 0, 1, 0],
                    regionProbabilities: base, stageTimings: StageTimings())
    }

    static func score(_ x: [Float]) throws -> [[Float]] {
        var hidden = 0
        for y in 0..<(n / 2) { for xx in 0..<(n / 2) where x[y * n + xx] == 0 && input[y * n + xx] != 0 { hidden += 1 } }
        var p = base
        let d = min(Float(hidden) / 20_000, 0.2)
        p[0][2] -= d; p[0][0] += d
        return p
    }

    static func explanation(segments: Int = 180) throws -> Explanation {
        try Explainer.explain(input: input, baseline: baseline(),
                              configuration: ExplainConfiguration(slic: SlicParameters(segments: segments)), score: score)
    }
}

@Suite("Explainer, maps and outputs")
struct ExplainerTests {
    @Test func mapsFollowTheFakeScorer() throws {
        let e = try FakeCase.explanation()
        #expect(e.allSuperPixels.count == 145)
        #expect(e.superPixels.count > 20 && e.superPixels.count < e.allSuperPixels.count)
        #expect(e.maps.passes + e.maps.skipped == e.superPixels.count)
        // Only lung pixels belong to occluded super-pixels.
        #expect(zip(e.superPixels.labels, e.lungMask).allSatisfy { $0.0 == 0 || $0.1 })
        let cls = e.classMap, g2 = e.gradeMap(2), g1 = e.gradeMap(1)
        let upperLeftLung = 120 * 512 + 150, lowerRightLung = 400 * 512 + 362
        #expect(cls[upperLeftLung] == 2 && g2[upperLeftLung] > 0)
        #expect(cls[lowerRightLung] == -1 && e.strengthMap[lowerRightLung] == 0)
        #expect(g1.allSatisfy { $0 == 0 })
        #expect(e.strengthMap.max() == 1)
        #expect(e.negativeMap(0).max() == 1)      // grade 0 rose where grade 2 fell
    }

    @Test func disabledAndEmptyMaskAreTypedErrors() {
        #expect(throws: ExplainError.disabled) {
            try Explainer.explain(input: FakeCase.input, baseline: FakeCase.baseline(),
                                  configuration: ExplainConfiguration(enabled: false), score: FakeCase.score)
        }
        var empty = FakeCase.baseline(); empty.segmentation = [Float](repeating: 0, count: 512 * 512)
        #expect(throws: ExplainError.emptyLungMask) {
            try Explainer.explain(input: FakeCase.input, baseline: empty, score: FakeCase.score)
        }
        #expect(throws: ExplainError.inputSize(expected: 512 * 512, found: 4)) {
            try Explainer.explain(input: [0, 0, 0, 0], baseline: FakeCase.baseline(), score: FakeCase.score)
        }
    }

    @Test func panelsShowClassColoursContourAndLegend() throws {
        let e = try FakeCase.explanation(segments: 60)
        let page = MapRenderer.panel(e, kind: .classes, caption: "test caption")
        #expect(page.width == 512 && page.height == 512 + 40 + 64 + 18)
        #expect(MapRenderer.wrap("aaa bbb ccc", width: RenderedImage.textWidth("aaa bbb", font: .regular13), font: .regular13) == ["aaa bbb", "ccc"])
        // The upper-left lung is tinted red (grade 2): red dominates green and blue there.
        let p = page.pixel(150, 40 + 120)
        #expect(Int(p.r) > Int(p.g) + 40 && Int(p.r) > Int(p.b) + 40, "pixel \(p)")
        // The lower-right lung is untinted gray.
        let q = page.pixel(362, 40 + 400)
        #expect(q.r == q.g && q.g == q.b, "pixel \(q)")
        // The lung contour (cyan) is drawn.
        var cyan = 0
        for y in 40..<552 { for x in 0..<512 where page.pixel(x, y) == MapRenderer.contour { cyan += 1 } }
        #expect(cyan > 500)
        for kind in ExplainOutputs.kinds {
            let png = [UInt8](try MapRenderer.panel(e, kind: kind).pngData())
            #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        }
    }

    @Test(.enabled(if: DicomTools.available, "needs dciodvfy (dicom3tools) and dcmdump (dcmtk)"))
    func secondaryCaptureValidates() throws {
        let e = try FakeCase.explanation(segments: 60)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-explain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try ExplainOutputs.writeSecondaryCapture(e, report: DicomTools.reportInput(), to: dir)
        let v = try DicomTools.dciodvfy(out.path.path)
        #expect(v.iod.contains("SC"), "dciodvfy IOD line: \(v.iod)")
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
        #expect(try DicomTools.tag(out.path.path, "SOPClassUID") == ["1.2.840.10008.5.1.4.1.1.7"])
        #expect(try DicomTools.tag(out.path.path, "StudyInstanceUID") == [DicomTools.studyUID])
        #expect(try DicomTools.tag(out.path.path, "SeriesNumber") == ["9903"])
        #expect(try DicomTools.tag(out.path.path, "Rows") == ["\(512 + 56 + 76)"])
        #expect(try DicomTools.tag(out.path.path, "SeriesDescription").first?.contains("not for diagnostic use") == true)
        #expect(try DicomTools.tag(out.path.path, "BurnedInAnnotation") == ["YES"])
    }

    /// The optional DICOM SEG: FRACTIONAL / PROBABILITY, one frame on the source image's grid (not the model's
    /// 512x512), referencing the source, validated by dciodvfy without errors.
    @Test(.enabled(if: DicomTools.available, "needs dciodvfy (dicom3tools) and dcmdump (dcmtk)"))
    func segmentationValidates() throws {
        let e = try FakeCase.explanation(segments: 60)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-seg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = DicomTools.reportInput()
        let out = try ExplainOutputs.writeSegmentation(e, report: input, rows: 700, columns: 600, patientOrientation: "L\\F",
                                                       pixelSpacing: (0.2, 0.2), to: dir)
        let v = try DicomTools.dciodvfy(out.path.path)
        #expect(v.iod.contains("Segmentation"), "dciodvfy IOD line: \(v.iod)")
        #expect(v.errors.isEmpty, "dciodvfy errors: \(v.errors)")
        let path = out.path.path
        #expect(try DicomTools.tag(path, "SOPClassUID") == ["1.2.840.10008.5.1.4.1.1.66.4"])
        #expect(try DicomTools.tag(path, "StudyInstanceUID") == [DicomTools.studyUID])
        #expect(try DicomTools.tag(path, "SeriesNumber") == ["9904"])
        #expect(try DicomTools.tag(path, "Rows") == ["700"] && DicomTools.tag(path, "Columns") == ["600"])
        #expect(try DicomTools.tag(path, "SegmentationType") == ["FRACTIONAL"])
        #expect(try DicomTools.tag(path, "SeriesDescription").first?.contains("not for diagnostic use") == true)
        #expect(try DicomTools.tag(path, "ReferencedSOPInstanceUID").contains(input.source.sopInstanceUID))
        #expect(try DicomTools.tag(path, "DerivationDescription").first?.contains(input.model.weightsSHA256) == true)
        #expect(try DicomTools.tag(path, "FrameOfReferenceUID").isEmpty)
        // The fractions are the strength map resampled to the source grid: same range, same maximum.
        let f = ExplainOutputs.strengthFractions(e, rows: 700, columns: 600)
        #expect(f.count == 700 * 600)
        #expect(f.max() == UInt8((min(max(e.strengthMap.max() ?? 0, 0), 1) * 255).rounded()))
        #expect(f.contains(0))
        #expect(throws: ReportError.self) {
            try ExplainOutputs.writeSegmentation(e, report: input, rows: 0, columns: 600, patientOrientation: "", pixelSpacing: nil, to: dir)
        }
    }

    @Test func secondaryCaptureRejectsBadInput() throws {
        let e = try FakeCase.explanation(segments: 30)
        var input = DicomTools.reportInput()
        input.study.studyInstanceUID = "not a uid"
        #expect(throws: ReportError.self) {
            try ExplainOutputs.writeSecondaryCapture(e, report: input, to: FileManager.default.temporaryDirectory)
        }
        #expect(throws: ReportError.self) {
            try ExplainOutputs.writeSecondaryCapture(e, report: DicomTools.reportInput(), to: URL(fileURLWithPath: "/nonexistent/brixia"))
        }
    }

    /// The only test that runs the real network: seeded random fixture weights, 12 super-pixels requested and
    /// a small lung disc, so only a few occluded runs are needed.
    @Test func realNetworkWithFewSegments() throws {
        let specs = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
        let net = try BSNet(weights: FixtureModel.randomWeights(specs: specs, seed: 7), threads: 2)
        var base = try net.run(FakeCase.input)
        // The random fixture's segmentation is meaningless; use a disc straddling a few super-pixels instead.
        base.segmentation = (0..<(512 * 512)).map { i in
            let dx = i % 512 - 180, dy = i / 512 - 200
            return dx * dx + dy * dy < 60 * 60 ? 1 : 0
        }
        var runs = 0
        let e = try Explainer.explain(input: FakeCase.input, baseline: base,
                                      configuration: ExplainConfiguration(slic: SlicParameters(segments: 12))) { x in
            runs += 1
            return try net.run(x).regionProbabilities
        }
        #expect(e.superPixels.count >= 1 && e.superPixels.count <= 6)
        #expect(runs == e.maps.passes && runs + e.maps.skipped == e.superPixels.count)
        let all = Array(e.maps.positive.joined()) + Array(e.maps.negative.joined())
        #expect(all.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(e.maps.positiveScale == 0 || e.maps.positive.joined().max() == 1)
    }

    /// Two single-threaded networks in parallel give exactly the maps of one network run serially
    /// (the plain full recompute), and score every lung super-pixel once.
    @Test func parallelNetworksGiveTheSerialMapsExactly() throws {
        let specs = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
        let weights = FixtureModel.randomWeights(specs: specs, seed: 7)
        let nets = try (0..<2).map { _ in try BSNet(weights: weights, threads: 1) }
        var base = try nets[0].run(FakeCase.input)
        base.segmentation = (0..<(512 * 512)).map { i in
            let dx = i % 512 - 300, dy = i / 512 - 260
            return dx * dx + dy * dy < 70 * 70 ? 1 : 0
        }
        let config = ExplainConfiguration(slic: SlicParameters(segments: 12), reuse: false)
        let serial = try Explainer.explain(input: FakeCase.input, baseline: base, configuration: config) { x in
            try nets[0].run(x).regionProbabilities
        }
        let parallel = try Explainer.explain(networks: nets, input: FakeCase.input, baseline: base, configuration: config)
        #expect(serial.maps.passes >= 2)
        #expect(parallel.maps == serial.maps)
        #expect(parallel.superPixels.labels == serial.superPixels.labels)

        // Reuse (the default): each occluded run recomputes only what the occlusion reaches; the maps are
        // the full recompute's up to float rounding, and parallel reuse equals serial reuse exactly.
        var reuse = config
        reuse.reuse = true
        let reused = try Explainer.explain(networks: nets, input: FakeCase.input, baseline: base, configuration: reuse)
        let reusedSerial = try Explainer.explain(networks: [nets[0]], input: FakeCase.input, baseline: base, configuration: reuse)
        #expect(reused.maps == reusedSerial.maps)
        #expect(reused.maps.passes == serial.maps.passes)
        let a = Array(reused.maps.positive.joined()) + Array(reused.maps.negative.joined())
        let b = Array(serial.maps.positive.joined()) + Array(serial.maps.negative.joined())
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst < 1e-4, "reused maps differ from the full recompute by \(worst)")
        #expect(abs(reused.maps.positiveScale - serial.maps.positiveScale) < 1e-5)
    }
}
