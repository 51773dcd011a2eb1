import Imaging
import ModelBundle

extension QualityCheck.Thresholds {
    /// The image-content check's bounds for a model: those derived for it and recorded in its model.json
    /// (`qualityCheck`), else the built-in bounds (derived for the shipped model; docs/quality-check.md).
    /// Throws, naming the bundle, on a recorded set that cannot be used (unknown, missing or disordered bounds).
    public init(model manifest: ModelManifest, bundle: String) throws {
        guard let recorded = manifest.qualityCheck else { self.init(); return }
        do { try self.init(namedBounds: recorded.bounds) } catch {
            throw ConfigError("model bundle \(bundle): model.json \(error)")
        }
    }
}
