import Foundation
import Logging

/// Builds the production dependencies (adapters over the real modules) for a configuration.
public enum ProductionPipeline {
    /// The message for a missing model: Brixia never ships or invents weights.
    public static func missingModelMessage(_ dir: URL) -> String {
        """
        no model bundle at \(dir.path).
        Brixia ships no weights and never runs with untrained ones. Create a bundle from the BS-Net authors' \
        trained Keras weights with `brixia model import-keras <weights.h5> --out <dir>` (weights: \
        https://github.com/BrixIA/Brixia-score-COVID-19), then pass --model <dir> or set BRIXIA_MODEL \
        (or put it at the default location \(dir.path)).
        """
    }

    public static func checkModelPresent(_ dir: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue,
              FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.json").path) else {
            throw ConfigError(missingModelMessage(dir))
        }
    }

    public static func make(config: PipelineConfig, logger: Logger) throws -> PipelineDependencies {
        try checkModelPresent(config.model)
        throw ConfigError("""
            this build of brixia has the pipeline but not yet the modules it runs on (DicomKit, Imaging, BSNetEngine, \
            ModelBundle, Store, Reports are still being integrated); nothing was processed.
            """)
    }
}
