import BlockingExecutor
import DicomNetwork
import Foundation
import Logging
import ServiceLifecycle

/// The storage SCP as a Service: listens from start until graceful shutdown, then stops accepting and lets
/// running associations finish (bounded by the SCP timeout). A port that cannot be opened fails the group.
public struct StorageSCPService: Service {
    let scp: StorageSCP
    let logger: Logger

    public init(config: StorageSCPConfig, logger: Logger) throws {
        scp = try StorageSCP(config: config)
        self.logger = logger
    }

    public func run() async throws {
        let c = scp.config
        try scp.start()
        logger.info("storage SCP listening", metadata: [
            "aeTitle": "\(c.aeTitle)", "port": "\(c.port)", "bind": "\(c.bindAddress.isEmpty ? "0.0.0.0" : c.bindAddress)",
            "allowedCallers": "\(c.allowAnyCaller ? "any (scpAllowAnyCaller)" : c.allowedCallingAETitles.joined(separator: ","))"])
        try? await gracefulShutdown()
        let scp = self.scp
        try? await BlockingExecutor.run { scp.stop() }
        let s = scp.stats  // final counters: StorageSCP keeps them after stop()
        logger.info("storage SCP stopped", metadata: [
            "stored": "\(s.stored)", "failed": "\(s.failed)", "rejectedAssociations": "\(s.rejectedAssociations)"])
    }
}

/// The outgoing queue's sender as a Service: a delivery round every `interval` seconds for the configured
/// destinations, until graceful shutdown (an association in progress is finished first).
public struct OutgoingSenderService: Service {
    let sender: OutgoingSender
    let interval: TimeInterval
    let logger: Logger

    public init(sender: OutgoingSender, interval: TimeInterval, logger: Logger) {
        self.sender = sender; self.interval = interval; self.logger = logger
    }

    public func run() async throws {
        let (sender, logger, interval) = (self.sender, self.logger, self.interval)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { _ = try await BlockingExecutor.run { try sender.runOnce() } } catch {
                logger.error("outgoing queue", metadata: ["error": "\(error)"])
            }
            // The wait between rounds ends at once on graceful shutdown (no flag polled).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(interval)) }
        }
        logger.info("outgoing sender stopped")
    }
}

public enum NetworkServices {
    /// The services `brixia serve` runs next to the pipeline, in start order: the sender (when destinations are
    /// configured), then the SCP (when `scpPort` is). The group stops them in reverse: the SCP first.
    /// `queue`: the pipeline's outgoing queue (over its store); required when destinations are configured.
    public static func make(config: PipelineConfig, queue: OutgoingQueue?, logger: Logger) throws -> [any Service] {
        let n = config.network
        var services: [any Service] = []
        if !n.destinations.isEmpty {
            guard let queue else { throw ConfigError("PACS destinations are configured but the pipeline has no outgoing queue") }
            let scu = try DicomSCU(callingAETitle: n.callingAETitle, timeoutSeconds: n.sendTimeoutSeconds)
            let sender = OutgoingSender(queue: queue, scu: scu, destinations: Set(n.destinations.map(\.description)),
                                        logger: logger)
            services.append(OutgoingSenderService(sender: sender, interval: n.sendPollInterval, logger: logger))
        }
        if let scp = n.scp { services.append(try StorageSCPService(config: scp, logger: logger)) }
        return services
    }
}

