import ArgumentParser
import BSNetEngine
import Foundation
import ModelBundle

/// `brixia infer`: runs BS-Net on one preprocessed (1,512,512,1) float32 .npy and writes the four
/// Keras-shaped outputs as .npy files. A developer/verification tool: no DICOM, no database.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run BS-Net on a (1,512,512,1) float32 .npy; write seg/aligned_seg/affine/scores .npy (AI-generated, not for diagnostic use).")

    @Option(name: .customLong("weights-h5"), help: "Keras-2 h5 weights file of the full BS-Net (bscore model).")
    var weightsH5: String?

    @Option(name: .customLong("model"), help: "Model bundle directory (model.json + weights.safetensors).")
    var model: String?

    @Option(help: "Input .npy, float32, shape (1,512,512,1), values in [0,1].")
    var input: String

    @Option(help: "Output directory (created if missing).")
    var out: String

    @Option(help: "OpenBLAS threads.")
    var threads: Int = 1

    func validate() throws {
        if (weightsH5 == nil) == (model == nil) { throw ValidationError("give exactly one of --weights-h5 FILE or --model DIR") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        // Check the cheap things (input file, values) before reading 80 MB of weights.
        let image = try NpyArray.readNetworkInput(path: input)
        try BSNet.validate(input: image)
        let weights: WeightProvider
        if let weightsH5 {
            weights = try KerasWeightsFile(path: weightsH5)
        } else {
            // The bundle is checked (SHA-256, dtypes, every tensor's presence and shape) on load.
            let specs = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
            let bundle = try ModelBundle.load(from: URL(fileURLWithPath: model!), expecting: specs)
            if bundle.manifest.isTestFixture {
                print("WARNING: \(model!) is a random test-fixture bundle (\(bundle.manifest.intendedUse)); outputs are meaningless.")
            }
            weights = bundle.weights
        }
        let net = try BSNet(weights: weights, threads: threads)
        let result = try net.run(image)

        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        func write(_ name: String, _ values: [Float], _ shape: [Int]) throws {
            try NpyArray(float32: values, shape: shape).write(path: (out as NSString).appendingPathComponent(name))
        }
        try write("seg.npy", result.segmentation, [1, 512, 512, 1])
        try write("aligned_seg.npy", result.alignedSegmentation, [1, 512, 512, 1])
        try write("affine.npy", result.theta, [1, 6])
        try write("scores.npy", result.scoresTensor, [1, 3, 2, 4])

        let g = result.grades
        print("AI-generated Brixia score, not verified by a physician, not for diagnostic use.")
        print("grades  A=\(g[.A]!) B=\(g[.B]!) C=\(g[.C]!)  D=\(g[.D]!) E=\(g[.E]!) F=\(g[.F]!)  global \(result.globalScore)/18")
        print(String(format: "time %.3f s (encoder %.3f, decoder %.3f, stn %.3f, head %.3f); outputs in %@",
                     result.stageTimings.total, result.stageTimings.encoder, result.stageTimings.decoder,
                     result.stageTimings.stn, result.stageTimings.head, out))
    }
}
