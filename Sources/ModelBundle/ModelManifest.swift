import BrixiaDomain
import BSNetEngine
import Foundation

/// `model.json`: what the model is, what it may be used for, and where its weights came from.
/// Every report the system produces copies `name`, `version` and `weights.sha256` from here.
public struct ModelManifest: Codable, Sendable, Equatable {
    public static let formatName = "brixia-model-bundle"
    /// 2: `weights.sha256` is the content checksum (canonical serialization, docs/model-bundle.md);
    /// 1: it was the SHA-256 of the whole weights file (still verified that way).
    public static let currentFormatVersion = 2
    public static let defaultIntendedUse =
        "AI-generated output, research use only, not verified by a physician, not for diagnostic use."

    public struct Weights: Codable, Sendable, Equatable {
        /// File name inside the bundle directory.
        public var file: String
        /// Lower-case hex SHA-256 of the weights' canonical serialization (formatVersion >= 2; equal
        /// to the file's own SHA-256 when Brixia wrote it), or of the whole file (formatVersion 1).
        public var sha256: String
        public var dtype: SafetensorsDType
        public var tensorCount: Int
        public var parameterCount: Int
        /// How tensors are named and laid out.
        public var naming: String
        public init(file: String = "weights.safetensors", sha256: String = "", dtype: SafetensorsDType = .f32,
                    tensorCount: Int = 0, parameterCount: Int = 0,
                    naming: String = "keras: '<layer>/<weight>' without ':0'; Conv2D (kh,kw,in,out), Conv2DTranspose (kh,kw,out,in), Dense (in,out)") {
            self.file = file; self.sha256 = sha256; self.dtype = dtype
            self.tensorCount = tensorCount; self.parameterCount = parameterCount; self.naming = naming
        }
    }

    public struct SourceFile: Codable, Sendable, Equatable {
        /// File name as given to the importer (no directories: paths can carry personal data).
        public var name: String
        public var sha256: String
        public var bytes: Int
        public var kerasVersion: String?
        public var backend: String?
        /// How the importer matched the file's tensors to BS-Net: "names", or "position" (Keras'
        /// load_weights rule, used when the file's layer names carry other counters).
        public var matchedBy: KerasMatchRule?
        /// Groups matched by position whose names differ from BS-Net's (absent when none).
        public var renamedGroups: [KerasGroupRename]?
        public init(name: String, sha256: String, bytes: Int, kerasVersion: String? = nil, backend: String? = nil,
                    matchedBy: KerasMatchRule? = nil, renamedGroups: [KerasGroupRename]? = nil) {
            self.name = name; self.sha256 = sha256; self.bytes = bytes
            self.kerasVersion = kerasVersion; self.backend = backend
            self.matchedBy = matchedBy; self.renamedGroups = renamedGroups
        }
    }

    public struct Provenance: Codable, Sendable, Equatable {
        public var sources: [SourceFile]
        /// ISO 8601 UTC.
        public var createdAt: String
        public var tool: String
        public var toolVersion: String
        public var notes: String?
        public init(sources: [SourceFile], createdAt: String = ModelManifest.now(), tool: String,
                    toolVersion: String, notes: String? = nil) {
            self.sources = sources; self.createdAt = createdAt; self.tool = tool
            self.toolVersion = toolVersion; self.notes = notes
        }
    }

    /// How a trained model was made and how well it did (absent for imported or fixture weights).
    public struct Training: Codable, Sendable, Equatable {
        /// Training data, e.g. "144 labelled chest X-rays of the COVID-19 image data collection".
        public var data: String
        /// Licence of the training data and annotations (it constrains the use of the weights).
        public var dataLicence: String
        /// How it was trained (commands or a pointer to them).
        public var recipe: String
        /// Cross-validated figures next to the baselines, one line each ("mean zone MAE vs senior: ...").
        public var evaluation: [String]
        public init(data: String, dataLicence: String, recipe: String, evaluation: [String]) {
            self.data = data; self.dataLicence = dataLicence; self.recipe = recipe; self.evaluation = evaluation
        }
    }

