/// BS-Net as data: the list of layers the engine interprets. Node names are the Keras layer names
/// where a Keras layer with that output exists (so intermediates can be compared by name); weight
/// prefixes are the Keras weight-name prefixes. Conv -> BN (-> activation) chains are one node, and
/// the BN is folded into the conv at load time: that is exact only because the BN directly follows the
/// conv. The pre-activation BNs of the ResNet follow an Add (or the input) and stay standalone.
public enum Stage: String, CaseIterable, Sendable { case encoder, decoder, stn, head }

public struct BatchNormRef: Sendable {
    public var prefix: String
    public var epsilon: Double
    public var hasGamma: Bool = true
}

public struct ConvSpec: Sendable {
    public var weights: String
    public var filters: Int
    public var kernel: Int
    public var stride: Int = 1
    public var pad: Int = 0
    public var bias: Bool = false
    public var bn: BatchNormRef? = nil
    public var activation: Activation = .none
}

public enum LayerOp: Sendable {
    case input
    /// Standalone inference BatchNorm + activation.
    case batchNorm(BatchNormRef, Activation)
    /// Conv2D over the channel concatenation of all inputs (the U-Net++ merges are implicit).
    case conv(ConvSpec)
    /// Conv2DTranspose 4x4 / 2, 'same', no bias; weights = prefix, optional folded BN.
    case convTranspose(weights: String, filters: Int, bn: BatchNormRef?, activation: Activation)
    case maxPool(kernel: Int, stride: Int, pad: Int)
    case add
    case dense(weights: String, units: Int, activation: Activation)
    /// inputs: [features, theta]. The authors' BilinearInterpolation, output size = input size.
    case stnSample
    /// tf.image.resize bilinear half-pixel to (size, size).
    case resize(size: Int)
    /// inputs: [features, one-channel mask].
    case multiplyMask
    /// pool_rois: (1,H,W,C) -> (6,H,W,C).
    case cropZones
    /// Batch item r of a (6,...) tensor.
    case selectItem(Int)
    case globalAveragePool
    case softmax
    /// Element-wise mean of all inputs (same shape): the score heads' probabilities averaged.
    case mean
}

public struct LayerSpec: Sendable {
    public var name: String
    public var op: LayerOp
    public var inputs: [String]
    public var stage: Stage
}

public enum BSNetArchitecture {
    public static let inputSize = 512
    public static let decoderFilters: [Int: Int] = [5: 16, 4: 256, 3: 128, 2: 64, 1: 32]

    /// Keras' per-process name counter: "base", "base_1", "base_2", ...
    static func kerasName(_ base: String, _ i: Int) -> String { i == 0 ? base : "\(base)_\(i)" }

    public static var segmentationOutput: String { "sigmoid" }
    public static var thetaOutput: String { "stn" }
    public static var alignedOutput: String { "alignmnet_segmentation" }
    public static var softmaxOutputs: [String] { softmaxOutputs(scoreHeads: 1) }

    /// Most score heads one bundle may carry (an ensemble sharing the trunk).
    public static let maxScoreHeads = 16

    /// Node- and weight-name prefix of score head `h` (0: the authors' head, unprefixed; h >= 1: "head<h>/").
    public static func headPrefix(_ h: Int) -> String { h == 0 ? "" : "head\(h)/" }

    /// The six per-region probability outputs: the head's softmaxes, or with several heads their means.
    public static func softmaxOutputs(scoreHeads: Int) -> [String] {
        (0..<6).map { scoreHeads > 1 ? "ensemble_mean_\($0)" : "activation_\(4 * $0 + 3)" }
    }

    /// The authors' BS-Net: one score head.
    public static let layers: [LayerSpec] = layers(scoreHeads: 1)

    /// BS-Net with `scoreHeads` score heads (FPN + six classifiers each) on the same gated features; their
    /// per-region probabilities are averaged (BS-Net-Ens style, docs/model-bundle.md "Several score heads").
    public static func layers(scoreHeads: Int) -> [LayerSpec] {
        precondition((1...maxScoreHeads).contains(scoreHeads), "score heads: \(scoreHeads)")
        var l = encoder() + decoder() + stn() + gating()
        for h in 0..<scoreHeads { l += classifier(prefix: headPrefix(h)) }
        if scoreHeads > 1 {
            for r in 0..<6 {
                l.append(LayerSpec(name: "ensemble_mean_\(r)", op: .mean,
                                   inputs: (0..<scoreHeads).map { headPrefix($0) + "activation_\(4 * r + 3)" }, stage: .head))
            }
        }
        return l
    }

