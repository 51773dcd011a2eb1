import Testing
import Foundation

/// Locates ../shared (reference data) from this file: repo root is 3 levels up.
enum SharedData {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let root = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let bscoreH5 = root.appendingPathComponent("data/reference/bsnet-keras/bscore_scaled_weights.h5")
    static var available: Bool { FileManager.default.fileExists(atPath: bscoreH5.path) }
}

/// A fresh temporary directory, removed by the caller.
func makeTempDir(_ tag: String = "mb") throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("brixia-\(tag)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

import BSNetEngine
import Crypto
@testable import ModelBundle

/// SHA-256 of the tensor's values as little-endian float32 bytes (numpy "<f4" tobytes()).
func float32SHA256(_ t: WeightTensor) -> String {
    var bytes = [UInt8]()
    bytes.reserveCapacity(t.values.count * 4)
    for v in t.values {
        let b = v.bitPattern
        bytes += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
    }
    return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
}

/// How a Keras version and save call lay out an h5 weights file (the variants Keras loads).
struct KerasFileStyle {
    /// "/" for `save_weights`, "/model_weights" for `model.save`.
    var root = "/"
    /// `model.save` with the optimizer: an /optimizer_weights group beside /model_weights.
    var optimizer = false
    var kerasVersion = "2.21.0"
    /// TF 2.2 era (h5py 2.10): root attributes as fixed-length scalar strings.
    var fixedLengthScalars = false
    /// Weightless layers listed in layer_names (empty weight_names), inserted after the given
    /// weight-carrying layer index: e.g. TF 2.2's `tf_op_layer_...` groups.
    var weightless: [(after: Int, name: String)] = []

    static let saveWeights = KerasFileStyle()
    static let modelSave = KerasFileStyle(root: "/model_weights")
    static let modelSaveWithOptimizer = KerasFileStyle(root: "/model_weights", optimizer: true)
    static let tf22 = KerasFileStyle(kerasVersion: "2.3.0-tf", fixedLengthScalars: true,
                                     weightless: [(0, "tf_op_layer_Mul"), (40, "tf_op_layer_strided_slice_3"), (86, "tf_op_layer_Reshape_1")])
}

/// Tensors grouped into Keras layers as save_weights stores them: consecutive names sharing their first path
/// component form one layer; each weight is named with the ":0" suffix.
func kerasLayers(_ names: [String], tensor: (String) throws -> WeightTensor) rethrows -> [(String, [(String, WeightTensor)])] {
    var layers: [(String, [(String, WeightTensor)])] = []
    for name in names {
        let layer = String(name.split(separator: "/")[0])
        let weight = (name + ":0", try tensor(name))
        if layers.last?.0 == layer { layers[layers.count - 1].1.append(weight) } else { layers.append((layer, [weight])) }
    }
    return layers
}

/// A Keras-2-like weights file written through the test writer: `layers` in order, each with
/// its tensors (names with ":0"), plus the usual root attributes, laid out as `style` says.
func writeKerasLikeH5(at url: URL, layers: [(String, [(String, WeightTensor)])], elementBytes: Int = 4,
                      style: KerasFileStyle = .saveWeights) throws {
    let file = try #require(HDF5File.create(path: url.path))
    var listed = layers
    for w in style.weightless.sorted(by: { $0.after > $1.after }) where w.after < listed.count {
        listed.insert((w.name, []), at: w.after + 1)
    }
    let prefix = style.root == "/" ? "/" : style.root + "/"
    if style.root != "/" {
        try file.createGroup(style.root)
        try file.writeStringsAttribute("model_config", on: "/", [#"{"class_name": "Functional"}"#], scalar: true)
        try file.writeStringsAttribute("keras_version", on: "/", [style.kerasVersion], scalar: true, fixedLength: style.fixedLengthScalars)
    }
    try file.writeStringsAttribute("layer_names", on: style.root, listed.map(\.0))
    try file.writeStringsAttribute("keras_version", on: style.root, [style.kerasVersion], scalar: true, fixedLength: style.fixedLengthScalars)
    try file.writeStringsAttribute("backend", on: style.root, ["tensorflow"], scalar: true, fixedLength: style.fixedLengthScalars)
    for (layer, weights) in listed {
        try file.createGroup(prefix + layer)
        try file.writeStringsAttribute("weight_names", on: prefix + layer, weights.map(\.0))
        for (name, t) in weights {
            try file.writeDataset("\(prefix)\(layer)/\(name)", shape: t.shape, values: t.values, elementBytes: elementBytes)
        }
    }
    if style.optimizer {
        // Adam slots named after the weights: never read by the importer, must not disturb it.
        try file.createGroup("/optimizer_weights")
        let slots = ["Adam/iter:0"] + layers.prefix(3).flatMap { $0.1.map { "Adam/\($0.0.dropLast(2))/m:0" } }
        try file.writeStringsAttribute("weight_names", on: "/optimizer_weights", slots)
        try file.writeDataset("/optimizer_weights/Adam/iter:0", shape: [], values: [7])
        for (_, weights) in layers.prefix(3) {
            for (name, t) in weights { try file.writeDataset("/optimizer_weights/Adam/\(name.dropLast(2))/m:0", shape: t.shape, values: t.values) }
        }
    }
}

func tensor(_ shape: [Int], start: Float = 0, step: Float = 0.25) -> WeightTensor {
    let n = shape.reduce(1, *)
    return WeightTensor(shape: shape, values: (0..<n).map { start + Float($0) * step })
}
