import Foundation
import GRDB

/// What identifies this installation in its outputs; created once per database, then never changed
/// (migration 0006_tracking).
public struct InstallationIdentity: Sendable, Equatable {
    /// Device Observer UID of every report.
    public var deviceObserverUID: String
    /// 64 hex digits: the key of the derived tracking identifiers.
    public var trackingSecret: String
    public init(deviceObserverUID: String, trackingSecret: String) {
        self.deviceObserverUID = deviceObserverUID; self.trackingSecret = trackingSecret
    }
}

extension BrixiaStore {
    /// The stored identity, or `fresh()` stored and returned when there is none yet. Concurrent first calls
    /// (two processes on one database) all get the identity that was stored first.
    public func installationIdentity(orCreate fresh: () -> InstallationIdentity) throws -> InstallationIdentity {
        let candidate = fresh()
        guard candidate.trackingSecret.utf8.count == 64, !candidate.deviceObserverUID.isEmpty,
              candidate.deviceObserverUID.utf8.count <= 64 else {
            throw StoreError.invalidInput(field: "installation identity", reason: "need a 1-64 character UID and a 64-digit hex secret")
        }
        return try pool.write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO installation (id, device_observer_uid, tracking_secret, created_at)
                VALUES (1, ?, ?, ?)
                """, arguments: [candidate.deviceObserverUID, candidate.trackingSecret, Date()])
            guard let row = try Row.fetchOne(db, sql: "SELECT device_observer_uid, tracking_secret FROM installation WHERE id = 1") else {
                throw StoreError.invalidInput(field: "installation identity", reason: "missing after insert")
            }
            return InstallationIdentity(deviceObserverUID: row[0], trackingSecret: row[1])
        }
    }
}
