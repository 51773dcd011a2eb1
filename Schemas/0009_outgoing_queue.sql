-- 0009_outgoing_queue: the outgoing C-STORE queue becomes part of the Store's schema (it was created by the
-- network module with CREATE TABLE IF NOT EXISTS; a database written by that version already has the table,
-- which this migration keeps as it is and extends).
-- state: pending -> sent | failed; failed/sent -> pending only by an operator (retry, resend).
-- failure_kind: why the last attempt failed: 'transient' (peer unreachable, association refused: retried with
-- back-off; the item stays pending), 'refused' (the peer rejected the object, or the file vanished or changed
-- after it was queued: failed at once), 'expired' (still failing when the retry window since enqueue ended),
-- 'unrecorded' (failed before this migration, when the kind was not kept). NULL while no attempt failed.
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
ALTER TABLE outgoing_queue ADD COLUMN failure_kind TEXT
    CHECK (failure_kind IS NULL OR failure_kind IN ('transient', 'refused', 'expired', 'unrecorded'));
UPDATE outgoing_queue SET failure_kind = 'unrecorded' WHERE state = 'failed';
UPDATE outgoing_queue SET failure_kind = 'transient' WHERE state = 'pending' AND last_error IS NOT NULL;
-- Every state change of a queue item is audited in the same transaction (events.kind 'outgoing').
ALTER TABLE events ADD COLUMN outgoing_ref INTEGER;
CREATE INDEX events_by_outgoing ON events(outgoing_ref, id);
