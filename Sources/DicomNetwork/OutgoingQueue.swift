import Crypto
import DicomKit
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

public enum OutgoingState: String, Sendable, Codable {
    case pending, sent, failed
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
    public var enqueuedAt: Date
    public var nextAttemptAt: Date
    public var sentAt: Date?
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

/// Persistent outgoing C-STORE queue in SQLite (table `outgoing_queue`, in the same database file as the Store).
/// The table is created by this module (`CREATE TABLE IF NOT EXISTS`), not by a Store migration, so that the
/// Store's migration list stays the Store's own; the table is independent of the Store's tables.
public final class OutgoingQueue: Sendable {
    public let databasePath: String
    public let policy: OutgoingRetryPolicy
    let db: DatabasePool

    static let schema = """
        CREATE TABLE IF NOT EXISTS outgoing_queue (
            id               INTEGER PRIMARY KEY,
            destination      TEXT NOT NULL CHECK (destination <> ''),
            file_path        TEXT NOT NULL CHECK (file_path <> ''),
            sop_instance_uid TEXT NOT NULL CHECK (sop_instance_uid <> ''),
            content_sha256   TEXT NOT NULL CHECK (length(content_sha256) = 64),
            state            TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
            attempts         INTEGER NOT NULL DEFAULT 0,
            last_error       TEXT,
            last_error_at    DATETIME,
            enqueued_at      DATETIME NOT NULL,
            next_attempt_at  DATETIME NOT NULL,
            sent_at          DATETIME,
            UNIQUE (destination, sop_instance_uid)
        );
        CREATE INDEX IF NOT EXISTS outgoing_queue_due ON outgoing_queue(state, next_attempt_at);
        CREATE INDEX IF NOT EXISTS outgoing_queue_uid ON outgoing_queue(sop_instance_uid);
        """

    public init(databasePath: String, policy: OutgoingRetryPolicy = OutgoingRetryPolicy()) throws {
        self.databasePath = databasePath
        self.policy = policy
        var config = Configuration()
        config.busyMode = .timeout(10)
        do {
            db = try DatabasePool(path: databasePath, configuration: config)
            try db.write { try $0.execute(sql: Self.schema) }
        } catch {
            throw DicomNetworkError.queue("cannot open \(databasePath): \(error)")
        }
    }

    /// Queues `path` for `destination`. Idempotent for the same content; throws `.sopInstanceReused` when the
    /// SOP Instance UID was already queued (for any destination) with a different content.
    @discardableResult
    public func enqueue(path: String, to destination: DicomNode, now: Date = Date()) throws -> OutgoingItem {
        let uid: String
        do { uid = try DicomFile.readInstance(path: path).instance.sopInstanceUID } catch {
            throw DicomNetworkError.badFile(path: path, reason: "\(error)")
        }
        guard !uid.isEmpty else { throw DicomNetworkError.badFile(path: path, reason: "no SOP Instance UID") }
        let sha = try Self.sha256(path: path)
        let dest = destination.description
        return try write { db in
            let others = try Row.fetchAll(db, sql: "SELECT content_sha256 FROM outgoing_queue WHERE sop_instance_uid = ?", arguments: [uid])
            if others.contains(where: { ($0["content_sha256"] as String) != sha }) {
                throw DicomNetworkError.sopInstanceReused(sopInstanceUID: uid, path: path)
            }
            if let existing = try Row.fetchOne(db, sql: "SELECT * FROM outgoing_queue WHERE destination = ? AND sop_instance_uid = ?",
                                               arguments: [dest, uid]) {
                return try Self.item(existing)
            }
            try db.execute(sql: """
                INSERT INTO outgoing_queue (destination, file_path, sop_instance_uid, content_sha256, state, attempts,
                                            enqueued_at, next_attempt_at)
                VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)
                """, arguments: [dest, path, uid, sha, now, now])
            return try Self.item(try Row.fetchOne(db, sql: "SELECT * FROM outgoing_queue WHERE id = ?", arguments: [db.lastInsertedRowID])!)
        }
    }

    public func items(state: OutgoingState? = nil, destination: String? = nil) throws -> [OutgoingItem] {
        try read { db in
            var sql = "SELECT * FROM outgoing_queue WHERE 1"
            var args: [DatabaseValueConvertible] = []
            if let state { sql += " AND state = ?"; args.append(state.rawValue) }
            if let destination { sql += " AND destination = ?"; args.append(destination) }
            return try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: StatementArguments(args)).map(Self.item)
        }
    }

    /// Pending/sent/failed counts, last error and next attempt, per destination.
    public func status() throws -> [OutgoingDestinationStatus] {
        try read(Self.status)
    }

    static func status(_ db: Database) throws -> [OutgoingDestinationStatus] {
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

    /// Every queue row for these SOP Instance UIDs (all destinations), in queue order.
    static func items(_ db: Database, sopInstanceUIDs: [String]) throws -> [OutgoingItem] {
        guard !sopInstanceUIDs.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: sopInstanceUIDs.count).joined(separator: ",")
        return try Row.fetchAll(db, sql: "SELECT * FROM outgoing_queue WHERE sop_instance_uid IN (\(marks)) ORDER BY id",
                                arguments: StatementArguments(sopInstanceUIDs)).map(Self.item)
    }

