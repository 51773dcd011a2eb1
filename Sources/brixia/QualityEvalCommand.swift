import ArgumentParser
import BSNetEngine
import Foundation
import Imaging

/// `brixia dev qc-eval`: false-reject and false-accept rates of the image-content check (QualityCheck) on
/// real positives and on negatives made from them (docs/quality-check.md). Content only: header eligibility
/// is not applied, so a header-rejected file (the lateral dog thorax) still tests the content check.
struct QualityEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qc-eval", abstract: "Measure the image-content check on positive and negative images.")

    @Option(name: .customLong("positive"), help: "Frontal chest image (DICOM/PNG/JPEG) or folder of them; repeatable.")
    var positives: [String] = []
    @Option(name: .customLong("negative"), help: "Image that must fail (file or folder); repeatable.")
    var negatives: [String] = []
    @Option(help: "Make inverted / rotated 90 / rotated 180 / cropped negatives from every N-th positive (0: none).")
    var deriveEvery = 0
    @Option(help: "Comma-separated kinds to derive (default: inverted,rotated90,rotated180,cropped).")
    var deriveKinds = QualityCheck.Negative.derivedKinds.joined(separator: ",")
    @Flag(help: "Judge only the derived negatives (not the positives themselves, the --negative files or the synthetic images).")
    var derivedOnly = false
    @Option(help: "Model bundle directory (default: $BRIXIA_MODEL, else the shipped model).") var model: String?
    @Option(help: "OpenBLAS threads.") var threads = 1
    @Option(help: "Write one JSON line per image here.") var details: String?
    @Option(help: "Re-judge the measures recorded by an earlier --details file with the current thresholds (no inference).")
    var replay: String?

    struct Item { var kind: String; var label: String; var expectPass: Bool; var image: () throws -> DisplayImage }

    func run() throws {
        if let replay { return try Self.replay(path: replay) }
        let loaded = try ScoreCommand.loadModel(explicit: model, threads: threads)
        let pos = try Self.expand(positives)
        let kinds = deriveKinds.split(separator: ",").map(String.init)
        if let bad = kinds.first(where: { !QualityCheck.Negative.derivedKinds.contains($0) }) {
            throw ValidationError("--derive-kinds: unknown kind '\(bad)' (known: \(QualityCheck.Negative.derivedKinds.joined(separator: ", ")))")
        }
        var items: [Item] = derivedOnly ? [] : pos.map { p in Item(kind: "positive", label: p, expectPass: true) { try InputImage.open(p).image } }
        for (i, p) in pos.enumerated() where deriveEvery > 0 && i % deriveEvery == 0 {
            for t in kinds {
                items.append(Item(kind: t, label: "\(t):\(p)", expectPass: false) { QualityCheck.Negative.derive(t, try InputImage.open(p).image) })
            }
        }
        for p in try Self.expand(negatives) where !derivedOnly {
            items.append(Item(kind: "negative-file", label: p, expectPass: false) { try InputImage.open(p).image })
        }
        for t in ["uniform-black", "uniform-gray", "noise-1", "noise-2"] where !derivedOnly {
            items.append(Item(kind: t, label: t, expectPass: false) { QualityCheck.Negative.synthetic(t) })
        }
        let out = details.map { FileManager.default.createFile(atPath: $0, contents: nil); return FileHandle(forWritingAtPath: $0)! }
        var counts: [String: (n: Int, wrong: Int)] = [:]
        for item in items {
            let line: String
            do {
                let input = Preprocessor.modelInput(from: try item.image())
                let r = try QualityCheck.check(segmentation: try loaded.net.run(input).segmentation, input: input,
                                               diagnostics: true) { try loaded.net.run($0).segmentation }
                let wrong = r.passed != item.expectPass
                counts[item.kind, default: (0, 0)].n += 1
                if wrong { counts[item.kind, default: (0, 0)].wrong += 1 }
                let m = r.measures
                line = JSONText.render(.object([
                    ("kind", .string(item.kind)), ("image", .string(item.label)), ("passed", .bool(r.passed)),
                    ("wrong", .bool(wrong)), ("reason", r.reason.map { .string($0) } ?? .null),
                    ("lungFraction", .double(m.lungFraction)), ("rightLung", .double(m.rightLungFraction)),
                    ("leftLung", .double(m.leftLungFraction)), ("symmetry", .double(m.symmetry)),
                    ("largestTwoShare", .double(m.largestTwoShare)),
                    ("centroids", .array([m.rightCentroid.x, m.rightCentroid.y, m.leftCentroid.x, m.leftCentroid.y].map { .double($0) })),
                    ("polarityMargin", .double(m.polarityMargin)), ("modeShare", .double(m.modeShare)),
                    ("massOffsets", .array([m.massOffsets.right, m.massOffsets.left].map { .double($0) })),
                    ("heights", .array([m.heights.right, m.heights.left].map { .double($0) })),
                    ("heartWidening", .double(m.heartWidening)), ("uprightness", .double(m.uprightness)),
                    ("turnedUprightness", m.turnedUprightness.map { .double($0) } ?? .null),
                    ("invertedPolarityMargin", m.invertedPolarityMargin.map { .double($0) } ?? .null),
                    ("uncertainShare", .double(m.uncertainShare)), ("lungConfidence", .double(m.lungConfidence)),
                    ("ringMargin", .double(m.ringMargin)), ("lungMean", .double(m.lungMean)),
                    ("mediastinumMean", .double(m.mediastinumMean)),
                    ("lungMeans", .array([m.lungMeans.right, m.lungMeans.left].map { .double($0) })),
                    ("baseLaterality", .array([m.baseLaterality.right, m.baseLaterality.left].map { .double($0) })),
                ]))
                if wrong { FileHandle.standardError.write(Data("\(item.expectPass ? "FALSE REJECT" : "FALSE ACCEPT") \(item.label): \(r.reason ?? "passed")\n".utf8)) }
            } catch {
                // An unreadable positive counts as a false reject; an unreadable negative is not a test.
                line = JSONText.render(.object([("kind", .string(item.kind)), ("image", .string(item.label)),
                                                 ("error", .string("\(error)"))]))
                if item.expectPass { counts[item.kind, default: (0, 0)].n += 1; counts[item.kind, default: (0, 0)].wrong += 1 }
                FileHandle.standardError.write(Data("ERROR \(item.label): \(error)\n".utf8))
            }
            out?.write(Data((line + "\n").utf8))
        }
        let m = loaded.bundle.manifest
        print("model: \(m.name) \(m.version) (weights \(m.weights.sha256.prefix(12))…)")
        Self.printRates(counts)
    }

    static func printRates(_ counts: [String: (n: Int, wrong: Int)]) {
        let p = counts["positive"] ?? (0, 0)
        let negKinds = counts.keys.filter { $0 != "positive" }.sorted()
        let nn = negKinds.reduce(0) { $0 + counts[$1]!.n }, nw = negKinds.reduce(0) { $0 + counts[$1]!.wrong }
        print(String(format: "false-reject rate: %d/%d = %.1f %%", p.wrong, p.n, p.n == 0 ? 0 : 100 * Double(p.wrong) / Double(p.n)))
        print(String(format: "false-accept rate: %d/%d = %.1f %%", nw, nn, nn == 0 ? 0 : 100 * Double(nw) / Double(nn)))
        for k in negKinds { print("  \(k): \(counts[k]!.wrong)/\(counts[k]!.n) accepted") }
    }

    /// The verdicts of recorded measures under the current thresholds; positives are also split by data set
    /// (the folder above the image) so a calibration set and held-out sets can be told apart.
    static func replay(path: String) throws {
        var counts: [String: (n: Int, wrong: Int)] = [:], bySet: [String: (n: Int, wrong: Int)] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let kind = o["kind"] as? String, let image = o["image"] as? String else { continue }
            let expectPass = kind == "positive"
            var wrong = expectPass
            if let c = o["centroids"] as? [Double], c.count == 4 {
                func d(_ k: String) -> Double { o[k] as? Double ?? 0 }
                let m = QualityCheck.Measures(
                    lungFraction: d("lungFraction"), rightLungFraction: d("rightLung"), leftLungFraction: d("leftLung"),
                    symmetry: d("symmetry"), largestTwoShare: d("largestTwoShare"), rightCentroid: (c[0], c[1]),
                    leftCentroid: (c[2], c[3]), lungMean: 0, mediastinumMean: d("polarityMargin"), modeShare: d("modeShare"))
                // Records carry lungMean and (since per-lung means were added) mediastinumMean; older ones only
                // the margin: then both per-lung means are the two-lung mean, which leaves the per-lung rule moot.
                var mm = m
                if let o = o["massOffsets"] as? [Double], o.count == 2 { mm.massOffsets = (o[0], o[1]) }
                if let h = o["heights"] as? [Double], h.count == 2 { mm.heights = (h[0], h[1]) }
                mm.heartWidening = d("heartWidening")
                mm.turnedUprightness = o["turnedUprightness"] as? Double
                mm.invertedPolarityMargin = o["invertedPolarityMargin"] as? Double
                mm.uncertainShare = d("uncertainShare"); mm.lungConfidence = d("lungConfidence"); mm.ringMargin = d("ringMargin")
                if let med = o["mediastinumMean"] as? Double { mm.lungMean = d("lungMean"); mm.mediastinumMean = med }
                mm.lungMeans = (mm.lungMean, mm.lungMean)
                if let v = o["lungMeans"] as? [Double], v.count == 2 { mm.lungMeans = (v[0], v[1]) }
                if let b = o["baseLaterality"] as? [Double], b.count == 2 { mm.baseLaterality = (b[0], b[1]) }
                let r = QualityCheck.verdict(mm)
                wrong = r.passed != expectPass
                if wrong { print("\(expectPass ? "FALSE REJECT" : "FALSE ACCEPT") \(image): \(r.reason ?? "passed")") }
            } else if !expectPass { continue }
            counts[kind, default: (0, 0)].n += 1
            if wrong { counts[kind, default: (0, 0)].wrong += 1 }
            if expectPass {
                let set = URL(fileURLWithPath: image).deletingLastPathComponent().path
                bySet[set, default: (0, 0)].n += 1
                if wrong { bySet[set, default: (0, 0)].wrong += 1 }
            }
        }
        printRates(counts)
        for (k, v) in bySet.sorted(by: { $0.key < $1.key }) { print("  positives in \(k): \(v.wrong)/\(v.n) rejected") }
    }

    static func expand(_ paths: [String]) throws -> [String] {
        var out: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { throw ValidationError("\(p): not found") }
            if isDir.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: p).sorted()
                out += names.filter { n in [".png", ".jpg", ".jpeg", ".dcm"].contains { n.lowercased().hasSuffix($0) } }
                    .map { (p as NSString).appendingPathComponent($0) }
            } else { out.append(p) }
        }
        return out
    }
}
