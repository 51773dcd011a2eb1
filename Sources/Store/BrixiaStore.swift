import Foundation
import GRDB

/// The Brixia database: patients, studies, instances, analyses, jobs, alerts and an audit log.
/// WAL mode (DatabasePool): readers never block the writer and see a consistent snapshot.
/// Every public mutating call runs in one transaction.
public final class BrixiaStore: Sendable {
    public let path: String
    public let configuration: StoreConfiguration
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String, configuration: StoreConfiguration = StoreConfiguration()) throws {
        self.path = path
        self.configuration = configuration
        var config = Configuration()
        config.busyMode = .timeout(configuration.busyTimeout)
        config.foreignKeysEnabled = true
        pool = try DatabasePool(path: path, configuration: config)
        let migrator = StoreMigrations.migrator()
        let unknown = try pool.read { db in
            try migrator.appliedIdentifiers(db).subtracting(StoreMigrations.names).sorted()
        }
        if !unknown.isEmpty { throw StoreError.schemaTooNew(path: path, unknownMigrations: unknown) }
        try migrator.migrate(pool)
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