    /// Pending items whose next attempt is due, oldest first; only for `destinations` ("AE@HOST:PORT") when given.
    public func due(now: Date = Date(), limit: Int = 100, destinations: Set<String>? = nil) throws -> [OutgoingItem] {
        try read { db in
            var sql = "SELECT * FROM outgoing_queue WHERE state = 'pending' AND next_attempt_at <= ?"
            var args: [DatabaseValueConvertible] = [now]
            if let destinations {
                guard !destinations.isEmpty else { return [] }
                sql += " AND destination IN (\(Array(repeating: "?", count: destinations.count).joined(separator: ",")))"
                args += destinations.sorted() as [DatabaseValueConvertible]
            }
            args.append(limit)
            return try Row.fetchAll(db, sql: sql + " ORDER BY id LIMIT ?", arguments: StatementArguments(args)).map(Self.item)
        }
    }

    /// pending -> sent. Any other current state is refused (`DicomNetworkError.queueTransition`), so a send that
    /// finished after an operator changed the item cannot overwrite that change.
    public func markSent(id: Int64, now: Date = Date()) throws {
        try write { db in
            try db.execute(sql: "UPDATE outgoing_queue SET state = 'sent', attempts = attempts + 1, sent_at = ? WHERE id = ? AND state = 'pending'",
                           arguments: [now, id])
            if db.changesCount == 0 { throw try Self.refusedTransition(db, id: id, to: "sent") }
        }
    }

    static func refusedTransition(_ db: Database, id: Int64, to: String) throws -> DicomNetworkError {
        let state = try String.fetchOne(db, sql: "SELECT state FROM outgoing_queue WHERE id = ?", arguments: [id])
        return .queueTransition(id: id, from: state ?? "absent", to: to)
    }

    /// Records a failed attempt of a pending item: retried later with exponential back-off (stays pending), or
    /// marked `failed` when `permanent` or when the give-up window since enqueue has passed. Refused
    /// (`DicomNetworkError.queueTransition`) unless the item is pending.
    public func markFailed(id: Int64, error: String, permanent: Bool, now: Date = Date()) throws {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM outgoing_queue WHERE id = ?", arguments: [id]) else {
                throw DicomNetworkError.queueTransition(id: id, from: "absent", to: "failed")
            }
            let item = try Self.item(row)
            guard item.state == .pending else { throw DicomNetworkError.queueTransition(id: id, from: item.state.rawValue, to: "failed") }
            let attempts = item.attempts + 1
            let giveUp = permanent || now.timeIntervalSince(item.enqueuedAt) >= policy.giveUpAfter
            let next = now.addingTimeInterval(policy.delay(afterAttempts: attempts))
            try db.execute(sql: """
                UPDATE outgoing_queue SET state = ?, attempts = ?, last_error = ?, last_error_at = ?, next_attempt_at = ?
                WHERE id = ?
                """, arguments: [giveUp ? "failed" : "pending", attempts, error, now, next, id])
        }
    }

    /// Puts failed items back to pending (after the cause was fixed); returns how many.
    @discardableResult
    public func retryFailed(destination: String? = nil, now: Date = Date()) throws -> Int {
        try write { db in
            var sql = "UPDATE outgoing_queue SET state = 'pending', next_attempt_at = ?, enqueued_at = ? WHERE state = 'failed'"
            var args: [DatabaseValueConvertible] = [now, now]
            if let destination { sql += " AND destination = ?"; args.append(destination) }
            try db.execute(sql: sql, arguments: StatementArguments(args))
            return db.changesCount
        }
    }

    static func sha256(path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DicomNetworkError.badFile(path: path, reason: "cannot read file")
        }
        return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// A row as an item; a state this program does not know (a newer program's, or a hand edit) is an error,
    /// not silently "failed".
    static func item(_ r: Row) throws -> OutgoingItem {
        let raw: String = r["state"]
        guard let state = OutgoingState(rawValue: raw) else {
            throw DicomNetworkError.queue("item \(r["id"] as Int64? ?? -1) has unknown state '\(raw)'")
        }
        return OutgoingItem(id: r["id"], destination: r["destination"], path: r["file_path"], sopInstanceUID: r["sop_instance_uid"],
                     contentSHA256: r["content_sha256"], state: state,
                     attempts: r["attempts"], lastError: r["last_error"], enqueuedAt: r["enqueued_at"],
                     nextAttemptAt: r["next_attempt_at"], sentAt: r["sent_at"])
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch let e as DicomNetworkError { throw e } catch {
            throw DicomNetworkError.queue("\(databasePath): \(error)")
        }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch let e as DicomNetworkError { throw e } catch {
            throw DicomNetworkError.queue("\(databasePath): \(error)")
        }
    }
}

extension OutgoingQueue {
    /// Sends these reports again (the console's "resend"): every queue row of the given SOP Instance UIDs,
    /// sent or failed, goes back to pending with a fresh retry window. Returns how many rows.
    @discardableResult
    public func requeue(sopInstanceUIDs: [String], now: Date = Date()) throws -> Int {
        guard !sopInstanceUIDs.isEmpty else { return 0 }
        return try write { db in
            let marks = Array(repeating: "?", count: sopInstanceUIDs.count).joined(separator: ", ")
            var args: [DatabaseValueConvertible] = [now, now]
            args += sopInstanceUIDs as [DatabaseValueConvertible]
            try db.execute(sql: """
                UPDATE outgoing_queue SET state = 'pending', attempts = 0, next_attempt_at = ?, enqueued_at = ?, sent_at = NULL
                WHERE sop_instance_uid IN (\(marks))
                """, arguments: StatementArguments(args))
            return db.changesCount
        }
    }
}