    /// Calibration of the per-zone probabilities (absent: identity, and confidences are not reported as
    /// calibrated). Not part of the weights, so adding it never changes `weights.sha256`.
    public struct Calibration: Codable, Sendable, Equatable {
        public static let temperatureMethod = "temperature"
        /// Only "temperature" (p' = softmax(log p / T), one T for all zones) is defined.
        public var method: String
        public var temperature: Double
        /// What T was fitted on, e.g. "out-of-fold predictions of the 144 Cohen images (5 fold heads)".
        public var fittedOn: String
        /// Study confidence below this marks an analysis `low-confidence` (how it was chosen: `notes`).
        public var lowConfidenceBelow: Double?
        /// Expected calibration error (15 bins, top label) on the calibration data, e.g. "before", "after",
        /// "nestedBefore", "nestedAfter".
        public var ece: [String: Double]?
        public var notes: String?
        public init(method: String = Calibration.temperatureMethod, temperature: Double, fittedOn: String,
                    lowConfidenceBelow: Double? = nil, ece: [String: Double]? = nil, notes: String? = nil) {
            self.method = method; self.temperature = temperature; self.fittedOn = fittedOn
            self.lowConfidenceBelow = lowConfidenceBelow; self.ece = ece; self.notes = notes
        }

        /// Throws on an unknown method, a temperature that is not finite and > 0, or a threshold outside 0...1.
        public func validated(file: String) throws -> Calibration {
            guard method == Self.temperatureMethod else {
                throw ModelBundleError.corruptManifest(file: file, reason: "calibration.method '\(method)' is not supported (only 'temperature')")
            }
            guard temperature.isFinite, temperature > 0 else {
                throw ModelBundleError.corruptManifest(file: file, reason: "calibration.temperature \(temperature) is not a finite number > 0")
            }
            if let t = lowConfidenceBelow, !(t.isFinite && t >= 0 && t <= 1) {
                throw ModelBundleError.corruptManifest(file: file, reason: "calibration.lowConfidenceBelow \(t) is not in 0...1")
            }
            return self
        }
    }

    /// How the engine reads grades out of the probabilities (`Readout`; absent: argmax, no mirroring, as the
    /// authors' BS-Net). Part of the model's identity: a bundle that changes it gets a new version.
    public struct ReadoutSpec: Codable, Sendable, Equatable {
        /// "argmax" or "median".
        public var decision: String
        public var mirrorAverage: Bool?
        public var notes: String?
        public init(decision: String, mirrorAverage: Bool? = nil, notes: String? = nil) {
            self.decision = decision; self.mirrorAverage = mirrorAverage; self.notes = notes
        }

        /// Throws on an unknown decision rule.
        public func validated(file: String) throws -> Readout {
            guard let d = Readout.Decision(rawValue: decision) else {
                let known = Readout.Decision.allCases.map(\.rawValue).joined(separator: ", ")
                throw ModelBundleError.corruptManifest(file: file, reason: "readout.decision '\(decision)' is not supported (one of: \(known))")
            }
            return Readout(decision: d, mirrorAverage: mirrorAverage ?? false)
        }
    }

    /// Bounds of the image-content check derived for this model (`brixia dev qc-eval --replay ... --derive-from
    /// ... --write-bounds DIR`; docs/quality-check.md). They depend on how a model segments; absent: the
    /// program's built-in bounds, derived for the shipped model. Names and meaning: `QualityCheck.Thresholds`.
    public struct QualityCheckBounds: Codable, Sendable, Equatable {
        public var bounds: [String: Double]
        /// What they were derived from, e.g. "222 radiographs of ../shared/data/cohen, ../shared/data/opacity".
        public var derivedFrom: String
        /// How far past the most extreme calibration value each bound lies.
        public var margin: Double
        /// The leave-one-out estimate, e.g. "5/222 refused".
        public var leaveOneOut: String?
        public var notes: String?
        public init(bounds: [String: Double], derivedFrom: String, margin: Double, leaveOneOut: String? = nil, notes: String? = nil) {
            self.bounds = bounds; self.derivedFrom = derivedFrom; self.margin = margin
            self.leaveOneOut = leaveOneOut; self.notes = notes
        }

