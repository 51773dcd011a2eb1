import BrixiaDomain
import ArgumentParser
import BSNetEngine
import DicomKit
import Foundation
import Imaging
import ModelBundle
import Pipeline
import TextSafety

/// `brixia score`: decode -> the authors' preprocessing -> BS-Net, for DICOM or PNG/JPEG files.
/// No database and no reports: the quick answer for one or a few images.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score chest X-rays (DICOM, PNG or JPEG) with BS-Net: six zone grades A-F and the global score.",
        discussion: """
            AI-generated results, not verified by a physician: not for diagnostic use.
            The model is --model DIR, else $BRIXIA_MODEL, else the shipped default (bsnet-brixia-own). Zones: A/B/C = patient's right lung \
            (image left) upper/middle/lower, D/E/F = left lung. A file whose header is not a frontal chest radiograph, \
            or whose image fails the image-content check (two plausible lungs, darker than the mediastinum), gets no \
            score: "AI analysis not performed: <reason>". Exit status: 0 every file scored; \(ScoreExit.notScored) at least \
            one not scored (ineligible or failed check) and none unreadable; 1 any file could not be read or scored.

            Examples:
              brixia score chest.dcm
              brixia score scans/*.dcm --json > scores.json
              brixia score image.png --model /var/lib/brixia/model --threads 2
            """)

    @Argument(help: "DICOM, PNG or JPEG files.")
    var files: [String]

    @Option(help: "Model bundle directory (default: $BRIXIA_MODEL, else the shipped bsnet-brixia-own).")
    var model: String?

    @Option(help: "Worker threads for the network (default \(PipelineConfig.defaultWorkerThreads), as for `run` and `explain`).")
    var threads: Int = PipelineConfig.defaultWorkerThreads

    @Flag(help: "Print one JSON array with an object per file.")
    var json = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let loaded = try Self.loadModel(explicit: model, threads: threads)
        var results: [ScoreResult] = []
        var failed = false, notScored = false
        let started = Date()
        for (i, path) in files.enumerated() {
            let r = Self.score(path: path, net: loaded.net, manifest: loaded.bundle.manifest, qcBounds: loaded.qcBounds)
            if r.error != nil { failed = true } else if r.notPerformedReason != nil { notScored = true }
            results.append(r)
            if !json { print(r.text()) }
            // Several files take a while (about half a second each): say where we are on stderr.
            if files.count > 1 {
                let elapsed = Date().timeIntervalSince(started)
                let eta = elapsed / Double(i + 1) * Double(files.count - i - 1)
                TerminalProgress.shared.update(RunProgress.counter(done: i + 1, total: files.count, elapsed: elapsed, eta: eta)
                                               + "  \(SafeText.escape(path))")
            }
        }
        TerminalProgress.shared.finish()
        if json { print(JSONText.render(.array(results.map { .object($0.json()) }))) }
        if failed { throw ExitCode(1) }
        if notScored { throw ExitCode(ScoreExit.notScored) }
    }

    /// The model, its network and the image-content check's bounds for it (a bad qualityCheck block fails here).
    static func loadModel(explicit: String?, threads: Int) throws -> (bundle: ModelBundle, net: BSNet, qcBounds: QualityCheck.Thresholds) {
        let bundle = try loadBundle(explicit: explicit)
        do {
            return (bundle, try BSNet(weights: bundle.weights, threads: threads),
                    try QualityCheck.Thresholds(model: bundle.manifest, bundle: bundle.directory.path))
        } catch {
            throw ValidationError("model \(bundle.directory.path): \(error)")
        }
    }

    /// The model every single-image command uses: --model, else BRIXIA_MODEL, else the shipped default.
    static func loadBundle(explicit: String?) throws -> ModelBundle {
        let configured = explicit ?? ProcessInfo.processInfo.environment["BRIXIA_MODEL"]
        guard let dir = (configured?.isEmpty == false ? configured : nil) ?? DefaultModel.locate()?.path else {
            throw ValidationError("""
                no model given and the default model (\(DefaultModel.folderName)) was not found in \
                \(DefaultModel.candidates().map(\.path).joined(separator: ", ")). Pass --model DIR (or set BRIXIA_MODEL) \
                to a bundle, e.g. one made with `brixia model import-keras BSCORE.h5 --out DIR` from the authors' weights.
                """)
        }
        let specs = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
        do {
            let bundle = try ModelBundle.load(from: URL(fileURLWithPath: dir), expecting: specs)
            if configured?.isEmpty != false {
                // The shipped default: say which model this is and what it is good for, every time.
                FileHandle.standardError.write(Data("note: no model configured; using the shipped default \(bundle.manifest.name) \(bundle.manifest.version). \(bundle.manifest.intendedUse)\n".utf8))
            }
            if bundle.manifest.isTestFixture {
                FileHandle.standardError.write(Data("warning: \(dir) is a random test fixture, not a trained model: scores are meaningless\n".utf8))
            }
            return bundle
        } catch {
            throw ValidationError("model \(dir): \(error)")
        }
    }

    /// Decodes a DICOM file, or a PNG/JPEG when the file is not DICOM; `ineligible` is the header's reason not to
    /// score a DICOM file (a plain image has no header: the note says so and the content check decides).
    static func displayImage(path: String) throws -> (image: DisplayImage, ineligible: String?, note: String) {
        let (image, dicom) = try InputImage.open(path)
        guard let f = dicom else { return (image, nil, "plain image file (no DICOM header); the image-content check decides") }
        let e = InstanceSelector.eligibility(of: f.instance)
        return (image, e.eligible ? nil : e.reason, e.warnings.joined(separator: "; "))
    }

    static func score(path: String, net: BSNet, manifest: ModelManifest, qcBounds: QualityCheck.Thresholds) -> ScoreResult {
        var r = ScoreResult(path: path, model: manifest)
        do {
            let t0 = Date()
            let (image, ineligible, note) = try displayImage(path: path)
            r.note = note
            if let ineligible {
                r.eligible = false
                r.notPerformedReason = "not eligible: \(ineligible)"
                return r
            }
            r.eligible = true
            let t1 = Date()
            let input = Preprocessor.modelInput(from: image)
            let t2 = Date()
            // Read out and calibrated as model.json says (identity calibration when it records none).
            let out = try manifest.output(of: net, for: input)
            let t3 = Date()
            r.timings = (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2))
            if manifest.isTestFixture {
                // Random weights segment nothing: the check would refuse every image. Fixtures are for
                // software tests only (the pipeline refuses them for patients).
                r.qcSkipped = "image-content check not applied: the model is a random test fixture"
            } else {
                let qc = try QualityCheck.check(segmentation: out.segmentation, input: input, thresholds: qcBounds) { try net.run($0).segmentation }
                r.qc = qc
                if let reason = qc.reason { r.notPerformedReason = reason; return r }
            }
            r.output = out
        } catch {
            r.error = "\(error)"
        }
        return r
    }
}

