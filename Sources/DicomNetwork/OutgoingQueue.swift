import Crypto
import DicomKit
import Foundation
import Store

/// The sender's view of the Store's outgoing queue (`BrixiaStore.enqueueOutgoing` and friends, table
/// `outgoing_queue`): it reads and hashes the DICOM file being queued, and applies the retry policy to a failed
/// attempt. It opens no database of its own: the store is the process's one connection pool.
public struct OutgoingQueue: Sendable {
    public let store: BrixiaStore
    public let policy: OutgoingRetryPolicy

    public init(store: BrixiaStore, policy: OutgoingRetryPolicy = OutgoingRetryPolicy()) {
        self.store = store
        self.policy = policy
    }

    /// Queues `path` for `destination`. Idempotent for the same content; throws `StoreError.sopInstanceReused`
    /// when the SOP Instance UID was already queued (for any destination) with a different content.
    @discardableResult
    public func enqueue(path: String, to destination: DicomNode, now: Date = Date()) throws -> OutgoingItem {
        let uid: String
        do { uid = try DicomFile.readInstance(path: path).instance.sopInstanceUID } catch {
            throw DicomNetworkError.badFile(path: path, reason: "\(error)")
        }
        guard !uid.isEmpty else { throw DicomNetworkError.badFile(path: path, reason: "no SOP Instance UID") }
        return try store.enqueueOutgoing(NewOutgoingItem(destination: destination.description, path: path, sopInstanceUID: uid,
                                                         contentSHA256: try Self.sha256(path: path)), now: now)
    }

    /// Pending items due now, oldest first; only for `destinations` ("AE@HOST:PORT") when given.
    public func due(now: Date = Date(), limit: Int = 100, destinations: Set<String>? = nil) throws -> [OutgoingItem] {
        try store.dueOutgoing(now: now, limit: limit, destinations: destinations)
    }

    /// pending -> sent (`StoreError.outgoingTransition` from any other state).
    public func markSent(id: Int64, now: Date = Date()) throws {
        try store.markOutgoingSent(id: id, now: now)
    }

    /// A failed attempt: `permanent` (refused by the peer, file gone or changed) fails the item at once; other
    /// failures are retried with this queue's back-off until its give-up window ends.
    public func markFailed(id: Int64, error: String, permanent: Bool, now: Date = Date()) throws {
        try store.markOutgoingFailed(id: id, error: error, refused: permanent, policy: policy, now: now)
    }

    static func sha256(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DicomNetworkError.badFile(path: path, reason: "cannot read file")
        }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
