import Foundation
import GRDB

/// Read-only view of the outgoing queue for `brixia status` / `brixia show`: never creates the table or the
/// database (a deployment without destinations has no queue, which reads as "nothing queued").
public enum OutgoingQueueReader {
    /// Per-destination state; empty when the database has no queue table.
    public static func status(databasePath: String) throws -> [OutgoingDestinationStatus] {
        try read(databasePath) { try OutgoingQueue.status($0) } ?? []
    }

    /// Queue rows (every destination) of the given report SOP Instance UIDs.
    public static func items(databasePath: String, sopInstanceUIDs: [String]) throws -> [OutgoingItem] {
        try read(databasePath) { try OutgoingQueue.items($0, sopInstanceUIDs: sopInstanceUIDs) } ?? []
    }

    private static func read<T>(_ path: String, _ body: (Database) throws -> T) throws -> T? {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DicomNetworkError.queue("no database at \(path)")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        do {
            let q = try DatabaseQueue(path: path, configuration: config)
            return try q.read { db in try db.tableExists("outgoing_queue") ? body(db) : nil }
        } catch {
            throw DicomNetworkError.queue("\(path): \(error)")
        }
    }
}

extension OutgoingQueueReader {
    /// Queue rows in the given states (all destinations), oldest first, at most `limit`.
    public static func items(databasePath: String, states: [OutgoingState], limit: Int = 500) throws -> [OutgoingItem] {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw DicomNetworkError.queue("no database at \(databasePath)")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        do {
            let q = try DatabaseQueue(path: databasePath, configuration: config)
            return try q.read { db in
                guard try db.tableExists("outgoing_queue"), !states.isEmpty else { return [] }
                let marks = Array(repeating: "?", count: states.count).joined(separator: ", ")
                var args: [DatabaseValueConvertible] = states.map(\.rawValue)
                args.append(max(0, limit))
                return try Row.fetchAll(db, sql: "SELECT * FROM outgoing_queue WHERE state IN (\(marks)) ORDER BY id LIMIT ?",
                                        arguments: StatementArguments(args)).map(OutgoingQueue.item)
            }
        } catch {
            throw DicomNetworkError.queue("\(databasePath): \(error)")
        }
    }
}
