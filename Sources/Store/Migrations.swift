import GRDB

/// One SQL migration: `name` is the file name in Schemas/ without ".sql".
public struct StoredMigration: Sendable, Equatable {
    public let name: String
    public let sql: String
}

/// The schema migrations compiled into this binary (generated from Schemas/ by Schemas/embed-migrations.sh).
public enum StoreMigrations {
    public static var all: [StoredMigration] { EmbeddedMigrations.all }
    public static var names: [String] { all.map(\.name) }

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in EmbeddedMigrations.all {
            migrator.registerMigration(migration.name) { db in
                try db.execute(sql: migration.sql)
            }
        }
        return migrator
    }
}
