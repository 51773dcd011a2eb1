import BrixiaDomain
import BSNetEngine
import DicomKit
import Foundation
import Imaging
import ModelBundle
import Store

/// StudyScorer over DicomKit (display decode) -> Imaging (the authors' preprocessing) -> BS-Net.
/// @unchecked Sendable: `net` (one shared arena) is only run with `lock` held; the other members are immutable.
public final class BSNetScorer: StudyScorer, @unchecked Sendable {
    public let model: ModelIdentity
    public let isTestFixture: Bool
    private let net: BSNet
    /// model.json: its readout and calibration (absent calibration: identity, and no confidence is reported).
    private let manifest: ModelManifest
    /// The image-content check's bounds for this model (model.json `qualityCheck`, else the built-in ones).
    private let qcBounds: QualityCheck.Thresholds
    private let lock = NSLock()   // BSNet runs one input at a time (shared arena)

    /// Loads and verifies the bundle against the engine's full tensor list. A random test fixture
    /// bundle is refused unless `allowTestFixture` (tests only): it must never score patients.
    public init(bundle: URL, threads: Int, allowTestFixture: Bool) throws {
        let specs = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) }
        let b: ModelBundle
        do { b = try ModelBundle.load(from: bundle, expecting: specs) } catch {
            throw ConfigError("model bundle \(bundle.path) cannot be used: \(error)")
        }
        if b.manifest.isTestFixture && !allowTestFixture {
            throw ConfigError("""
                model bundle \(bundle.path) is a random test fixture (\(b.manifest.intendedUse)); refusing to score with it. \
                Import trained weights with `brixia model import-keras` (BRIXIA_ALLOW_TEST_FIXTURE=1 is for software tests only).
                """)
        }
        isTestFixture = b.manifest.isTestFixture
        net = try BSNet(weights: b.weights, threads: threads)
        manifest = b.manifest
        qcBounds = try QualityCheck.Thresholds(model: b.manifest, bundle: bundle.path)
        model = b.manifest.identity
    }

    public func score(file: URL, metadata: InstanceMetadata) throws -> ImageScore {
        let t0 = Date()
        let input: [Float]
        let provenance: InputProvenance
        do {
            let f = try DicomFile(path: file.path)
            let (px, voi) = try f.decodeDisplay()
            provenance = Self.provenance(f.instance, voi: voi)
            input = Preprocessor.modelInput(from: try DisplayImage(width: px.width, height: px.height, pixels: px.values))
        } catch let e as DicomError {
            switch e {
            case .fileNotFound, .unreadable, .internalError: throw e
            default: throw InputRejection(file: file.path, reason: e.reason)
            }
        } catch let e as ImagingError {
            throw InputRejection(file: file.path, reason: "\(e)")
        }
        let t1 = Date()
        lock.lock(); defer { lock.unlock() }
        let out = try manifest.output(of: net, for: input)
        // The image-content check (docs/quality-check.md). A random test fixture segments nothing, so it would
        // refuse every image; fixtures never score patients (refused unless allowTestFixture).
        if !isTestFixture {
            let qc = try QualityCheck.check(segmentation: out.segmentation, input: input, thresholds: qcBounds) { try self.net.run($0).segmentation }
            if let reason = qc.reason {
                throw ContentCheckFailure(file: file.path, reason: reason, measures: Self.measures(qc.measures),
                                          provenance: provenance)
            }
        }
        var confidence: CalibratedConfidence?
        if let calibration = manifest.calibration {
            // Validated when the bundle was loaded (ModelManifest.Calibration.validated); applied by `output`.
            let c = out.scoreConfidence
            confidence = CalibratedConfidence(zones: c.zones, study: c.study, temperature: calibration.temperature,
                                              lowBelow: calibration.lowConfidenceBelow)
        }
        let grades = Zone.allCases.map { out.grades[$0]! }
        let probs = Zone.allCases.map { out.probabilities($0) }
        var score = ImageScore(zoneGrades: grades, zoneProbabilities: probs, theta: out.theta.map(Double.init),
                               timingsMS: ["decode+preprocess": t1.timeIntervalSince(t0) * 1000,
                                           "network": Date().timeIntervalSince(t1) * 1000])
        score.provenance = provenance
        score.confidence = confidence
        return score
    }

    static func measures(_ m: QualityCheck.Measures) -> [String: Double] {
        ["lungFraction": m.lungFraction, "symmetry": m.symmetry, "largestTwoShare": m.largestTwoShare,
         "polarityMargin": m.polarityMargin, "singleLungMargin": m.singleLungMargin, "modeShare": m.modeShare,
         "rightLungFraction": m.rightLungFraction, "leftLungFraction": m.leftLungFraction,
         "heartWidening": m.heartWidening, "rightBaseLaterality": m.baseLaterality.right,
         "leftBaseLaterality": m.baseLaterality.left, "uprightness": m.uprightness]
            .merging(m.turnedUprightness.map { ["turnedUprightness": $0] } ?? [:]) { a, _ in a }
            .merging(m.invertedPolarityMargin.map { ["invertedPolarityMargin": $0] } ?? [:]) { a, _ in a }
    }

    /// Lossy compression (attribute or transfer syntax) and the display path the network's input went through.
    static func provenance(_ d: DicomInstance, voi: VOISource) -> InputProvenance {
        let ts = d.transferSyntaxUID
        let lossySyntax = !ts.isEmpty && TransferSyntax.isSupported(ts) && !TransferSyntax.lossless.contains(ts)
        let pi = d.geometry.photometricInterpretation
        let inverted = (pi == "MONOCHROME1") != (d.presentation.presentationLUTShape.uppercased() == "INVERSE" && pi != "MONOCHROME1")
        return InputProvenance(transferSyntaxUID: ts.isEmpty ? nil : ts,
                               lossy: d.lossyImageCompression == "01" || lossySyntax,
                               lossyRatio: d.lossyImageCompressionRatio, lossyMethod: d.lossyImageCompressionMethod,
                               photometricInterpretation: pi.isEmpty ? nil : pi, inverted: inverted, voi: voi.rawValue)
    }
}
