import Foundation
import GRDB

/// Retry policy of the outgoing queue.
public struct OutgoingRetryPolicy: Sendable, Equatable {
    /// First retry delay; doubles after each failed attempt up to `maxDelay`.
    public var baseDelay: TimeInterval
    public var maxDelay: TimeInterval
    /// After this long since enqueue without success, the item is marked `failed` (kept listed, never dropped).
    public var giveUpAfter: TimeInterval

    public init(baseDelay: TimeInterval = 30, maxDelay: TimeInterval = 1800, giveUpAfter: TimeInterval = 7 * 86400) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.giveUpAfter = giveUpAfter
    }

    /// Delay before attempt number `attempts + 1`, after `attempts` failures (attempts >= 1).
    public func delay(afterAttempts attempts: Int) -> TimeInterval {
        let exponent = Double(max(0, min(attempts - 1, 30)))
        return min(maxDelay, baseDelay * pow(2, exponent))
    }
}

/// States of an outgoing item. pending -> sent | failed by the sender; sent/failed -> pending only by an
/// operator (retry, resend). Anything else is refused with `StoreError.outgoingTransition`.
public enum OutgoingState: String, Sendable, Codable, CaseIterable {
    case pending, sent, failed
}

/// Why the last attempt of an item failed (column `failure_kind`, Schemas/0009_outgoing_queue.sql).
public enum OutgoingFailureKind: String, Sendable, Codable, CaseIterable {
    /// Peer unreachable or association refused: retried with back-off, the item stays pending.
    case transient
    /// The peer rejected the object, or the file vanished or changed after it was queued: failed at once.
    case refused
    /// Still failing when the retry window since enqueue ended.
    case expired
    /// Failed before the kind was recorded (a database written by an older brixia).
    case unrecorded
}

public struct OutgoingItem: Sendable, Equatable, Codable {
    public var id: Int64
    public var destination: String
    public var path: String
    public var sopInstanceUID: String
    public var contentSHA256: String
    public var state: OutgoingState
    public var attempts: Int
    public var lastError: String?
    public var failureKind: OutgoingFailureKind?
    public var enqueuedAt: Date
    public var nextAttemptAt: Date
    public var sentAt: Date?
}

/// What the network module asks to queue: a report file already read and hashed.
public struct NewOutgoingItem: Sendable, Equatable {
    public var destination: String
    public var path: String
    public var sopInstanceUID: String
    public var contentSHA256: String
    public init(destination: String, path: String, sopInstanceUID: String, contentSHA256: String) {
        self.destination = destination; self.path = path; self.sopInstanceUID = sopInstanceUID; self.contentSHA256 = contentSHA256
    }
}

/// Per-destination summary for `brixia status`.
public struct OutgoingDestinationStatus: Sendable, Equatable, Codable {
    public var destination: String
    public var pending: Int
    public var sent: Int
    public var failed: Int
    public var lastError: String?
    public var lastErrorAt: Date?
    /// Earliest next attempt among pending items; nil when nothing is pending.
    public var nextAttemptAt: Date?
}

