-- 0007_audit: who looked at which patient's data through the web console / HTTP API, and which operator
-- actions they took. One row per request that showed or changed patient data; never a patient name.
-- user: the console user (or API token owner); action: e.g. 'view-study', 'view-patient', 'api-studies',
-- 'retry', 'resend'; patient_id / study_uid: what was shown (NULL for lists); remote: the peer address.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         DATETIME NOT NULL,
    user       TEXT NOT NULL CHECK (user <> ''),
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator')),
    action     TEXT NOT NULL CHECK (action <> ''),
    patient_id TEXT,
    study_uid  TEXT,
    remote     TEXT,
    detail     TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_patient ON audit_log(patient_id);