/// Exit statuses of `brixia score` (docs/operations.md).
enum ScoreExit {
    /// At least one file was not scored (not eligible, or failed the image-content check); none unreadable.
    static let notScored: Int32 = 3
}

struct ScoreResult {
    var path: String
    var model: ModelManifest
    var output: BSNetOutput?
    var note = ""
    var error: String?
    /// Header eligibility (nil when the file could not be read).
    var eligible: Bool?
    var qc: QualityCheck.Result?
    var qcSkipped: String?
    /// Why no score is reported for a readable file.
    var notPerformedReason: String?
    var timings: (decode: Double, preprocess: Double, network: Double) = (0, 0, 0)

    init(path: String, model: ModelManifest) { self.path = path; self.model = model }

    func json() -> [(String, JSONText.Value)] {
        let label: (String, JSONText.Value) = ("label", .string("AI-generated, not verified by a physician; not for diagnostic use"))
        guard error == nil else {
            return [("path", .string(path)), ("error", .string(error ?? "unknown error")), ("eligible", eligible.map { .bool($0) } ?? .null),
                    ("qc", .null), ("reason", .string(error ?? "unknown error"))]
        }
        let common: [(String, JSONText.Value)] = [
            ("path", .string(path)), ("eligible", .bool(eligible ?? false)), ("qc", qcJSON()),
            ("reason", notPerformedReason.map { .string("AI analysis not performed: \($0)") } ?? .null),
            ("scored", .bool(output != nil)),
        ]
        let model: (String, JSONText.Value) = ("model", .object([("name", .string(self.model.name)), ("version", .string(self.model.version)),
                                                                  ("weightsSHA256", .string(self.model.weights.sha256))]))
        guard let out = output else { return common + [model, ("note", note.isEmpty ? .null : .string(note)), label] }
        let grades = out.grades
        return common + [
            ("zones", .object(Zone.allCases.map { ($0.rawValue, .int(grades[$0]!)) })),
            ("global", .int(out.globalScore)),
            ("probabilities", .object(Zone.allCases.map { z in
                (z.rawValue, .array(out.probabilities(z).map { .double(Double($0)) })) })),
            ("confidence", confidenceJSON(out)),
            model,
            ("timings", .object([("decode", .double(timings.decode)), ("preprocess", .double(timings.preprocess)),
                                 ("network", .double(timings.network))])),
            ("note", note.isEmpty ? .null : .string(note)),
            label,
        ]
    }

