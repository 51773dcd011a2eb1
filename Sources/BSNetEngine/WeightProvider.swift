/// The contract between model bundles (ModelBundle) and the engine.
///
/// Tensor names are the authors' Keras weight names without the ":0" suffix
/// (e.g. `conv0/kernel`, `stn/locnet_dense/bias`,
/// `retina_net_classifier_1/conv_block_3/conv2d_4/kernel`), and shapes/layouts are Keras':
/// Conv2D (kh,kw,in,out), Conv2DTranspose (kh,kw,out,in), Dense (in,out), BN vectors (C).
/// Keeping the Keras naming means the importer is a pure copy and every provenance question
/// can be answered by looking at the authors' h5 file.
public struct WeightTensor: Sendable {
    public var shape: [Int]
    public var values: [Float]
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not match \(values.count) values")
        self.shape = shape
        self.values = values
    }
}

public protocol WeightProvider {
    /// All tensor names available.
    var tensorNames: [String] { get }
    /// The tensor with this name; throws when missing.
    func tensor(named name: String) throws -> WeightTensor
}
