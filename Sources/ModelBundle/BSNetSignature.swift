/// A short list of tensors, spanning every stage of BS-Net (backbone, U-Net++ decoder, STN,
/// FPN, the six score heads), with their Keras shapes from the authors' model (layers.txt).
/// The importer uses it to tell "Keras weights, but not BS-Net" from the real thing while the
/// engine's complete list (`BSNet.tensorSpecs`, 352 tensors) is not available here; callers
/// that have the complete list should pass it instead.
public enum BSNetSignature {
    public static let tensors: [ExpectedTensor] = [
        .init(name: "bn_data/moving_mean", shape: [1]),
        .init(name: "conv0/kernel", shape: [7, 7, 1, 64]),
        .init(name: "stage4_unit2_conv2/kernel", shape: [3, 3, 512, 512]),
        .init(name: "bn1/moving_mean", shape: [512]),
        .init(name: "decoder_stage5-1_upsample/kernel", shape: [4, 4, 16, 512]),
        .init(name: "decoder_stage1-5_conv2/kernel", shape: [3, 3, 32, 32]),
        .init(name: "final_conv/kernel", shape: [3, 3, 32, 1]),
        .init(name: "final_conv/bias", shape: [1]),
        .init(name: "stn/locnet_conv0/kernel", shape: [5, 5, 1, 20]),
        .init(name: "stn/locnet_dense/kernel", shape: [13520, 50]),
        .init(name: "stn/locnet_alignment/kernel", shape: [50, 6]),
        .init(name: "stn/locnet_alignment/bias", shape: [6]),
        .init(name: "C5_reduced/kernel", shape: [1, 1, 512, 256]),
        .init(name: "P5/kernel", shape: [3, 3, 256, 512]),
        .init(name: "retina_net_classifier/conv_block/conv2d/kernel", shape: [3, 3, 512, 8]),
        .init(name: "retina_net_classifier/conv2d_3/kernel", shape: [3, 3, 8, 4]),
        .init(name: "retina_net_classifier_5/conv_block_15/conv2d_20/kernel", shape: [3, 3, 512, 8]),
        .init(name: "retina_net_classifier_5/conv2d_23/kernel", shape: [3, 3, 8, 4]),
        .init(name: "retina_net_classifier_5/conv_block_17/batch_normalization_17/moving_variance", shape: [8]),
    ]
}
