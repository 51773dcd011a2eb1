import Foundation

/// Locates ../shared (reference data) from this file: repo root = 3 levels up, shared = root/../shared.
enum SharedData {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let root = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static var available: Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent("data").path) }
    static func path(_ rel: String) -> String { root.appendingPathComponent(rel).path }
}
