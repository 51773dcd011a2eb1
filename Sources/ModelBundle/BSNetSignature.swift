import BSNetEngine

/// The tensors a BS-Net bundle or Keras file must hold, with their Keras shapes: the engine's own list
/// (`BSNet.tensorSpecs`, 352 tensors: backbone, U-Net++ decoder, STN, FPN, the six score heads), so the importer,
/// `model verify`, the explanation worker and the engine check one and the same thing.
public enum BSNetSignature {
    public static var tensors: [ExpectedTensor] { BSNet.tensorSpecs.map { ExpectedTensor(name: $0.name, shape: $0.shape) } }
}
