import DicomNetwork
import Foundation
import Logging
import ModelBundle

/// Builds the production dependencies (adapters over the real modules) for a configuration.
public enum ProductionPipeline {
    /// The message for a missing model: Brixia never ships or invents weights.
    public static func missingModelMessage(_ dir: URL) -> String {
        """
        no model bundle at \(dir.path).
        Brixia never runs with untrained weights. Leave `model` unset to use the shipped default model \
        (models/bsnet-brixia-own), or create a bundle from the BS-Net authors' trained Keras weights with \
        `brixia model import-keras <weights.h5> --out <dir>` and pass --model <dir> or set BRIXIA_MODEL.
        """
    }

    public static func checkModelPresent(_ dir: URL) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue,
              FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.json").path) else {
            throw ConfigError(missingModelMessage(dir))
        }
    }

    /// Software version written into every report (General Equipment).
    public static let softwareVersion = "brixia 0.1.0"

    /// `workerExecutable`: the program whose `explain-worker` command computes explanations (the command-line
    /// tool passes itself); needed only when `config.explain` is on.
    public static func make(config: PipelineConfig, logger: Logger, workerExecutable: URL?,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PipelineDependencies {
        try checkModelPresent(config.model)
        let allowFixture = environment["BRIXIA_ALLOW_TEST_FIXTURE"] == "1"
        let scorer = try BSNetScorer(bundle: config.model, threads: config.workerThreads, allowTestFixture: allowFixture)
        if config.model.standardizedFileURL == DefaultModel.locate()?.standardizedFileURL {
            logger.warning("no model configured: using the shipped default model \(scorer.model.name) \(scorer.model.version) (docs/model-card.md): research and software testing only; set `model` to the authors' imported weights for meaningful scores")
        }
        if scorer.isTestFixture {
            logger.warning("scoring with a RANDOM TEST FIXTURE model (BRIXIA_ALLOW_TEST_FIXTURE=1): results are meaningless")
        }
        let store = try PipelineStore(config: config)
        let installation = try store.store.installationIdentity(orCreate: TrackingDerivation.freshInstallation)
        var deps = PipelineDependencies(inspector: DicomKitInspector(), scorer: scorer,
                                        reports: ReportsSink(softwareVersion: softwareVersion, installation: installation),
                                        store: store)
        if !config.network.destinations.isEmpty {
            deps.outgoing = OutgoingQueue(store: store.store, policy: config.network.retry)
        }
        if config.explain {
            guard let workerExecutable else {
                throw ConfigError("explanations are on but no executable was given to start `explain-worker` processes with")
            }
            deps.explanationLauncher = explanationLauncher(config: config, executable: workerExecutable)
        }
        return deps
    }
}
