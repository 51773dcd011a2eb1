/// Values of the shared reference weights file, recorded independently of this code with h5py
/// 3.16 / numpy 2.4 in a throwaway venv:
///   f = h5py.File("bscore_scaled_weights.h5"); a = np.asarray(f[layer][name + ":0"]); flat = a.reshape(-1)
///   samples = (i, str(np.float32(flat[i]))) for i in {0, len//2, len-1}
///   sha256 = hashlib.sha256(a.astype("<f4").tobytes()).hexdigest()   (whole tensor, C order)
/// One or more tensors of every kind: BN with and without gamma, Conv2D, 1x1 shortcut,
/// Conv2DTranspose, final conv bias, STN dense, FPN conv, head conv and head BN.
struct ReferenceTensor {
    let name: String
    let shape: [Int]
    let samples: [(Int, Float)]
    let sha256: String
}

let referenceTensors: [ReferenceTensor] = [
    .init(name: "bn_data/moving_variance", shape: [1], samples: [(0, 0.07576201)], sha256: "ae65adc4305b188c2fc9c074f5e292578cb357c0d0bb9aa5d4a802057f3ed402"),
    .init(name: "conv0/kernel", shape: [7, 7, 1, 64], samples: [(0, 0.008743126), (1568, 0.029528756), (3135, -0.0046979263)], sha256: "b2280ba67aa4be9526b367e3f8382ea8df6e32f906215de79dfab8756575a322"),
    .init(name: "bn0/gamma", shape: [64], samples: [(0, 1.1321738), (32, 1.1958408), (63, 1.1945304)], sha256: "188f599a83c7f0491d11c512b3c3e00660c725b26dbfd9e0b06abe901297d2ab"),
    .init(name: "bn0/moving_variance", shape: [64], samples: [(0, 0.010990153), (32, 0.022228746), (63, 0.035078388)], sha256: "e2abfeb65f8a8d936e1662755b3355ccdb46f1738a16170703a189cd1bc6b0a9"),
    .init(name: "stage3_unit1_sc/kernel", shape: [1, 1, 128, 256], samples: [(0, 0.051583648), (16384, -0.064541996), (32767, -0.07155442)], sha256: "9061c5ea72749102fafb377959a11cc4f624082449dc74bd31a5681a0f4817a1"),
    .init(name: "decoder_stage5-1_upsample/kernel", shape: [4, 4, 16, 512], samples: [(0, -0.019505493), (65536, 0.012019627), (131071, -0.020269826)], sha256: "663e0e49ccf71b1c5a4fe1e2c30e52c8a3f6fac228236079aafbb504c89ac6e6"),
    .init(name: "decoder_stage2-3_bn2/moving_mean", shape: [64], samples: [(0, -0.013540062), (32, -0.16784453), (63, -1.0407621)], sha256: "4d0b42a3dbfb650a327d290ea91b2b77f756a6ec62f033e70bbe54cef05045bc"),
    .init(name: "final_conv/bias", shape: [1], samples: [(0, 0.40001994)], sha256: "64ac13798e1437365bf970cdd72c1f6290bc7f3ff2f4f154869e71480a2f01c3"),
    .init(name: "stn/locnet_dense/kernel", shape: [13520, 50], samples: [(0, -0.016782805), (338000, -0.014877547), (675999, 0.0046065934)], sha256: "e27d40c7fcfc05c990b117515e15f835e6e8b6818135eb438bf584a3965ea476"),
    .init(name: "stn/locnet_alignment/bias", shape: [6], samples: [(0, 1.0437639), (3, 0.0630718), (5, -0.036799997)], sha256: "8ed04b4114cc8455b10115cd09416b642d4672cb47ff1278b7acda464a17ffae"),
    .init(name: "P5/bias", shape: [512], samples: [(0, 0.0), (256, 0.0), (511, 0.0)], sha256: "e5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad"),
    .init(name: "Cmid0_reduced/kernel", shape: [1, 1, 128, 64], samples: [(0, 0.1562915), (4096, -0.058990963), (8191, -0.011610523)], sha256: "abe02cdd47fde1529811a4450da411515f21aaafc3a7365b0ca9b90a31fc3536"),
    .init(name: "retina_net_classifier_1/conv_block_3/conv2d_4/kernel", shape: [3, 3, 512, 8], samples: [(0, -0.021251636), (18432, 0.022062782), (36863, -0.028446054)], sha256: "1e4bf30dea94a1db4e1b64ead3da467555a6e49d76ae4cc0836f55f72ef0f6e2"),
    .init(name: "retina_net_classifier_3/conv2d_15/bias", shape: [4], samples: [(0, 0.27748892), (2, 0.2629618), (3, 0.093783215)], sha256: "231e7a1b9b5eb36759ac9b8e8b9d17e77fae81f4e56c09b7092dc92e0f840c25"),
    .init(name: "retina_net_classifier_5/conv_block_17/batch_normalization_17/moving_variance", shape: [8], samples: [(0, 0.3800994), (4, 0.2448597), (7, 0.30794352)], sha256: "107ca930e1a57e881c3d61662a9f680cffed064c9b1bf68477cbfecd4dec4233"),
]