    static func encoder() -> [LayerSpec] {
        var l: [LayerSpec] = []
        func add(_ name: String, _ op: LayerOp, _ inputs: [String]) { l.append(LayerSpec(name: name, op: op, inputs: inputs, stage: .encoder)) }
        let eps = 2e-5
        add("data", .input, [])
        add("bn_data", .batchNorm(BatchNormRef(prefix: "bn_data", epsilon: eps, hasGamma: false), .none), ["data"])
        add("relu0", .conv(ConvSpec(weights: "conv0", filters: 64, kernel: 7, stride: 2, pad: 3,
                                    bn: BatchNormRef(prefix: "bn0", epsilon: eps), activation: .relu)), ["bn_data"])
        add("pooling0", .maxPool(kernel: 3, stride: 2, pad: 1), ["relu0"])
        var x = "pooling0"
        var addIndex = 0
        for s in 1...4 {
            let f = 64 << (s - 1)
            for u in 1...2 {
                let p = "stage\(s)_unit\(u)_"
                let stride = (u == 1 && s > 1) ? 2 : 1
                add(p + "relu1", .batchNorm(BatchNormRef(prefix: p + "bn1", epsilon: eps), .relu), [x])
                add(p + "relu2", .conv(ConvSpec(weights: p + "conv1", filters: f, kernel: 3, stride: stride, pad: 1,
                                                bn: BatchNormRef(prefix: p + "bn2", epsilon: eps), activation: .relu)), [p + "relu1"])
                add(p + "conv2", .conv(ConvSpec(weights: p + "conv2", filters: f, kernel: 3, pad: 1)), [p + "relu2"])
                let shortcut: String
                if u == 1 {
                    // Projection shortcut on the *activated* unit input.
                    add(p + "sc", .conv(ConvSpec(weights: p + "sc", filters: f, kernel: 1, stride: stride)), [p + "relu1"])
                    shortcut = p + "sc"
                } else {
                    shortcut = x   // identity: the raw, pre-BN unit input
                }
                let name = kerasName("add", addIndex); addIndex += 1
                add(name, .add, [p + "conv2", shortcut])
                x = name
            }
        }
        add("relu1", .batchNorm(BatchNormRef(prefix: "bn1", epsilon: eps), .relu), [x])
        return l
    }

    static func decoder() -> [LayerSpec] {
        var l: [LayerSpec] = []
        let eps = 1e-3
        let skip: [Int: String] = [5: "stage4_unit1_relu1", 4: "stage3_unit1_relu1", 3: "stage2_unit1_relu1", 2: "relu0"]
        let down: [Int: String] = [5: "relu1", 4: "stage3_unit2_relu1", 3: "stage2_unit2_relu1", 2: "stage1_unit2_relu1", 1: "decoder_stage2-4_relu2"]
        func block(_ i: Int, _ j: Int) {
            let p = "decoder_stage\(i)-\(j)_"
            let f = decoderFilters[i]!
            let upIn = (j == 1 || i == 1) ? down[i]! : "decoder_stage\(i + 1)-\(j - 1)_relu2"
            l.append(LayerSpec(name: p + "relu1", op: .convTranspose(weights: p + "upsample", filters: f,
                                                                     bn: BatchNormRef(prefix: p + "bn1", epsilon: eps), activation: .relu),
                               inputs: [upIn], stage: .decoder))
            var merge = [p + "relu1"]
            if i > 1 {
                merge.append(skip[i]!)
                merge += (1..<j).map { "decoder_stage\(i)-\($0)_relu2" }
            }
            l.append(LayerSpec(name: p + "relu2", op: .conv(ConvSpec(weights: p + "conv2", filters: f, kernel: 3, pad: 1,
                                                                      bn: BatchNormRef(prefix: p + "bn2", epsilon: eps), activation: .relu)),
                               inputs: merge, stage: .decoder))
        }
        // Column-major over the U-Net++ grid: block I-J only needs blocks of earlier columns.
        for j in 1...4 { for i in stride(from: 5, through: 2, by: -1) where j <= 6 - i { block(i, j) } }
        block(1, 5)
        l.append(LayerSpec(name: "sigmoid", op: .conv(ConvSpec(weights: "final_conv", filters: 1, kernel: 3, pad: 1, bias: true,
                                                               activation: .sigmoid)),
                           inputs: ["decoder_stage1-5_relu2"], stage: .decoder))
        return l
    }

    static func stn() -> [LayerSpec] {
        func n(_ name: String, _ op: LayerOp, _ inputs: [String]) -> LayerSpec { LayerSpec(name: name, op: op, inputs: inputs, stage: .stn) }
        return [
            n("locnet_input_adaptation", .maxPool(kernel: 4, stride: 4, pad: 0), ["sigmoid"]),
            n("locnet_pooling0", .maxPool(kernel: 2, stride: 2, pad: 0), ["locnet_input_adaptation"]),
            n("locnet_conv0", .conv(ConvSpec(weights: "stn/locnet_conv0", filters: 20, kernel: 5, bias: true)), ["locnet_pooling0"]),
            n("locnet_pooling1", .maxPool(kernel: 2, stride: 2, pad: 0), ["locnet_conv0"]),
            n("locnet_conv1", .conv(ConvSpec(weights: "stn/locnet_conv1", filters: 20, kernel: 5, bias: true)), ["locnet_pooling1"]),
            // Flatten is free in NHWC: the HWC order is Keras' Flatten order.
            n("locnet_relu", .dense(weights: "stn/locnet_dense", units: 50, activation: .relu), ["locnet_conv1"]),
            n("stn", .dense(weights: "stn/locnet_alignment", units: 6, activation: .none), ["locnet_relu"]),
            n("alignmnet_segmentation", .stnSample, ["sigmoid", "stn"]),
        ]
    }