/// The outgoing C-STORE queue (table `outgoing_queue`): one row per (destination, SOP Instance UID). Every
/// state change is a guarded transition audited in the same transaction (events.kind 'outgoing').
extension BrixiaStore {
    /// Queues a report for a destination. Idempotent for the same content; throws `.sopInstanceReused` when the
    /// SOP Instance UID was already queued (for any destination) with a different content.
    @discardableResult
    public func enqueueOutgoing(_ new: NewOutgoingItem, now: Date = Date()) throws -> OutgoingItem {
        try pool.write { db in
            let others = try String.fetchAll(db, sql: "SELECT content_sha256 FROM outgoing_queue WHERE sop_instance_uid = ?",
                                             arguments: [new.sopInstanceUID])
            if others.contains(where: { $0 != new.contentSHA256 }) {
                throw StoreError.sopInstanceReused(sopInstanceUID: new.sopInstanceUID, path: new.path)
            }
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM outgoing_queue WHERE destination = ? AND sop_instance_uid = ?",
                                               arguments: [new.destination, new.sopInstanceUID]) {
                return try Self.outgoingItem(existing)
            }
            try db.execute(sql: """
                INSERT INTO outgoing_queue (destination, file_path, sop_instance_uid, content_sha256, state, attempts,
                                            enqueued_at, next_attempt_at)
                VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)
                """, arguments: [new.destination, new.path, new.sopInstanceUID, new.contentSHA256, now, now])
            let id = db.lastInsertedRowID
            try Self.auditOutgoing(db, id: id, at: now, from: nil, to: .pending, actor: nil, message: "queued for \(new.destination)")
            return try Self.outgoingItem(try Row.fetchOne(db, sql: "SELECT * FROM outgoing_queue WHERE id = ?", arguments: [id])!)
        }
    }

    /// Queue rows, optionally of one state and one destination, in queue order.
    public func outgoingItems(state: OutgoingState? = nil, destination: String? = nil) throws -> [OutgoingItem] {
        try pool.read { db in
            var sql = "SELECT * FROM outgoing_queue WHERE 1"
            var args: [DatabaseValueConvertible] = []
            if let state { sql += " AND state = ?"; args.append(state.rawValue) }
            if let destination { sql += " AND destination = ?"; args.append(destination) }
            return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: StatementArguments(args)).map(Self.outgoingItem)
        }
    }

    /// Queue rows in the given states (all destinations), oldest first, at most `limit`.
    public func outgoingItems(states: [OutgoingState], limit: Int = 500) throws -> [OutgoingItem] {
        guard !states.isEmpty else { return [] }
        return try pool.read { db in
            let marks = databaseQuestionMarks(count: states.count)
            var args: [DatabaseValueConvertible] = states.map(\.rawValue)
            args.append(max(0, limit))
            return try Row.fetchAll(db, sql: "SELECT * FROM outgoing_queue WHERE state IN (\(marks)) ORDER BY id LIMIT ?",
                                    arguments: StatementArguments(args)).map(Self.outgoingItem)
        }
    }

    /// Every queue row of these SOP Instance UIDs (all destinations), in queue order.
    public func outgoingItems(sopInstanceUIDs: [String]) throws -> [OutgoingItem] {
        guard !sopInstanceUIDs.isEmpty else { return [] }
        return try pool.read { db in try Self.outgoingItems(db, sopInstanceUIDs: sopInstanceUIDs) }
    }

    static func outgoingItems(_ db: Database, sopInstanceUIDs: [String]) throws -> [OutgoingItem] {
        try Row.fetchAll(db, sql: "SELECT * FROM outgoing_queue WHERE sop_instance_uid IN (\(databaseQuestionMarks(count: sopInstanceUIDs.count))) ORDER BY id",
                         arguments: StatementArguments(sopInstanceUIDs)).map(Self.outgoingItem)
    }

    /// Pending/sent/failed counts, last error and next attempt, per destination.
    public func outgoingStatus() throws -> [OutgoingDestinationStatus] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT destination,
                       SUM(state = 'pending') AS pending, SUM(state = 'sent') AS sent, SUM(state = 'failed') AS failed,
                       MIN(CASE WHEN state = 'pending' THEN next_attempt_at END) AS next_attempt
                FROM outgoing_queue GROUP BY destination ORDER BY destination
                """)
            return try rows.map { r in
                let dest: String = r["destination"]
                let last = try Row.fetchOne(db, sql: """
                    SELECT last_error, last_error_at FROM outgoing_queue
                    WHERE destination = ? AND last_error IS NOT NULL ORDER BY last_error_at DESC, id DESC LIMIT 1
                    """, arguments: [dest])
                return OutgoingDestinationStatus(destination: dest, pending: r["pending"], sent: r["sent"], failed: r["failed"],
                                                 lastError: last?["last_error"], lastErrorAt: last?["last_error_at"],
                                                 nextAttemptAt: r["next_attempt"])
            }
        }
    }

    /// Pending items whose next attempt is due, oldest first; only for `destinations` when given.
    public func dueOutgoing(now: Date = Date(), limit: Int = 100, destinations: Set<String>? = nil) throws -> [OutgoingItem] {
        if let destinations, destinations.isEmpty { return [] }
        return try pool.read { db in
            var sql = "SELECT * FROM outgoing_queue WHERE state = 'pending' AND next_attempt_at <= ?"
            var args: [DatabaseValueConvertible] = [now]
            if let destinations {
                sql += " AND destination IN (\(databaseQuestionMarks(count: destinations.count)))"
                args += destinations.sorted() as [DatabaseValueConvertible]
            }
            args.append(limit)
            return try Row.fetchAll(db, sql: sql + " ORDER BY id LIMIT ?", arguments: StatementArguments(args)).map(Self.outgoingItem)
        }
    }

    /// pending -> sent. Any other current state is refused (`StoreError.outgoingTransition`), so a send that
    /// finished after an operator changed the item cannot overwrite that change.
    public func markOutgoingSent(id: Int64, now: Date = Date()) throws {
        try pool.write { db in
            let item = try Self.pendingItem(db, id: id, to: .sent)
            try db.execute(sql: "UPDATE outgoing_queue SET state = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ?",
                           arguments: [now, id])
            try Self.auditOutgoing(db, id: id, at: now, from: item.state, to: .sent, actor: nil, message: "stored at \(item.destination)")
        }
    }

    /// Records a failed attempt of a pending item. `refused`: failed at once. Otherwise retried later with
    /// exponential back-off (stays pending, kind `transient`), or failed as `expired` when the retry window since
    /// enqueue has passed. Refused (`StoreError.outgoingTransition`) unless the item is pending.
    public func markOutgoingFailed(id: Int64, error: String, refused: Bool, policy: OutgoingRetryPolicy,
                                   now: Date = Date()) throws {
        try pool.write { db in
            let item = try Self.pendingItem(db, id: id, to: .failed)
            let attempts = item.attempts + 1
            let kind: OutgoingFailureKind = refused ? .refused
                : (now.timeIntervalSince(item.enqueuedAt) >= policy.giveUpAfter ? .expired : .transient)
            let state: OutgoingState = kind == .transient ? .pending : .failed
            let next = now.addingTimeInterval(policy.delay(afterAttempts: attempts))
            try db.execute(sql: """
                UPDATE outgoing_queue SET state = ?, attempts = ?, last_error = ?, last_error_at = ?, next_attempt_at = ?,
                                          failure_kind = ?
                WHERE id = ?
                """, arguments: [state.rawValue, attempts, error, now, next, kind.rawValue, id])
            try Self.auditOutgoing(db, id: id, at: now, from: item.state, to: state, actor: nil, message: "\(kind.rawValue): \(error)")
        }
    }

    /// failed -> pending for every failed item (of one destination when given), after the cause was fixed, with
    /// a fresh retry window. Returns how many.
    @discardableResult
    public func retryFailedOutgoing(destination: String? = nil, actor: String, now: Date = Date()) throws -> Int {
        try pool.write { db in
            var sql = "SELECT * FROM outgoing_queue WHERE state = 'failed'"
            var args: [DatabaseValueConvertible] = []
            if let destination { sql += " AND destination = ?"; args.append(destination) }
            let items = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.outgoingItem)
            for item in items {
                try db.execute(sql: "UPDATE outgoing_queue SET state = 'pending', next_attempt_at = ?, enqueued_at = ? WHERE id = ?",
                               arguments: [now, now, item.id])
                try Self.auditOutgoing(db, id: item.id, at: now, from: .failed, to: .pending, actor: actor, message: "retry")
            }
            return items.count
        }
    }

    /// Sends these reports again (the console's "resend"): every queue row of the given SOP Instance UIDs,
    /// sent or failed, goes back to pending with a fresh retry window (a pending row is left as it is).
    /// Returns how many rows are pending for them afterwards.
    @discardableResult
    public func requeueOutgoing(sopInstanceUIDs: [String], actor: String, now: Date = Date()) throws -> Int {
        guard !sopInstanceUIDs.isEmpty else { return 0 }
        return try pool.write { db in
            let items = try Self.outgoingItems(db, sopInstanceUIDs: sopInstanceUIDs)
            for item in items where item.state != .pending {
                try db.execute(sql: """
                    UPDATE outgoing_queue SET state = 'pending', attempts = 0, next_attempt_at = ?, enqueued_at = ?, sent_at = NULL,
                                              failure_kind = NULL
                    WHERE id = ?
                    """, arguments: [now, now, item.id])
                try Self.auditOutgoing(db, id: item.id, at: now, from: item.state, to: .pending, actor: actor, message: "resend")
            }
            return items.count
        }
    }

    /// The audit trail of one queue item, oldest first.
    public func outgoingHistory(id: Int64) throws -> [EventRecord] {
        try pool.read { db in
            try EventRecord.fetchAll(db, sql: "SELECT * FROM events WHERE kind = 'outgoing' AND outgoing_ref = ? ORDER BY id",
                                     arguments: [id])
        }
    }

    static func pendingItem(_ db: Database, id: Int64, to: OutgoingState) throws -> OutgoingItem {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM outgoing_queue WHERE id = ?", arguments: [id]) else {
            throw StoreError.outgoingTransition(id: id, from: "absent", to: to.rawValue)
        }
        let item = try outgoingItem(row)
        guard item.state == .pending else {
            throw StoreError.outgoingTransition(id: id, from: item.state.rawValue, to: to.rawValue)
        }
        return item
    }

    static func auditOutgoing(_ db: Database, id: Int64, at: Date, from: OutgoingState?, to: OutgoingState,
                              actor: String?, message: String) throws {
        try db.execute(sql: """
            INSERT INTO events (at, kind, outgoing_ref, from_state, to_state, actor, message)
            VALUES (?, 'outgoing', ?, ?, ?, ?, ?)
            """, arguments: [at, id, from?.rawValue, to.rawValue, actor, message])
    }

    /// A row as an item; a state or failure kind this program does not know (a newer program's, or a hand
    /// edit) is an error, not silently "failed".
    static func outgoingItem(_ r: Row) throws -> OutgoingItem {
        let id: Int64 = r["id"]
        let state = try r.required(OutgoingState.self, "state", table: "outgoing_queue")
        let kind = try r.known(OutgoingFailureKind.self, "failure_kind", table: "outgoing_queue")
        return OutgoingItem(id: id, destination: r["destination"], path: r["file_path"], sopInstanceUID: r["sop_instance_uid"],
                            contentSHA256: r["content_sha256"], state: state, attempts: r["attempts"],
                            lastError: r["last_error"], failureKind: kind, enqueuedAt: r["enqueued_at"],
                            nextAttemptAt: r["next_attempt_at"], sentAt: r["sent_at"])
    }
}
