import DicomNetwork
import Foundation
import Logging
import Pipeline
import Store

/// Outgoing-queue lines and JSON for `brixia status`, `brixia show` and `brixia run --once`.
enum OutgoingReport {
    static func destinationLines(_ statuses: [OutgoingDestinationStatus]) -> [String] {
        guard !statuses.isEmpty else { return ["outgoing: nothing queued"] }
        var lines = ["outgoing (per destination):"]
        for s in statuses {
            lines.append("  \(s.destination)  pending \(s.pending), sent \(s.sent), failed \(s.failed)")
            if let next = s.nextAttemptAt { lines.append("    next attempt \(iso(next))") }
            if let e = s.lastError { lines.append("    last error\(s.lastErrorAt.map { " at \(iso($0))" } ?? ""): \(e)") }
        }
        return lines
    }

    /// One line per queue row of a report: where it goes and how far it got.
    static func itemLine(_ i: OutgoingItem) -> String {
        switch i.state {
        case .sent:
            return "sent to \(i.destination)\(i.sentAt.map { " at \(iso($0))" } ?? "")"
        case .pending:
            let err = i.lastError.map { ", last error: \($0)" } ?? ""
            return "pending for \(i.destination) (attempts \(i.attempts), next attempt \(iso(i.nextAttemptAt))\(err))"
        case .failed:
            return "FAILED for \(i.destination) after \(i.attempts) attempt(s): \(i.lastError ?? "-")"
        }
    }

    /// Adds `key: value` to the JSON object `base` (the Store's JSON), with the same formatting.
    static func merge(_ base: String, key: String, value: some Encodable) throws -> String {
        let enc = JSONEncoder()
        enc.dateEncodingStrategy = .iso8601
        guard var obj = try JSONSerialization.jsonObject(with: Data(base.utf8)) as? [String: Any] else { return base }
        obj[key] = try JSONSerialization.jsonObject(with: enc.encode(value), options: [.fragmentsAllowed])
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// After `run --once`: one delivery round for the configured destinations, then their state. What is left
    /// pending is sent by `brixia serve` or the next `run --once`; it does not change the exit status.
    static func deliverOnce(config: PipelineConfig, queue: OutgoingQueue?, logger: Logger) {
        let n = config.network
        guard !n.destinations.isEmpty, let queue else { return }
        do {
            let scu = try DicomSCU(callingAETitle: n.callingAETitle, timeoutSeconds: n.sendTimeoutSeconds)
            try OutgoingSender(queue: queue, scu: scu, destinations: Set(n.destinations.map(\.description)), logger: logger).runOnce()
            let configured = Set(n.destinations.map(\.description))
            for line in destinationLines(try queue.store.outgoingStatus().filter { configured.contains($0.destination) }) { print(line) }
            if try queue.store.outgoingStatus().contains(where: { configured.contains($0.destination) && $0.pending > 0 }) {
                print("pending reports are sent by `brixia serve` (or the next `brixia run --once`)")
            }
        } catch {
            print("outgoing: cannot deliver: \(error)")
        }
    }
}
