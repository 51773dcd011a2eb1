import BSNetEngine
import Dispatch
import Foundation

/// Explainability configuration (per installation). Off by default in a pipeline would be reasonable;
/// here `enabled` is the switch the callers check.
public struct ExplainConfiguration: Sendable, Equatable {
    public var enabled: Bool = true
    public var slic: SlicParameters = .init()
    /// Lung mask = BS-Net segmentation (not aligned) > threshold, as in the reference code.
    public var maskThreshold: Float = 0.5
    /// Nice level the explain command applies to its whole process (0 = leave as is).
    public var niceLevel: Int32 = 10
    /// Recompute only what an occlusion changes (`OcclusionRunner`: the same scores up to float rounding,
    /// about half the work); false runs the whole network per occlusion (for comparisons).
    public var reuse: Bool = true
    public init(enabled: Bool = true, slic: SlicParameters = .init(), maskThreshold: Float = 0.5, niceLevel: Int32 = 10,
                reuse: Bool = true) {
        self.enabled = enabled; self.slic = slic; self.maskThreshold = maskThreshold; self.niceLevel = niceLevel
        self.reuse = reuse
    }
}

/// Everything an explanation produced, at the 512x512 model-input resolution.
public struct Explanation: Sendable {
    public let size: Int
    /// The model input that was explained (values in [0,1]).
    public let input: [Float]
    public let lungMask: [Bool]
    /// Super-pixels of the whole image before restriction, and the lung super-pixels that were occluded.
    public let allSuperPixels: SuperPixels
    public let superPixels: SuperPixels
    public let baseline: [[Float]]
    public let maps: OcclusionMaps
    public let seconds: Double
    public let slicSeconds: Double

    /// Per-pixel relevance for grade c (0 outside the lung super-pixels).
    public func gradeMap(_ c: Int) -> [Float] { perPixel { maps.positive[$0][c] } }
    public func negativeMap(_ c: Int) -> [Float] { perPixel { maps.negative[$0][c] } }
    public var strengthMap: [Float] { let s = maps.strength; return perPixel { s[$0] } }
    /// Argmax grade per pixel, -1 outside the lung super-pixels or where nothing changed.
    public var classMap: [Int] {
        let cls = maps.classes
        return superPixels.labels.map { $0 > 0 ? (cls[Int($0) - 1] ?? -1) : -1 }
    }

    func perPixel(_ f: (Int) -> Float) -> [Float] {
        superPixels.labels.map { $0 > 0 ? f(Int($0) - 1) : 0 }
    }

    public init(size: Int, input: [Float], lungMask: [Bool], allSuperPixels: SuperPixels, superPixels: SuperPixels,
                baseline: [[Float]], maps: OcclusionMaps, seconds: Double, slicSeconds: Double) {
        self.size = size; self.input = input; self.lungMask = lungMask; self.allSuperPixels = allSuperPixels
        self.superPixels = superPixels; self.baseline = baseline; self.maps = maps; self.seconds = seconds
        self.slicSeconds = slicSeconds
    }
}

public enum Explainer {
    /// Explains `network`'s scores on `input` (512*512 model input). The score of every occluded input is
    /// the whole network's, so the segmentation, STN alignment and attention mask are recomputed for each
    /// occlusion, as the reference re-ran the full model; with `configuration.reuse` only the parts an
    /// occlusion can change are computed again (`OcclusionRunner`). `baseline` may pass a run already done.
    public static func explain(network: BSNet, input: [Float], baseline: BSNetOutput? = nil,
                               configuration: ExplainConfiguration = .init(),
                               progress: ((Int, Int) -> Void)? = nil) throws -> Explanation {
        try explain(networks: [network], input: input, baseline: baseline, configuration: configuration, progress: progress)
    }

    /// As above, with the occluded inputs spread over several networks of the same weights, one per
    /// worker thread (each BSNet runs one input at a time). On this CPU engine two single-threaded
    /// networks in parallel score more inputs per second than one two-threaded network (see
    /// docs/performance.md); the maps are identical to a serial run of `networks[0]`.
    /// `shared`: the baseline intermediates for reuse, if the caller captured them already (saves a pass).
    public static func explain(networks: [BSNet], input: [Float], baseline: BSNetOutput? = nil,
                               shared: OcclusionBaseline? = nil,
                               configuration: ExplainConfiguration = .init(),
                               progress: ((Int, Int) -> Void)? = nil) throws -> Explanation {
        precondition(!networks.isEmpty, "at least one network")
        guard configuration.reuse else {
            let scorers: [RegionScorer] = networks.map { net in { try net.run($0).regionProbabilities } }
            return try explain(input: input, baseline: baseline ?? networks[0].run(input), configuration: configuration,
                               scorers: scorers, progress: progress)
        }
        precondition(shared == nil || shared!.input == input, "shared baseline of another input")
        let common = try shared ?? OcclusionBaseline(network: networks[0], input: input)
        let runners = networks.map { OcclusionRunner(network: $0, baseline: common) }
        let scorers: [RegionScorer] = runners.map { r in { try r.run($0) } }
        return try explain(input: input, baseline: baseline ?? common.output, configuration: configuration,
                           scorers: scorers, progress: progress)
    }

    /// As above with any scorer (tests use a small fake one).
    public static func explain(input: [Float], baseline: BSNetOutput, configuration: ExplainConfiguration = .init(),
                               score: RegionScorer, progress: ((Int, Int) -> Void)? = nil) throws -> Explanation {
        try withoutActuallyEscaping(score) { s in
            try explain(input: input, baseline: baseline, configuration: configuration, scorers: [s], progress: progress)
        }
    }

    /// As above with one scorer per worker thread.
    public static func explain(input: [Float], baseline: BSNetOutput, configuration: ExplainConfiguration = .init(),
                               scorers: [RegionScorer], progress: ((Int, Int) -> Void)? = nil) throws -> Explanation {
        guard configuration.enabled else { throw ExplainError.disabled }
        let size = BSNetArchitecture.inputSize
        guard input.count == size * size else { throw ExplainError.inputSize(expected: size * size, found: input.count) }
        let start = DispatchTime.now().uptimeNanoseconds
        let mask = baseline.segmentation.map { $0 > configuration.maskThreshold }
        guard mask.contains(true) else { throw ExplainError.emptyLungMask }
        let all = Slic.segment(input, width: size, height: size, parameters: configuration.slic)
        let slicEnd = DispatchTime.now().uptimeNanoseconds
        let lung = all.restricted(to: mask)
        let maps = try Occlusion.run(input: input, superPixels: lung, baseline: baseline.regionProbabilities,
                                     scorers: scorers, progress: progress)
        let end = DispatchTime.now().uptimeNanoseconds
        return Explanation(size: size, input: input, lungMask: mask, allSuperPixels: all, superPixels: lung,
                           baseline: baseline.regionProbabilities, maps: maps,
                           seconds: Double(end - start) / 1e9, slicSeconds: Double(slicEnd - start) / 1e9)
    }
}
