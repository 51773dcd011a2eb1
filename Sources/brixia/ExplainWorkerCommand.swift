#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import BSNetEngine
import DicomKit
import Explain
import Foundation
import Imaging
import ModelBundle
import Pipeline

/// `brixia explain-worker JOB --model DIR`: computes one queued explanation of the pipeline (started by
/// `run`/`serve` when `explain = true`, never by people). It lowers its own priority first, writes only
/// into the job folder (the SC appears there as `out/` in one rename) and exits; the pipeline records and
/// publishes the result. Killing it at any moment loses nothing: the next worker starts the job again.
struct ExplainWorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain-worker",
        abstract: "Internal: compute one queued explanation job of the pipeline (started by run/serve).",
        shouldDisplay: false)

    @Argument(help: "Job folder (in <outbox>/.brixia-explain/).") var job: String
    @Option(help: "Model bundle directory; must be the model that scored the study.") var model: String
    @Option(help: "BLAS threads of the network (when --workers is 1).") var threads = 2
    @Option(help: "Networks scoring occluded inputs in parallel, one BLAS thread each.") var workers = 1
    @Option(help: "Nice level applied to this process first.") var nice: Int32 = 19
    @Option(name: .customLong("software-version"), help: "Software version written into the SC.")
    var softwareVersion = ProductionPipeline.softwareVersion

    /// A job that no retry can fix.
    struct PermanentFailure: Error, CustomStringConvertible { let description: String }

    func run() throws {
        do {
            try execute()
        } catch let e as ExitCode {
            throw e
        } catch let e as PermanentFailure {
            FileHandle.standardError.write(Data("error (will not be retried): \(e.description)\n".utf8))
            throw ExitCode(ExplanationJobFolder.permanentFailureStatus)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The pipeline that started us died (we were re-parented): stop at once, whatever we are doing
    /// (loading, waiting for the lock, occluding); its successor restarts the job.
    static func exitWhenOrphaned() {
        let parent = getppid()
        let t = Thread {
            while true {
                if getppid() != parent { Glibc.exit(3) }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        t.start()
    }

    func execute() throws {
        ProcessPriority.lower(to: nice)
        Self.exitWhenOrphaned()
        let folder = ExplanationJobFolder(URL(fileURLWithPath: job))
        try folder.lockForWorker()
        if folder.isComputed { return }
        let j = try folder.job()
        let a = j.analysis

        let bundle = try ModelBundle.load(from: URL(fileURLWithPath: model), expecting: BSNetSignature.tensors)
        let m = bundle.manifest
        if m.isTestFixture && ProcessInfo.processInfo.environment["BRIXIA_ALLOW_TEST_FIXTURE"] != "1" {
            throw PermanentFailure(description: "model bundle \(model) is a random test fixture; refusing to explain with it")
        }
        guard m.weights.sha256 == a.model.weightsSHA256 else {
            throw PermanentFailure(description: "the model changed since the study was scored (scored with weights SHA-256 " +
                              "\(a.model.weightsSHA256), bundle has \(m.weights.sha256)); an explanation must explain the scores it sits beside")
        }
        // With parallel workers every network is single-threaded and the first one also runs the baseline.
        let nets = try (0..<max(1, workers)).map { _ in try BSNet(weights: bundle.weights, threads: workers > 1 ? 1 : threads) }
        let net = nets[0]
        let input = Preprocessor.modelInput(from: try InputImage.display(DicomFile(path: folder.source.path)))
        // The baseline pass keeps every intermediate the occluded runs reuse (OcclusionRunner).
        let shared = try OcclusionBaseline(network: net, input: input)
        let base = shared.output
        let config = ExplainConfiguration(slic: SlicParameters(segments: j.segments), niceLevel: nice)
        let t0 = Date()
        let explain = { try Explainer.explain(networks: nets, input: input, baseline: base, shared: shared, configuration: config) { done, total in
            if done % 20 == 0 || done == total { FileHandle.standardError.write(Data("occluded \(done)/\(total)\n".utf8)) }
        } }
        let e: Explanation
        do { e = try explain() } catch ExplainError.emptyLungMask {
            throw PermanentFailure(description: "\(ExplainError.emptyLungMask)")
        }
        let report = try ReportsSink(softwareVersion: softwareVersion).reportInput(for: a, sourceFile: folder.source)
        let d = try DicomFile.readInstance(path: folder.source.path)
        try folder.commitResult { dir in
            let w = try ExplainOutputs.writeSecondaryCapture(e, theta: base.theta, report: report, to: dir)
            // The strength map as a SEG beside the SC, on the source's grid (highdicom reads it by source instance).
            let s = try ExplainOutputs.writeSegmentation(
                e, report: report, rows: d.geometry.rows, columns: d.geometry.columns,
                patientOrientation: d.instance.patientOrientation,
                pixelSpacing: d.geometry.pixelSpacing.map { ($0.row, $0.column) }, to: dir)
            return ExplanationResult(fileName: w.path.lastPathComponent, sopInstanceUID: w.sopInstanceUID,
                                     seriesInstanceUID: w.seriesInstanceUID,
                                     segmentation: ExplanationFile(fileName: s.path.lastPathComponent, sopInstanceUID: s.sopInstanceUID,
                                                                   seriesInstanceUID: s.seriesInstanceUID))
        }
        FileHandle.standardError.write(Data(String(format: "explained in %.1f s: %d lung super-pixels, %d occluded runs\n",
                                                   Date().timeIntervalSince(t0), e.superPixels.count, e.maps.passes).utf8))
    }
}
