import BSNetEngine

/// One weight-carrying Keras layer: its group name and its weights, in the order Keras stores
/// them (`weight_names`: trainable weights, then non-trainable).
public struct KerasLayerSpec: Sendable, Equatable {
    public let name: String
    public let weights: [ExpectedTensor]
    public init(name: String, weights: [ExpectedTensor]) {
        self.name = name
        self.weights = weights
    }
}

/// The authors' score model (`bscore_model`) as Keras' h5 loader sees it: the 100 weight-carrying
/// layers in `model.layers` order, with the name every weight has when the model is the first one
/// built in its Python process (counters at 0). This is what Keras' positional rule for h5 weights
/// matches a file against (docs/model-bundle.md, "Keras h5 naming" in the architecture notes).
public enum BSNetKerasLayout {
    /// Layer and tensor names, in h5 order (shapes come from the engine's list).
    public static let names: [(layer: String, tensors: [String])] = {
        var out: [(String, [String])] = []
        func add(_ layer: String, _ leaves: [String]) { out.append((layer, leaves.map { "\(layer)/\($0)" })) }
        let bn = ["gamma", "beta", "moving_mean", "moving_variance"]
        // ResNet18 v2 backbone.
        add("bn_data", ["beta", "moving_mean", "moving_variance"])  // scale=False: no gamma
        add("conv0", ["kernel"])
        add("bn0", bn)
        for stage in 1...4 {
            for unit in 1...2 {
                let p = "stage\(stage)_unit\(unit)_"
                add(p + "bn1", bn); add(p + "conv1", ["kernel"]); add(p + "bn2", bn); add(p + "conv2", ["kernel"])
                if unit == 1 { add(p + "sc", ["kernel"]) }
            }
        }
        add("bn1", bn)
        // U-Net++ decoder: Keras orders its layers by depth, so the stages interleave.
        let decoder = """
            5-1_upsample 5-1_bn1 4-1_upsample 5-1_conv2 4-1_bn1 5-1_bn2 3-1_upsample 4-2_upsample 4-1_conv2 3-1_bn1
            4-2_bn1 4-1_bn2 2-1_upsample 3-1_conv2 3-2_upsample 2-1_bn1 4-2_conv2 3-1_bn2 3-2_bn1 4-2_bn2 2-1_conv2
            2-2_upsample 3-3_upsample 3-2_conv2 2-1_bn2 2-2_bn1 3-3_bn1 3-2_bn2 2-2_conv2 2-3_upsample 3-3_conv2
            2-2_bn2 2-3_bn1 3-3_bn2 2-4_upsample 2-3_conv2 2-4_bn1 2-3_bn2 2-4_conv2 2-4_bn2 1-5_upsample 1-5_bn1
            1-5_conv2 1-5_bn2
            """.split(whereSeparator: { $0 == " " || $0 == "\n" })
        for block in decoder {
            add("decoder_stage\(block)", block.hasSuffix("upsample") || block.hasSuffix("conv2") ? ["kernel"] : bn)
        }
        add("final_conv", ["kernel", "bias"])
        add("stn", ["locnet_conv0", "locnet_conv1", "locnet_dense", "locnet_alignment"].flatMap { ["\($0)/kernel", "\($0)/bias"] })
        for fpn in ["C1_reduced", "P1", "Cmid0_reduced", "Pmid0", "Cmid1_reduced", "Pmid1", "C5_reduced", "P5"] {
            add(fpn, ["kernel", "bias"])
        }
        // Six RetinaNetClassifiers; nested names carry per-process counters (suffix empty at 0).
        func k(_ n: Int) -> String { n == 0 ? "" : "_\(n)" }
        for r in 0..<6 {
            var leaves: [String] = []
            for i in 0..<3 {
                let block = "conv_block\(k(3 * r + i))"
                leaves += ["\(block)/conv2d\(k(4 * r + i))/kernel", "\(block)/conv2d\(k(4 * r + i))/bias",
                           "\(block)/batch_normalization\(k(3 * r + i))/gamma", "\(block)/batch_normalization\(k(3 * r + i))/beta"]
            }
            leaves += ["conv2d\(k(4 * r + 3))/kernel", "conv2d\(k(4 * r + 3))/bias"]
            for i in 0..<3 {
                let bnName = "conv_block\(k(3 * r + i))/batch_normalization\(k(3 * r + i))"
                leaves += ["\(bnName)/moving_mean", "\(bnName)/moving_variance"]
            }
            add("retina_net_classifier\(k(r))", leaves)
        }
        return out
    }()

    /// The score model's layers with shapes from `shapes` (by name; the engine's `BSNet.tensorSpecs`
    /// by default). Every layout tensor must be in `shapes`: a missing one is a programming error.
    public static func scoreModel(shapes: [ExpectedTensor] = BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) })
        -> [KerasLayerSpec] {
        let byName = Dictionary(shapes.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        return names.map { layer in
            KerasLayerSpec(name: layer.layer, weights: layer.tensors.map { name in
                guard let shape = byName[name] else { preconditionFailure("BSNetKerasLayout: no shape for '\(name)'") }
                return ExpectedTensor(name: name, shape: shape)
            })
        }
    }
}
