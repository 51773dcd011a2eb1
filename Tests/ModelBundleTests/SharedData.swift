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

/// A Keras-2-like weights file written through the test writer: `layers` in order, each with
/// its tensors (names with ":0"), plus the usual root attributes.
func writeKerasLikeH5(at url: URL, layers: [(String, [(String, WeightTensor)])], elementBytes: Int = 4) throws {
    let file = try #require(HDF5File.create(path: url.path))
    try file.writeStringsAttribute("layer_names", on: "/", layers.map(\.0))
    try file.writeStringsAttribute("keras_version", on: "/", ["2.21.0"], scalar: true)
    try file.writeStringsAttribute("backend", on: "/", ["tensorflow"], scalar: true)
    for (layer, weights) in layers {
        try file.createGroup("/" + layer)
        try file.writeStringsAttribute("weight_names", on: "/" + layer, weights.map(\.0))
        for (name, t) in weights {
            try file.writeDataset("/\(layer)/\(name)", shape: t.shape, values: t.values, elementBytes: elementBytes)
        }
    }
}

func tensor(_ shape: [Int], start: Float = 0, step: Float = 0.25) -> WeightTensor {
    let n = shape.reduce(1, *)
    return WeightTensor(shape: shape, values: (0..<n).map { start + Float($0) * step })
}
