import Foundation
import GRDB
import Testing
@testable import Store

@Suite struct MigrationTests {
    @Test func migrationsApplyOnEmptyDatabase() throws {
        let temp = try TempStore()
        #expect(try temp.store.appliedMigrations() == StoreMigrations.names)
        #expect(try temp.store.journalMode() == "wal")
        let tables = try temp.store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        #expect(tables == ["alerts", "analyses", "audit_log", "events", "explanation_jobs", "installation", "instances", "jobs", "not_scored",
                           "not_scored_outputs", "outgoing_queue", "outputs", "patients", "series", "studies"])
    }

    @Test func reopeningIsIdempotentAndKeepsData() throws {
        let temp = try TempStore()
        try temp.store.recordInstance(Fixture.instance(study: "1.2.3", sop: "1.2.3.1.1"), now: Fixture.t0)
        let again = try BrixiaStore(path: temp.path)
        let third = try BrixiaStore.openExisting(path: temp.path)
        #expect(try third.appliedMigrations() == StoreMigrations.names)
        #expect(try again.assembly(studyInstanceUID: "1.2.3").instances.count == 1)
    }

    /// A database left at the first migration is brought up to date in order, keeping its rows.
    @Test func olderDatabaseIsUpgraded() throws {
        let temp = try TempStore()
        let path = temp.directory.appendingPathComponent("old.sqlite").path
        let old = try DatabasePool(path: path)
        try StoreMigrations.migrator().migrate(old, upTo: StoreMigrations.names[0])
        try old.write { db in
            try db.execute(sql: "INSERT INTO patients (patient_id, issuer, created_at, updated_at) VALUES ('P', '', 0, 0)")
        }
        try old.close()
        let upgraded = try BrixiaStore(path: path)
        #expect(try upgraded.appliedMigrations() == StoreMigrations.names)
        #expect(try upgraded.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM patients") } == 1)
    }

    /// A database whose outgoing queue was created by the network module before 0009 (CREATE TABLE IF NOT
    /// EXISTS, no failure kinds) keeps its rows; failed ones are marked 'unrecorded', retrying ones 'transient'.
    @Test func outgoingQueueOfAnOlderVersionIsAdopted() throws {
        let temp = try TempStore()
        let path = temp.directory.appendingPathComponent("old.sqlite").path
        let old = try DatabasePool(path: path)
        try StoreMigrations.migrator().migrate(old, upTo: "0008_confidence")
        try old.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS outgoing_queue (
                    id INTEGER PRIMARY KEY, destination TEXT NOT NULL CHECK (destination <> ''),
                    file_path TEXT NOT NULL CHECK (file_path <> ''), sop_instance_uid TEXT NOT NULL CHECK (sop_instance_uid <> ''),
                    content_sha256 TEXT NOT NULL CHECK (length(content_sha256) = 64),
                    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')), attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT, last_error_at DATETIME, enqueued_at DATETIME NOT NULL, next_attempt_at DATETIME NOT NULL,
                    sent_at DATETIME, UNIQUE (destination, sop_instance_uid));
                CREATE INDEX IF NOT EXISTS outgoing_queue_due ON outgoing_queue(state, next_attempt_at);
                CREATE INDEX IF NOT EXISTS outgoing_queue_uid ON outgoing_queue(sop_instance_uid);
                """)
            let sha = String(repeating: "a", count: 64)
            for (uid, state, error) in [("1.1", "sent", nil), ("1.2", "failed", "DIMSE 0xA700"), ("1.3", "pending", "refused"), ("1.4", "pending", nil)] {
                try db.execute(sql: """
                    INSERT INTO outgoing_queue (destination, file_path, sop_instance_uid, content_sha256, state, attempts, last_error,
                                                enqueued_at, next_attempt_at)
                    VALUES ('PACS@h:104', '/out/r.dcm', ?, ?, ?, 1, ?, 0, 0)
                    """, arguments: [uid, sha, state, error])
            }
        }
        try old.close()
        let upgraded = try BrixiaStore(path: path)
        #expect(try upgraded.appliedMigrations() == StoreMigrations.names)
        let items = try upgraded.outgoingItems()
        #expect(items.map(\.sopInstanceUID) == ["1.1", "1.2", "1.3", "1.4"])
        #expect(items.map(\.failureKind) == [nil, .unrecorded, .transient, nil])
        #expect(try upgraded.outgoingStatus().first?.failed == 1)
    }

    /// The binary applies exactly Schemas/*.sql: same names, same order, same bytes.
    @Test func migrationsMatchSchemasFolder() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: RepoPaths.schemas.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(files.map { String($0.dropLast(4)) } == StoreMigrations.names,
                "Schemas/ and the embedded migrations differ: run Schemas/embed-migrations.sh")
        for (file, migration) in zip(files, StoreMigrations.all) {
            let onDisk = try String(contentsOf: RepoPaths.schemas.appendingPathComponent(file), encoding: .utf8)
            #expect(onDisk == migration.sql, "Schemas/\(file) changed: run Schemas/embed-migrations.sh")
        }
    }

    @Test func newerSchemaIsRefused() throws {
        let temp = try TempStore()
        try temp.store.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_future')")
        }
        #expect(throws: StoreError.schemaTooNew(path: temp.path, unknownMigrations: ["9999_future"])) {
            _ = try BrixiaStore(path: temp.path)
        }
    }

    @Test func missingDatabaseIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).sqlite").path
        #expect(throws: StoreError.databaseNotFound(path: path)) { _ = try BrixiaStore.openExisting(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(StoreError.databaseNotFound(path: path).description.contains(path))
    }
}

@Suite("Installation identity")
struct InstallationIdentityTests {
    @Test func createdOnceAndKeptAcrossReopen() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("brixia-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("b.sqlite").path
        let first = InstallationIdentity(deviceObserverUID: "2.25.1234", trackingSecret: String(repeating: "a1", count: 32))
        let other = InstallationIdentity(deviceObserverUID: "2.25.5678", trackingSecret: String(repeating: "b2", count: 32))
        let store = try BrixiaStore(path: path)
        #expect(try store.installationIdentity(orCreate: { first }) == first)
        #expect(try store.installationIdentity(orCreate: { other }) == first)
        #expect(try BrixiaStore(path: path).installationIdentity(orCreate: { other }) == first)
        #expect(throws: StoreError.self) {
            try BrixiaStore(path: dir.appendingPathComponent("c.sqlite").path)
                .installationIdentity(orCreate: { InstallationIdentity(deviceObserverUID: "2.25.1", trackingSecret: "short") })
        }
    }
}