    /// The head's input: encoder features warped by the STN, gated by the aligned mask, cropped into zones.
    static func gating() -> [LayerSpec] {
        var l: [LayerSpec] = []
        func add(_ name: String, _ op: LayerOp, _ inputs: [String]) { l.append(LayerSpec(name: name, op: op, inputs: inputs, stage: .head)) }
        let taps: [(String, Int)] = [("stage1_unit1_relu1", 128), ("stage2_unit2_relu1", 64),
                                     ("stage3_unit2_relu1", 32), ("stage4_unit2_relu1", 16)]
        for (k, (feature, size)) in taps.enumerated() {
            let warped = kerasName("bilinear_interpolation", k)
            add(warped, .stnSample, [feature, "stn"])
            add(kerasName("tf.image.resize", k), .resize(size: size), ["alignmnet_segmentation"])
            add(kerasName("tf.math.multiply", k), .multiplyMask, [warped, kerasName("tf.image.resize", k)])
            add(kerasName("lambda", k), .cropZones, [kerasName("tf.math.multiply", k)])
        }
        return l
    }

    /// One score head (FPN + six classifiers) on the gated features; every node and weight name of a head
    /// other than the first is prefixed with `prefix`.
    static func classifier(prefix p: String) -> [LayerSpec] {
        var l: [LayerSpec] = []
        // Inputs that are not the gated features ("lambda*") belong to this head.
        func add(_ name: String, _ op: LayerOp, _ inputs: [String]) {
            l.append(LayerSpec(name: p + name, op: op, inputs: inputs.map { $0.hasPrefix("lambda") ? $0 : p + $0 }, stage: .head))
        }
        func conv(_ w: String, _ f: Int, _ k: Int, _ act: Activation = .none) -> LayerOp {
            .conv(ConvSpec(weights: p + w, filters: f, kernel: k, pad: k / 2, bias: true, activation: act))
        }
        add("C1_reduced", conv("C1_reduced", 64, 1), ["lambda"])
        add("P1_upsampled", .resize(size: 64), ["C1_reduced"])
        add("P1_swish", conv("P1", 64, 3, .swish), ["P1_upsampled"])
        add("Cmid0_reduced", conv("Cmid0_reduced", 64, 1), ["lambda_1"])
        add("Pmid0_merged", .add, ["P1_swish", "Cmid0_reduced"])
        add("Pmid0_upsampled", .resize(size: 32), ["Pmid0_merged"])
        add("Pmid0_swish", conv("Pmid0", 128, 3, .swish), ["Pmid0_upsampled"])
        add("Cmid1_reduced", conv("Cmid1_reduced", 128, 1), ["lambda_2"])
        add("Pmid1_merged", .add, ["Pmid0_swish", "Cmid1_reduced"])
        add("Pmid1_upsampled", .resize(size: 16), ["Pmid1_merged"])
        add("Pmid1_swish", conv("Pmid1", 256, 3, .swish), ["Pmid1_upsampled"])
        add("C5_reduced", conv("C5_reduced", 256, 1), ["lambda_3"])
        add("P5_merged", .add, ["Pmid1_swish", "C5_reduced"])
        add("P5_swish", conv("P5", 512, 3, .swish), ["P5_merged"])
        for r in 0..<6 {
            let prefix = kerasName("retina_net_classifier", r)
            var x = kerasName("tf.__operators__.getitem", r)
            add(x, .selectItem(r), ["P5_swish"])
            for i in 0..<3 {
                let block = "\(prefix)/" + kerasName("conv_block", 3 * r + i)
                add(block, .conv(ConvSpec(weights: p + block + "/" + kerasName("conv2d", 4 * r + i), filters: 8, kernel: 3, pad: 1, bias: true,
                                          bn: BatchNormRef(prefix: p + block + "/" + kerasName("batch_normalization", 3 * r + i), epsilon: 1e-3),
                                          activation: .swish)), [x])
                x = block
            }
            add(prefix, conv("\(prefix)/conv2d_\(4 * r + 3)", 4, 3), [x])
            add(kerasName("global_average_pooling2d", r), .globalAveragePool, [prefix])
            add("activation_\(4 * r + 3)", .softmax, [kerasName("global_average_pooling2d", r)])
        }
        return l
    }
}
