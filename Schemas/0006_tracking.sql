-- 0006_tracking: the identity of this installation, created once and then never changed.
-- device_observer_uid: the Device Observer UID of every SR this installation writes (TID 1004), so a
-- viewer sees one device across all reports. tracking_secret: hex of 32 random bytes, the key from which
-- the TID 1501 Tracking Unique Identifiers are derived (per patient and zone, and for the global score):
-- consecutive reports of one patient share them without a table of UIDs, and nobody without the
-- database can recompute them from a patient ID. One row only (id = 1).
CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_observer_uid TEXT NOT NULL CHECK (length(device_observer_uid) BETWEEN 1 AND 64),
    tracking_secret TEXT NOT NULL CHECK (length(tracking_secret) = 64),
    created_at DATETIME NOT NULL
);
