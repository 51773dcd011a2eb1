import DicomNetwork
import Foundation
import Logging
import ServiceLifecycle
import Store

/// `brixia serve` as a swift-service-lifecycle Service. On graceful shutdown (SIGTERM/SIGINT via
/// the ServiceGroup) the loop finishes the study in hand and returns; a study cut short by a
/// harder stop is re-queued by recovery on the next start.
public struct PipelineService: Service {
    let runner: PipelineRunner
    let tick: TimeInterval

    public init(runner: PipelineRunner, tick: TimeInterval = 0.25) {
        self.runner = runner; self.tick = tick
    }

    public func run() async throws {
        try await runner.runDaemon(tick: tick)
    }
}

public enum PipelineDaemon {
    /// Runs the pipeline service, plus the storage SCP and the outgoing sender when configured
    /// (NetworkServices), in a ServiceGroup that shuts down gracefully on SIGTERM/SIGINT.
    /// `extraServices` (the web console) run in the same group and stop with it.
    public static func run(runner: PipelineRunner, logger: Logger, extraServices: [any Service] = []) async throws {
        let services: [any Service] = [PipelineService(runner: runner)] + (try NetworkServices.make(config: runner.engine.config, queue: runner.outgoing, logger: logger))
            + extraServices
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

extension PipelineRunner {
    /// The daemon's own store, for consumers in the same process (the web console): one connection pool,
    /// not a second writer. nil with test doubles that keep jobs elsewhere.
    public var sharedStore: BrixiaStore { engine.deps.store.store }
    /// The pipeline's outgoing PACS queue (nil without destinations).
    public var outgoing: OutgoingQueue? { engine.deps.outgoing }
}