        /// Throws on a bound that is not a finite number (which bounds exist is checked where they are used).
        public func validated(file: String) throws -> QualityCheckBounds {
            if let (k, v) = bounds.first(where: { !$0.value.isFinite }) {
                throw ModelBundleError.corruptManifest(file: file, reason: "qualityCheck.bounds.\(k) \(v) is not a finite number")
            }
            guard margin.isFinite, margin >= 0 else {
                throw ModelBundleError.corruptManifest(file: file, reason: "qualityCheck.margin \(margin) is not a finite number >= 0")
            }
            return self
        }
    }

    public var format: String
    public var formatVersion: Int
    public var name: String
    public var version: String
    /// e.g. "bsnet-resnet18-unetpp-512": the engine refuses bundles of another architecture.
    public var architecture: String
    public var inputSize: Int
    public var inputChannels: Int
    /// e.g. "brixia-cohen-equalize-4096": the preprocessing the weights expect.
    public var preprocessing: String
    /// Human-readable description of the outputs and their layout.
    public var outputs: String
    public var licence: String
    public var intendedUse: String
    /// True only for random fixtures made for tests; such a bundle must never score patients.
    public var isTestFixture: Bool
    public var weights: Weights
    /// What every result records about the model that produced it.
    public var identity: ModelIdentity { ModelIdentity(name: name, version: version, weightsSHA256: weights.sha256) }
    public var provenance: Provenance
    public var training: Training?
    public var calibration: Calibration?
    public var readout: ReadoutSpec?
    /// Score heads sharing the trunk (an ensemble whose probabilities the engine averages; absent: 1, the
    /// authors' BS-Net). Heads after the first carry their tensors under "head<h>/" (docs/model-bundle.md).
    public var scoreHeads: Int?
    public var qualityCheck: QualityCheckBounds?

    public init(name: String, version: String,
                architecture: String = "bsnet-resnet18-unetpp-512", inputSize: Int = 512, inputChannels: Int = 1,
                preprocessing: String = "brixia-cohen-equalize-4096",
                outputs: String = ModelManifest.bsnetOutputs,
                licence: String, intendedUse: String = ModelManifest.defaultIntendedUse,
                isTestFixture: Bool = false, weights: Weights = Weights(), provenance: Provenance) {
        self.format = Self.formatName
        self.formatVersion = Self.currentFormatVersion
        self.name = name; self.version = version; self.architecture = architecture
        self.inputSize = inputSize; self.inputChannels = inputChannels; self.preprocessing = preprocessing
        self.outputs = outputs; self.licence = licence; self.intendedUse = intendedUse
        self.isTestFixture = isTestFixture; self.weights = weights; self.provenance = provenance
    }

    public static let bsnetOutputs =
        "segmentation (1,512,512,1) sigmoid lung probability; aligned segmentation (1,512,512,1); " +
        "STN affine theta (1,6); scores (1,3,2,4): out[0,row,col,:] = softmax over grades 0-3 of region r = 2*row+col " +
        "(rows top/middle/bottom, columns image-left/image-right)"

    /// The engine's temperature scaling for this bundle (identity when the bundle records none).
    public var probabilityCalibration: ProbabilityCalibration {
        guard let c = calibration, let p = try? ProbabilityCalibration(temperature: c.temperature) else { return .identity }
        return p
    }

    /// The engine's readout for this bundle (argmax without mirroring when the bundle records none; an
    /// invalid one was refused when the bundle was loaded).
    public var engineReadout: Readout {
        (try? readout?.validated(file: "model.json")) ?? .argmax
    }

    /// The network's output on `input` as this model reports it: run with its readout (one or two passes), then
    /// its calibration applied (grades and confidences are read from the result). The one place that composes
    /// the two, for `brixia score` and the pipeline's scorer alike.
    public func output(of net: BSNet, for input: [Float]) throws -> BSNetOutput {
        try net.run(input, readout: engineReadout).calibrated(probabilityCalibration)
    }

    /// What `weights.sha256` is a hash of, in words (for `model info` / `verify`).
    public var checksumRule: String {
        formatVersion >= 2 ? "content checksum" : "whole-file SHA-256 (formatVersion 1)"
    }

    public static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(self)
    }
}
