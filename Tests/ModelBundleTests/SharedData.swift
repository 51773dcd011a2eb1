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
