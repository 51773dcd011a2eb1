import Foundation

/// The project's own trained BS-Net, used when no model is configured.
///
/// It is committed in the repository as `models/bsnet-brixia-own` (training: docs/model-card.md) and
/// installed as `<prefix>/share/brixia/models/bsnet-brixia-own`. Looked up at run time rather than
/// compiled in, so a missing or removed bundle gives the usual "no model" message instead of a build error.
public enum DefaultModel {
    public static let folderName = "bsnet-brixia-own"

    /// Where to look, in order: next to the executable (installed layout `bin/brixia` +
    /// `share/brixia/models/...`, or a `models/` folder beside it), then the source checkout this binary
    /// was built from (`swift build` / `swift run` in the repository).
    public static func candidates(executable: URL? = executableURL(), sourceFile: String = #filePath) -> [URL] {
        var out: [URL] = []
        if let exe = executable {
            let bin = exe.resolvingSymlinksInPath().deletingLastPathComponent()
            out.append(bin.deletingLastPathComponent().appendingPathComponent("share/brixia/models/\(folderName)"))
            out.append(bin.appendingPathComponent("models/\(folderName)"))
        }
        // Sources/ModelBundle/DefaultModel.swift -> repository root
        let repo = URL(fileURLWithPath: sourceFile).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        out.append(repo.appendingPathComponent("models/\(folderName)"))
        return out.map { $0.standardizedFileURL }
    }

    /// The first candidate that holds a `model.json`, or nil.
    public static func locate(candidates: [URL] = candidates()) -> URL? {
        candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.json").path) }
    }

    public static func executableURL() -> URL? {
        if let u = Bundle.main.executableURL { return u }
        return CommandLine.arguments.first.map { URL(fileURLWithPath: $0) }
    }
}
