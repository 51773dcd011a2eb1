import DicomNetwork
import Foundation

extension PipelineEngine {
    /// Queues the study's SR and SC for every configured destination (the store's `outgoing_queue`).
    /// Called after the commit and before the staging folder is dropped, so a crash anywhere around it makes
    /// recovery call it again; the queue is idempotent per (destination, SOP Instance UID), so nothing is lost
    /// and nothing is queued twice. Sending is the sender's job (`brixia serve`, or one pass after `run --once`).
    func enqueueForDestinations(_ manifest: StagingManifest) throws {
        let destinations = config.network.destinations
        let outputs = manifest.outputs.filter { $0.kind == .sr || $0.kind == .sc }
        guard !destinations.isEmpty, !outputs.isEmpty else { return }
        guard let queue = deps.outgoing else {
            throw ConfigError("PACS destinations are configured but this pipeline has no outgoing queue")
        }
        var queued = 0
        for o in outputs {
            let path = config.outbox.appendingPathComponent(o.fileName).path
            // A report taken out of the outbox by someone else cannot be sent; say so once and go on, rather
            // than holding the study's staging (and its archiving) forever.
            guard FileManager.default.fileExists(atPath: path) else {
                summary.failures.append("report \(o.fileName) left the outbox before it was queued; not sent")
                log.error("report missing from the outbox, cannot be queued for the PACS", metadata: ["file": "\(o.fileName)"])
                continue
            }
            for d in destinations {
                try queue.enqueue(path: path, to: d)
                queued += 1
            }
        }
        log.info("reports queued for the PACS", metadata: [
            "study": "\(Self.ref(manifest.analysis.studyInstanceUID))", "objects": "\(queued)",
            "destinations": "\(destinations.map(\.description).joined(separator: ","))"])
    }
}