    private func isChest(_ alternative: QualityCheck.Alternative?, _ bounds: QualityCheck.Thresholds) -> JSONText.Value {
        alternative.map { .bool($0.isChest(bounds)) } ?? .null
    }

    /// {passed, failures, measures}, {skipped: reason} for a fixture model, null when not run.
    func qcJSON() -> JSONText.Value {
        if let qcSkipped { return .object([("passed", .null), ("skipped", .string(qcSkipped))]) }
        guard let qc else { return .null }
        let m = qc.measures
        return .object([
            ("passed", .bool(qc.passed)), ("failures", .array(qc.failures.map { .string($0) })),
            ("lungFraction", .double(m.lungFraction)), ("symmetry", .double(m.symmetry)),
            ("largestTwoShare", .double(m.largestTwoShare)), ("polarityMargin", .double(m.polarityMargin)),
            ("singleLungMargin", .double(m.singleLungMargin)),
            ("modeShare", .double(m.modeShare)), ("heartWidening", .double(m.heartWidening)),
            ("uprightness", .double(m.uprightness)), ("turnedUprightness", m.turnedUprightness.map { .double($0) } ?? .null),
            ("turnedIsChest", isChest(m.turned, qc.thresholds)),
            ("invertedPolarityMargin", m.invertedPolarityMargin.map { .double($0) } ?? .null),
            ("invertedIsChest", isChest(m.inverted, qc.thresholds)),
            ("baseLaterality", .array([m.baseLaterality.right, m.baseLaterality.left].map { .double($0) })),
        ])
    }

    /// Calibrated confidence (docs/model-card.md, "Calibration"), or null when the model has none: an
    /// uncalibrated maximum probability is not shown as a confidence.
    func confidenceJSON(_ out: BSNetOutput) -> JSONText.Value {
        guard let cal = model.calibration else { return .null }
        let c = out.scoreConfidence
        let low = cal.lowConfidenceBelow.map { c.study < $0 }
        return .object([("study", .double(c.study)),
                        ("zones", .object(zip(Zone.allCases, c.zones).map { ($0.rawValue, .double($1)) })),
                        ("lowConfidence", low.map { .bool($0) } ?? .null),
                        ("lowConfidenceBelow", cal.lowConfidenceBelow.map { .double($0) } ?? .null),
                        ("temperature", .double(cal.temperature))])
    }

    func confidenceText(_ out: BSNetOutput) -> String {
        guard let cal = model.calibration else { return "confidence: not available (model not calibrated)" }
        let c = out.scoreConfidence
        let zones = zip(Zone.allCases, c.zones).map { String(format: "%@ %.2f", $0.rawValue, $1) }.joined(separator: " ")
        let low = cal.lowConfidenceBelow.map { c.study < $0 } == true ? " LOW CONFIDENCE" : ""
        return String(format: "confidence: %.2f%@ (zones %@)", c.study, low, zones)
    }

    /// The six zones in their anatomical layout as a radiologist sees the film (patient's right on the left).
    func text() -> String {
        if let error { return "\(path): error: \(error)" }
        var lines = ["\(path)"]
        if !note.isEmpty { lines.append("  note: \(note)") }
        if let qcSkipped { lines.append("  note: \(qcSkipped)") }
        guard let out = output else {
            lines.append("  AI analysis not performed: \(notPerformedReason ?? "unknown reason")")
            lines.append("  no score is reported for this image")
            return lines.joined(separator: "\n")
        }
        let g = out.grades
        lines += [
            "            right lung   left lung",
            "  upper       A: \(g[.A]!)        D: \(g[.D]!)",
            "  middle      B: \(g[.B]!)        E: \(g[.E]!)",
            "  lower       C: \(g[.C]!)        F: \(g[.F]!)",
            "  global: \(out.globalScore)/18   \(confidenceText(out))",
            "  model: \(model.name) \(model.version) (weights \(model.weights.sha256.prefix(12))…)",
            "  AI-generated, not verified by a physician; not for diagnostic use",
        ]
        return lines.joined(separator: "\n")
    }
}
