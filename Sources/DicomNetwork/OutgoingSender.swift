import Foundation
import Logging
import Store

/// Drains the outgoing queue: one association per destination per round, retries with back-off.
/// Connection and association failures are retried; a destination refusing the object (DIMSE failure status,
/// no presentation context) or a file that vanished or changed marks the item `failed` at once.
public final class OutgoingSender: Sendable {
    public let queue: OutgoingQueue
    public let scu: DicomSCU
    /// Only these destinations are served (nil: every destination in the queue). Items for a destination taken
    /// out of the configuration stay pending and listed, never sent behind the operator's back.
    public let destinations: Set<String>?
    let logger: Logger

    public init(queue: OutgoingQueue, scu: DicomSCU, destinations: Set<String>? = nil,
                logger: Logger = Logger(label: "brixia.network.sender")) {
        self.queue = queue
        self.scu = scu
        self.destinations = destinations
        self.logger = logger
    }

    /// Sends every due item once. Returns how many were sent.
    @discardableResult
    public func runOnce(now: Date = Date()) throws -> Int {
        let due = try queue.due(now: now, destinations: destinations)
        var sent = 0
        for (destination, items) in Dictionary(grouping: due, by: \.destination).sorted(by: { $0.key < $1.key }) {
            let node: DicomNode
            do { node = try DicomNode(parsing: destination) } catch {
                for item in items { try record { try queue.markFailed(id: item.id, error: "\(error)", permanent: true, now: now) } }
                continue
            }
            var sendable: [OutgoingItem] = []
            for item in items {
                // Never send something other than what was queued under this UID.
                switch Result(catching: { try OutgoingQueue.sha256(path: item.path) }) {
                case .success(let sha) where sha == item.contentSHA256: sendable.append(item)
                case .success: try record { try queue.markFailed(id: item.id, error: "\(item.path) changed after it was queued", permanent: true, now: now) }
                case .failure(let e): try record { try queue.markFailed(id: item.id, error: "\(e)", permanent: true, now: now) }
                }
            }
            guard !sendable.isEmpty else { continue }
            do {
                let outcomes = try scu.store(sendable.map(\.path), to: node)
                var stored = 0
                defer { if stored > 0 { logger.info("outgoing: objects stored", metadata: ["destination": "\(destination)", "count": "\(stored)"]) } }
                for (item, outcome) in zip(sendable, outcomes) {
                    if outcome.stored {
                        stored += 1
                        if try record({ try queue.markSent(id: item.id, now: now) }) { sent += 1 }
                    } else {
                        logger.warning("outgoing: object not stored", metadata: ["destination": "\(destination)", "error": "\(outcome.error.map { "\($0)" } ?? "not stored")"])
                        let permanent: Bool
                        switch outcome.error {
                        case .dimseFailure, .noPresentationContext, .badFile: permanent = true
                        default: permanent = false
                        }
                        try record { try queue.markFailed(id: item.id, error: outcome.error.map { "\($0)" } ?? "not stored", permanent: permanent, now: now) }
                    }
                }
            } catch {
                logger.warning("outgoing: \(destination) unavailable, will retry", metadata: ["error": "\(error)"])
                for item in sendable { try record { try queue.markFailed(id: item.id, error: "\(error)", permanent: false, now: now) } }
            }
        }
        return sent
    }

    /// Applies one state change; one the queue refuses because the item changed meanwhile (an operator re-queued
    /// or it was given up) is logged and skipped, so the rest of the batch is still recorded. Returns whether
    /// the change was applied.
    @discardableResult
    func record(_ change: () throws -> Void) throws -> Bool {
        do { try change(); return true } catch let e as StoreError {
            guard case .outgoingTransition = e else { throw e }
            logger.warning("outgoing: \(e)")
            return false
        }
    }

    /// Runs until the task is cancelled, polling every `interval` seconds.
    public func run(interval: TimeInterval = 5) async {
        while !Task.isCancelled {
            do { try runOnce() } catch { logger.error("outgoing queue: \(error)") }
            try? await Task.sleep(nanoseconds: UInt64(max(0.1, interval) * 1e9))
        }
    }
}
