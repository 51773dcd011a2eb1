import BrixiaDomain
import ArgumentParser
import BSNetEngine
import DicomKit
import Explain
import Foundation
import Imaging
import ModelBundle
import Pipeline
import Reports

/// `brixia explain FILE --model DIR --out DIR`: super-pixel occlusion maps as PNGs.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Write super-pixel explainability maps (per grade, class, strength, negative) as PNG files.",
        discussion: """
        Runs BS-Net on the image, splits the lungs into SLIC super-pixels, hides each one in turn and reruns the
        network (about one forward pass per lung super-pixel). Runs at a lowered CPU priority (--nice) so that
        scoring elsewhere on the machine is not delayed. AI generated, not for diagnostic use.

        Examples:
          brixia explain chest.dcm --out maps/
          brixia explain chest.dcm --out maps/ --segments 120 --model /var/lib/brixia/model
        """
    )

    @Argument(help: "DICOM, PNG or JPEG chest X-ray.") var file: String
    @Option(help: "Model bundle directory (model.json + weights.safetensors); default: BRIXIA_MODEL, else the shipped model, as for `score`.") var model: String?
    @Option(name: .customLong("keras-weights"), help: "Keras h5 weights instead of a bundle (e.g. the reference weights).")
    var kerasWeights: String?
    @Option(help: "Output directory for the PNG files.") var out: String
    @Option(help: "Approximate number of SLIC super-pixels over the whole image.") var segments = 180
    @Option(help: "SLIC compactness.") var compactness = 10.0
    @Option(help: "Worker threads for the network (default \(PipelineConfig.defaultWorkerThreads), as for `run` and `score`).") var threads = PipelineConfig.defaultWorkerThreads
    @Option(help: "Networks scoring occluded inputs in parallel, one BLAS thread each (1 = one network with --threads).")
    var workers = 1
    @Option(help: "Nice level for this process (0 keeps the current priority).") var nice: Int32 = 10
    @Option(help: "Caption line under every map (e.g. which weights produced it).") var caption: String?
    @Option(help: "File-name prefix of the PNGs.") var prefix = "explain-"
    @Option(name: .customLong("lung-mask"), help: ArgumentHelp(
        "Benchmarks only: a lung mask image (PNG/JPEG, lung = 255, the image's size) used instead of the model's segmentation.",
        discussion: "Lets the cost be measured with realistic lungs while only random reference weights exist; the maps are labelled accordingly."))
    var lungMask: String?
    @Flag(help: ArgumentHelp(
        "Also write the strength map as a DICOM FRACTIONAL Segmentation (FILE must be DICOM).",
        discussion: "One frame on the image's own grid, in the image's study (series 9904), referencing the image, labelled AI generated and not for diagnostic use (docs/explainability.md)."))
    var seg = false
    @Flag(name: .customLong("no-reuse"), help: ArgumentHelp(
        "Run the whole network for every occluded input instead of recomputing only what the occlusion changes.",
        discussion: "For comparisons: the maps agree up to float rounding (docs/explainability.md), at about twice the cost."))
    var noReuse = false
    @Option(name: .customLong("time-forward"), help: "Extra warm forward passes timed for the ratio (median; 0 = use the first, cold pass).")
    var timeForward = 0

    func run() throws {
        do {
            try execute()
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    struct UsageError: Error, CustomStringConvertible { let description: String }

    func validate() throws {
        guard threads >= 1, (1...16).contains(workers) else { throw ValidationError("--threads must be >= 1 and --workers 1...16") }
        guard (4...1000).contains(segments) else { throw ValidationError("--segments must be between 4 and 1000") }
        guard (0...20).contains(timeForward) else { throw ValidationError("--time-forward must be between 0 and 20") }
    }

    func execute() throws {
        ProcessPriority.lower(to: nice)
        let weights: WeightProvider
        var modelLine: String
        let modelInfo: ModelIdentity
        switch (model, kerasWeights) {
        case (_, nil):
            // Same resolution as `score`: --model, BRIXIA_MODEL, then the shipped default (with its note).
            let bundle = try ScoreCommand.loadBundle(explicit: model)
            weights = bundle.weights
            let m = bundle.manifest
            modelInfo = m.identity
            modelLine = "Model: \(m.name) \(m.version), weights SHA-256 \(m.weights.sha256.prefix(16))..."
                + (m.isTestFixture ? " (random test fixture)" : "")
        case let (nil, h5?):
            weights = try KerasWeightsFile(path: h5)
            let name = URL(fileURLWithPath: h5).lastPathComponent
            let sha = try ModelBundle.sha256Hex(ofFile: URL(fileURLWithPath: h5))
            modelInfo = ModelIdentity(name: "Keras weights \(name)", version: "-", weightsSHA256: sha)
            modelLine = "Model: Keras weights \(name), SHA-256 \(sha.prefix(16))..."
        case (_?, _?): throw UsageError(description: "pass either --model or --keras-weights, not both")
        }
        // Opened once: the pixels for the model, the header for a segmentation (refused before the long part).
        let (image, dicomFile) = try InputImage.open(file)
        if seg && dicomFile == nil { throw ValidationError("--seg needs a DICOM image (\(file) is not DICOM)") }
        let input = Preprocessor.modelInput(from: image)
        let net = try BSNet(weights: weights, threads: threads)
        let t0 = Date()
        // With reuse, the baseline pass keeps the intermediates the occluded runs start from.
        let shared = noReuse ? nil : try OcclusionBaseline(network: net, input: input)
        var base = try shared?.output ?? net.run(input)
        if let lungMask {
            let m = try ImageFile.readGray8(path: lungMask)
            let lung = try DisplayImage(width: m.width, height: m.height, gray8: m.pixels.map { $0 == 255 ? 255 : 0 })
            base.segmentation = Preprocessor.resized(lung).map { $0 > 0.5 ? 1 : 0 }
            print("lung mask from \(lungMask) (not the model's segmentation)")
        }
        var forward = Date().timeIntervalSince(t0)
        if timeForward > 0 {
            // The first pass pays one-time costs (page faults in the arena); the ratio is against a warm pass.
            var times: [Double] = []
            for _ in 0..<timeForward { let t = Date(); _ = try net.run(input); times.append(Date().timeIntervalSince(t)) }
            forward = times.sorted()[times.count / 2]
            print(String(format: "warm forward passes (%d threads): %@ s; median %.2f s", threads,
                         times.map { String(format: "%.2f", $0) }.joined(separator: ", "), forward))
        }
        let config = ExplainConfiguration(slic: SlicParameters(segments: segments, compactness: compactness), niceLevel: nice,
                                          reuse: !noReuse)
        // Parallel workers: one single-threaded network each (the baseline pass above keeps --threads).
        let nets = workers <= 1 ? [net] : try (0..<workers).map { _ in try BSNet(weights: weights, threads: 1) }
        let e = try Explainer.explain(networks: nets, input: input, baseline: base, shared: shared, configuration: config) { done, total in
            if done % 20 == 0 || done == total { FileHandle.standardError.write(Data("occluded \(done)/\(total)\n".utf8)) }
        }
        let grades = base.grades
        let zones = Zone.allCases.map { "\($0.rawValue)\(grades[$0]!)" }.joined(separator: " ")
        let note = lungMask.map { "Lung mask from \(URL(fileURLWithPath: $0).lastPathComponent), not the model's segmentation." }
        let fullCaption = [caption, note].compactMap { $0 }.joined(separator: " ")
        let urls = try ExplainOutputs.writePNGs(e, theta: base.theta, caption: fullCaption.isEmpty ? nil : fullCaption,
                                               modelLine: modelLine + (lungMask == nil ? "" : "; human lung mask"),
                                               scoreLine: "Brixia score \(base.globalScore)/18 (\(zones))",
                                               to: URL(fileURLWithPath: out), prefix: prefix)
        print("super-pixels: \(e.allSuperPixels.count) in the image, \(e.superPixels.count) in the lungs")
        print(String(format: "forward pass %.2f s (%d threads); explanation %.1f s (%d occluded runs, %d skipped, %d worker(s), SLIC %.1f s) = %.1f x one forward pass",
                     forward, threads, e.seconds, e.maps.passes, e.maps.skipped, max(1, workers), e.slicSeconds, e.seconds / forward))
        for u in urls { print("wrote \(u.path)") }
        if seg, let d = dicomFile?.instance {
            let written = try ExplainOutputs.writeSegmentation(
                e, report: Self.reportInput(d, scores: base, model: modelInfo), rows: d.geometry.rows, columns: d.geometry.columns,
                patientOrientation: d.instance.patientOrientation,
                pixelSpacing: d.geometry.pixelSpacing.map { ($0.row, $0.column) }, to: URL(fileURLWithPath: out))
            print("wrote \(written.path.path) (DICOM SEG, fractional, series 9904)")
        }
    }

    /// The patient, study and source attributes the segmentation copies, with the scores of this run.
    static func reportInput(_ d: DicomInstance, scores: BSNetOutput, model: ModelIdentity) -> ReportInput {
        let grades = scores.grades
        let zones = zip(Zone.allCases, Zone.allCases).map { z, b in
            ZoneScore(zone: z, grade: grades[b]!, probabilities: scores.probabilities(b).map(Double.init))
        }
        let (patient, study) = ReportsSink.patientAndStudy(d, studyInstanceUID: d.study.instanceUID)
        return ReportInput(
            patient: patient, study: study,
            source: SourceImage(sopClassUID: d.instance.sopClassUID, sopInstanceUID: d.instance.sopInstanceUID,
                                seriesInstanceUID: d.series.instanceUID, modality: d.series.modality,
                                laterality: nil, viewPosition: d.series.viewPosition.isEmpty ? nil : d.series.viewPosition),
            scores: BrixiaScores(zones: zones, global: scores.globalScore), prior: nil, change: nil, alerts: [],
            model: model, equipment: EquipmentInfo(softwareVersion: ProductionPipeline.softwareVersion), created: Date())
    }
}
