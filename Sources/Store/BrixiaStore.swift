#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB

/// The Brixia database: patients, studies, instances, analyses, jobs, alerts and an audit log.
/// WAL mode (DatabasePool): readers never block the writer and see a consistent snapshot.
/// Every public mutating call runs in one transaction.
public final class BrixiaStore: Sendable {
    public let path: String
    public let configuration: StoreConfiguration
    /// `package`: the synthetic-history generator (SyntheticHistory, benchmarks only) bulk-inserts through it.
    package let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String, configuration: StoreConfiguration = StoreConfiguration()) throws {
        self.path = path
        self.configuration = configuration
        var config = Configuration()
        config.busyMode = .timeout(configuration.busyTimeout)
        config.foreignKeysEnabled = true
        do {
            pool = try DatabasePool(path: path, configuration: config)
            let migrator = StoreMigrations.migrator()
            let unknown = try pool.read { db in
                try migrator.appliedIdentifiers(db).subtracting(StoreMigrations.names).sorted()
            }
            if !unknown.isEmpty { throw StoreError.schemaTooNew(path: path, unknownMigrations: unknown) }
            try migrator.migrate(pool)
        } catch let e as DatabaseError {
            throw StoreError.cannotOpen(path: path, detail: Self.explain(e))
        }
        // The history holds names, birth dates and scores: readable by the service account only
        // (SQLite gives the -wal/-shm files the database's mode).
        _ = chmod(path, 0o600)
    }

    /// SQLite's result code in words, with what an operator can do about it.
    static func explain(_ e: DatabaseError) -> String {
        let code = e.resultCode.primaryResultCode
        let meaning: String
        switch code {
        case .SQLITE_NOTADB: meaning = "the file is not an SQLite database (wrong --db path?)"
        case .SQLITE_CANTOPEN: meaning = "the file cannot be opened (missing folder or no permission)"
        case .SQLITE_PERM, .SQLITE_AUTH: meaning = "permission denied"
        case .SQLITE_READONLY: meaning = "the database or its folder is read-only (the service account must be able to write both)"
        case .SQLITE_FULL: meaning = "the disk is full"
        case .SQLITE_CORRUPT: meaning = "the database file is corrupt (restore it from a backup)"
        case .SQLITE_BUSY, .SQLITE_LOCKED: meaning = "the database is locked by another process"
        case .SQLITE_IOERR: meaning = "I/O error reading or writing the file"
        default: meaning = e.message ?? "SQLite error"
        }
        return "\(meaning) (SQLite error \(e.resultCode.rawValue)\(e.message.map { ": " + $0 } ?? ""))"
    }

    /// Opens an existing database; a missing file is an error instead of a new empty database
    /// (what the query commands want).
    public static func openExisting(path: String, configuration: StoreConfiguration = StoreConfiguration()) throws -> BrixiaStore {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw StoreError.databaseNotFound(path: path)
        }
        return try BrixiaStore(path: path, configuration: configuration)
    }

    /// Names of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try StoreMigrations.migrator().appliedMigrations(db) }
    }

    /// SQLite's journal mode ("wal" for a store opened by this class).
    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}
