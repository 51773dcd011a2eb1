import ArgumentParser
import BSNetEngine
import Foundation
import Imaging
import ModelBundle
import Pipeline

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
    @Option(help: "Also write each image's network input and lung probability map here, as 8-bit PGM, to look at a verdict.")
    var saveMaps: String?
    @Option(help: "Re-judge the measures recorded by an earlier --details file with the current thresholds (no inference).")
    var replay: String?
    @Option(help: "With --replay and --derive-from: record the derived bounds in this model bundle's model.json (qualityCheck), so that scoring with that model uses them.")
    var writeBounds: String?
    @Option(help: "With --replay: derive the bounds from the recorded positives whose path starts with this (repeatable) by the calibration rule, print them with a leave-one-out estimate, and judge every record by them.")
    var deriveFrom: [String] = []

    struct Item { var kind: String; var label: String; var expectPass: Bool; var image: () throws -> DisplayImage }

    func run() throws {
        if let replay {
            if writeBounds != nil && deriveFrom.isEmpty { throw ValidationError("--write-bounds needs --derive-from (which recorded positives to derive the bounds from)") }
            // Without derivation, records are judged by the bounds of --model when given, else the built-in ones.
            let bounds = try model.map { dir in
                try QualityCheck.Thresholds(model: try ModelBundle.loadManifest(from: URL(fileURLWithPath: dir)), bundle: dir)
            } ?? QualityCheck.Thresholds()
            return try Self.replay(path: replay, bounds: bounds, deriveFrom: deriveFrom, writeBounds: writeBounds)
        }
        if !deriveFrom.isEmpty || writeBounds != nil { throw ValidationError("--derive-from and --write-bounds need --replay FILE (recorded measures)") }
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
                let segmentation = try loaded.net.run(input).segmentation
                let r = try QualityCheck.check(segmentation: segmentation, input: input, thresholds: loaded.qcBounds,
                                               diagnostics: true) { try loaded.net.run($0).segmentation }
                if let saveMaps {
                    let name = String(item.label.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.suffix(80))
                    try Self.writePGM(input, to: "\(saveMaps)/\(name).input.pgm")
                    try Self.writePGM(segmentation, to: "\(saveMaps)/\(name).lungs.pgm")
                }
                let wrong = r.passed != item.expectPass
                counts[item.kind, default: (0, 0)].n += 1
                if wrong { counts[item.kind, default: (0, 0)].wrong += 1 }
                line = JSONText.render(.object([
                    ("kind", .string(item.kind)), ("image", .string(item.label)), ("passed", .bool(r.passed)),
                    ("wrong", .bool(wrong)), ("reason", r.reason.map { .string($0) } ?? .null),
                ] + Self.record(r.measures)))
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

    struct Record { var kind: String; var image: String; var measures: QualityCheck.Measures? }

    /// The lines of a --details file (unreadable images have no measures).
    static func records(path: String) throws -> [Record] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").enumerated().compactMap { n, line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw ValidationError("\(path):\(n + 1): not a JSON object (expected a line written by qc-eval --details)")
            }
            guard let kind = o["kind"] as? String, let image = o["image"] as? String else { return nil }
            return Record(kind: kind, image: image, measures: measures(from: o))
        }
    }

    /// The verdicts of recorded measures under the shipped thresholds, or under those derived from the recorded
    /// positives under `deriveFrom`; positives are also split by data set (the folder above the image) so a
    /// calibration set and held-out sets can be told apart.
    static func replay(path: String, bounds: QualityCheck.Thresholds, deriveFrom: [String], writeBounds: String?) throws {
        let all = try records(path: path)
        var t = bounds
        if !deriveFrom.isEmpty {
            let cal = all.filter { r in r.kind == "positive" && r.measures != nil && deriveFrom.contains { r.image.hasPrefix($0) } }
            guard !cal.isEmpty else { throw ValidationError("--derive-from: no recorded positive under \(deriveFrom.joined(separator: ", "))") }
            let measures = cal.map { $0.measures! }
            t = QualityCheck.derivedThresholds(from: measures)
            print("bounds derived from \(cal.count) positives (most extreme value widened by \(QualityCheck.calibrationMargin), rounded outwards):")
            for c in Mirror(reflecting: t).children { print("  \(c.label ?? "?"): \(c.value)") }
            print(t == QualityCheck.Thresholds() ? "  (equal to the shipped bounds)" : "  (these differ from the shipped bounds)")
            for (name, alt, gain) in [("turned", \QualityCheck.Measures.turned, { (m: QualityCheck.Measures, a: QualityCheck.Measures) in a.uprightness - m.uprightness }),
                                      ("inverted", \QualityCheck.Measures.inverted, { (m: QualityCheck.Measures, a: QualityCheck.Measures) in a.polarityMargin - m.polarityMargin })] {
                let ran = measures.compactMap { m in m[keyPath: alt].map { (m, $0) } }
                let chests = ran.filter { $0.1.isChest(t) }.map { gain($0.0, $0.1.measures) }
                print("  paired pass \(name): ran on \(ran.count), the other version a chest on \(chests.count)"
                      + (chests.isEmpty ? "" : String(format: ", its largest advantage %.3f", chests.max()!)))
            }
            // The same file name in two data sets is one radiograph (cohen and opacity share 46): left out together.
            let groups = cal.map { URL(fileURLWithPath: $0.image).lastPathComponent }
            let loo = QualityCheck.leaveOneOut(measures, groups: groups)
            print("leave-one-out: \(loo.count)/\(cal.count) refused by the bounds derived from all the other radiographs (\(Set(groups).count) distinct)")
            for (i, r) in loo { print("  \(cal[i].image): \(r.reason ?? "")") }
            if let writeBounds {
                let dir = URL(fileURLWithPath: writeBounds)
                var manifest = try ModelBundle.loadManifest(from: dir)   // the weights are not read: only model.json changes
                manifest.qualityCheck = .init(
                    bounds: t.namedBounds,
                    derivedFrom: "\(cal.count) recorded positives (\(Set(groups).count) distinct radiographs) under \(deriveFrom.joined(separator: ", ")) in \(URL(fileURLWithPath: path).lastPathComponent)",
                    margin: QualityCheck.calibrationMargin, leaveOneOut: "\(loo.count)/\(cal.count) refused",
                    notes: "brixia dev qc-eval --replay ... --derive-from ... --write-bounds; docs/quality-check.md")
                try ModelBundle.replaceManifest(in: dir, with: manifest)
                print("bounds written to \(dir.appendingPathComponent(ModelBundle.manifestFileName).path) (qualityCheck)")
            }
        }
        var counts: [String: (n: Int, wrong: Int)] = [:], bySet: [String: (n: Int, wrong: Int)] = [:]
        for rec in all {
            let expectPass = rec.kind == "positive"
            var wrong = expectPass
            if let mm = rec.measures {
                let r = QualityCheck.verdict(mm, thresholds: t)
                wrong = r.passed != expectPass
                if wrong { print("\(expectPass ? "FALSE REJECT" : "FALSE ACCEPT") \(rec.image): \(r.reason ?? "passed")") }
            } else if !expectPass { continue }
            counts[rec.kind, default: (0, 0)].n += 1
            if wrong { counts[rec.kind, default: (0, 0)].wrong += 1 }
            if expectPass {
                let set = (rec.image as NSString).deletingLastPathComponent
                bySet[set, default: (0, 0)].n += 1
                if wrong { bySet[set, default: (0, 0)].wrong += 1 }
            }
        }
        printRates(counts)
        for (k, v) in bySet.sorted(by: { $0.key < $1.key }) { print("  positives in \(k): \(v.wrong)/\(v.n) rejected") }
    }

    /// The measures as JSON fields; the turned / inverted versions, when the paired checks ran, nested.
    static func record(_ m: QualityCheck.Measures) -> [(String, JSONText.Value)] {
        [
            ("lungFraction", .double(m.lungFraction)), ("rightLung", .double(m.rightLungFraction)),
            ("leftLung", .double(m.leftLungFraction)), ("symmetry", .double(m.symmetry)),
            ("largestTwoShare", .double(m.largestTwoShare)),
            ("centroids", .array([m.rightCentroid.x, m.rightCentroid.y, m.leftCentroid.x, m.leftCentroid.y].map { .double($0) })),
            ("polarityMargin", .double(m.polarityMargin)), ("modeShare", .double(m.modeShare)),
            ("massOffsets", .array([m.massOffsets.right, m.massOffsets.left].map { .double($0) })),
            ("heights", .array([m.heights.right, m.heights.left].map { .double($0) })),
            ("heartWidening", .double(m.heartWidening)), ("uprightness", .double(m.uprightness)),
            ("turned", m.turned.map { .object(record($0.measures)) } ?? .null),
            ("inverted", m.inverted.map { .object(record($0.measures)) } ?? .null),
            ("uncertainShare", .double(m.uncertainShare)), ("lungConfidence", .double(m.lungConfidence)),
            ("ringMargin", .double(m.ringMargin)), ("massSymmetry", .double(m.massSymmetry)), ("lungMean", .double(m.lungMean)),
            ("mediastinumMean", .double(m.mediastinumMean)),
            ("lungMeans", .array([m.lungMeans.right, m.lungMeans.left].map { .double($0) })),
            ("baseLaterality", .array([m.baseLaterality.right, m.baseLaterality.left].map { .double($0) })),
        ]
    }

    /// The inverse of `record`; nil for a line without measures (an unreadable image).
    static func measures(from o: [String: Any]) -> QualityCheck.Measures? {
        guard let c = o["centroids"] as? [Double], c.count == 4 else { return nil }
        func d(_ k: String) -> Double { o[k] as? Double ?? 0 }
        func pair(_ k: String) -> (Double, Double)? { (o[k] as? [Double]).flatMap { $0.count == 2 ? ($0[0], $0[1]) : nil } }
        var m = QualityCheck.Measures(
            lungFraction: d("lungFraction"), rightLungFraction: d("rightLung"), leftLungFraction: d("leftLung"),
            symmetry: d("symmetry"), largestTwoShare: d("largestTwoShare"), rightCentroid: (c[0], c[1]),
            leftCentroid: (c[2], c[3]), lungMean: d("lungMean"), mediastinumMean: d("mediastinumMean"), modeShare: d("modeShare"))
        m.massOffsets = pair("massOffsets") ?? (0, 0)
        m.heights = pair("heights") ?? (0, 0)
        m.heartWidening = d("heartWidening")
        m.lungMeans = pair("lungMeans") ?? (m.lungMean, m.lungMean)
        m.baseLaterality = pair("baseLaterality") ?? (0, 0)
        m.uncertainShare = d("uncertainShare"); m.lungConfidence = d("lungConfidence"); m.ringMargin = d("ringMargin")
        m.massSymmetry = d("massSymmetry")
        m.turned = (o["turned"] as? [String: Any]).flatMap(measures(from:)).map(QualityCheck.Alternative.init)
        m.inverted = (o["inverted"] as? [String: Any]).flatMap(measures(from:)).map(QualityCheck.Alternative.init)
        return m
    }

    /// A 512x512 map in [0,1] as a binary 8-bit PGM (any viewer or PIL reads it).
    static func writePGM(_ map: [Float], to path: String) throws {
        let side = QualityCheck.side
        var data = Data("P5\n\(side) \(side)\n255\n".utf8)
        data.append(contentsOf: map.map { UInt8((min(max($0, 0), 1) * 255).rounded()) })
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
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
