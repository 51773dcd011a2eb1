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
            (image left) upper/middle/lower, D/E/F = left lung. Exit status 1 when any file could not be scored.
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
        var failed = false
        let started = Date()
        for (i, path) in files.enumerated() {
            let r = Self.score(path: path, net: loaded.net, manifest: loaded.bundle.manifest)
            if r.error != nil { failed = true }
            results.append(r)
            if !json { print(r.text()) }
            // Several files take a while (about half a second each): say where we are on stderr.
            if files.count > 1 {
                let elapsed = Date().timeIntervalSince(started)
                let eta = elapsed / Double(i + 1) * Double(files.count - i - 1)
                TerminalProgress.shared.update("[\(i + 1)/\(files.count)] \(RunProgress.clock(elapsed)) elapsed, ETA \(RunProgress.clock(eta))  \(SafeText.escape(path))")
            }
        }
        TerminalProgress.shared.finish()
        if json { print(JSONText.render(.array(results.map { .object($0.json()) }))) }
        if failed { throw ExitCode(1) }
    }

    static func loadModel(explicit: String?, threads: Int) throws -> (bundle: ModelBundle, net: BSNet) {
        let bundle = try loadBundle(explicit: explicit)
        do {
            return (bundle, try BSNet(weights: bundle.weights, threads: threads))
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

    /// Decodes a DICOM file, or a PNG/JPEG when the file is not DICOM; the note says when a DICOM image is not
    /// eligible for clinical scoring.
    static func displayImage(path: String) throws -> (DisplayImage, String) {
        let (image, dicom) = try InputImage.open(path)
        guard let f = dicom else { return (image, "") }
        let e = InstanceSelector.eligibility(of: f.instance)
        return (image, e.eligible ? "" : "not eligible for clinical scoring: \(e.reason)")
    }

    static func score(path: String, net: BSNet, manifest: ModelManifest) -> ScoreResult {
        var r = ScoreResult(path: path, model: manifest)
        do {
            let t0 = Date()
            let (image, note) = try displayImage(path: path)
            let t1 = Date()
            let input = Preprocessor.modelInput(from: image)
            let t2 = Date()
            // Calibrated probabilities (identity when model.json records no calibration).
            let out = try net.run(input).calibrated(manifest.probabilityCalibration)
            let t3 = Date()
            r.note = note
            r.output = out
            r.timings = (t1.timeIntervalSince(t0), t2.timeIntervalSince(t1), t3.timeIntervalSince(t2))
        } catch {
            r.error = "\(error)"
        }
        return r
    }
}

struct ScoreResult {
    var path: String
    var model: ModelManifest
    var output: BSNetOutput?
    var note = ""
    var error: String?
    var timings: (decode: Double, preprocess: Double, network: Double) = (0, 0, 0)

    init(path: String, model: ModelManifest) { self.path = path; self.model = model }

    func json() -> [(String, JSONText.Value)] {
        guard let out = output, error == nil else {
            return [("path", .string(path)), ("error", .string(error ?? "unknown error"))]
        }
        let grades = out.grades
        return [
            ("path", .string(path)),
            ("zones", .object(BrixiaZone.allCases.map { ($0.rawValue, .int(grades[$0]!)) })),
            ("global", .int(out.globalScore)),
            ("probabilities", .object(BrixiaZone.allCases.map { z in
                (z.rawValue, .array(out.probabilities(z).map { .double(Double($0)) })) })),
            ("confidence", confidenceJSON(out)),
            ("model", .object([("name", .string(model.name)), ("version", .string(model.version)),
                               ("weightsSHA256", .string(model.weights.sha256))])),
            ("timings", .object([("decode", .double(timings.decode)), ("preprocess", .double(timings.preprocess)),
                                 ("network", .double(timings.network))])),
            ("note", note.isEmpty ? .null : .string(note)),
            ("label", .string("AI-generated, not verified by a physician; not for diagnostic use")),
        ]
    }

    /// Calibrated confidence (docs/model-card.md, "Calibration"), or null when the model has none: an
    /// uncalibrated maximum probability is not shown as a confidence.
    func confidenceJSON(_ out: BSNetOutput) -> JSONText.Value {
        guard let cal = model.calibration else { return .null }
        let c = out.scoreConfidence
        let low = cal.lowConfidenceBelow.map { c.study < $0 }
        return .object([("study", .double(c.study)),
                        ("zones", .object(zip(BrixiaZone.allCases, c.zones).map { ($0.rawValue, .double($1)) })),
                        ("lowConfidence", low.map { .bool($0) } ?? .null),
                        ("lowConfidenceBelow", cal.lowConfidenceBelow.map { .double($0) } ?? .null),
                        ("temperature", .double(cal.temperature))])
    }

    func confidenceText(_ out: BSNetOutput) -> String {
        guard let cal = model.calibration else { return "confidence: not available (model not calibrated)" }
        let c = out.scoreConfidence
        let zones = zip(BrixiaZone.allCases, c.zones).map { String(format: "%@ %.2f", $0.rawValue, $1) }.joined(separator: " ")
        let low = cal.lowConfidenceBelow.map { c.study < $0 } == true ? " LOW CONFIDENCE" : ""
        return String(format: "confidence: %.2f%@ (zones %@)", c.study, low, zones)
    }

    /// The six zones in their anatomical layout as a radiologist sees the film (patient's right on the left).
    func text() -> String {
        guard let out = output, error == nil else { return "\(path): error: \(error ?? "unknown")" }
        let g = out.grades
        var lines = ["\(path)"]
        if !note.isEmpty { lines.append("  note: \(note)") }
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
