-- 0001_initial: the Brixia store (SQLite, applied by GRDB's DatabaseMigrator in file-name order).
-- Conventions: timestamps are GRDB dates ("YYYY-MM-DD HH:MM:SS.SSS", UTC) so they sort as text;
-- DICOM dates/times are kept verbatim (DA "YYYYMMDD", TM "HHMMSS.ffffff", DT) next to a normalised sort key.

-- One row per patient identity. IssuerOfPatientID is '' when absent so that UNIQUE works
-- (SQLite treats NULLs as distinct in UNIQUE constraints).
CREATE TABLE patients (
    id          INTEGER PRIMARY KEY,
    patient_id  TEXT NOT NULL CHECK (patient_id <> ''),
    issuer      TEXT NOT NULL DEFAULT '',
    name        TEXT,
    sex         TEXT,
    birth_date  TEXT,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    UNIQUE (patient_id, issuer)
);

-- sort_key: study date+time normalised to "YYYYMMDDHHMMSS.ffffff", falling back to the earliest
-- acquisition date/time of the study's instances; NULL when the study carries no date at all.
-- Priors are ordered by this key, never by arrival.
CREATE TABLE studies (
    id                    INTEGER PRIMARY KEY,
    study_uid             TEXT NOT NULL UNIQUE CHECK (study_uid <> ''),
    patient_ref           INTEGER NOT NULL REFERENCES patients(id),
    study_date            TEXT,
    study_time            TEXT,
    acquisition_datetime  TEXT,
    sort_key              TEXT,
    accession_number      TEXT,
    description           TEXT,
    created_at            DATETIME NOT NULL,
    updated_at            DATETIME NOT NULL
);
CREATE INDEX studies_by_patient_time ON studies(patient_ref, sort_key);
CREATE INDEX studies_by_time ON studies(sort_key);

CREATE TABLE series (
    id             INTEGER PRIMARY KEY,
    series_uid     TEXT NOT NULL UNIQUE CHECK (series_uid <> ''),
    study_ref      INTEGER NOT NULL REFERENCES studies(id),
    modality       TEXT,
    series_number  INTEGER,
    description    TEXT,
    created_at     DATETIME NOT NULL
);
CREATE INDEX series_by_study ON series(study_ref);

-- revision counts content changes of the same SOP Instance UID (same UID + new hash = new content).
CREATE TABLE instances (
    id                    INTEGER PRIMARY KEY,
    sop_instance_uid      TEXT NOT NULL UNIQUE CHECK (sop_instance_uid <> ''),
    sop_class_uid         TEXT,
    series_ref            INTEGER NOT NULL REFERENCES series(id),
    study_ref             INTEGER NOT NULL REFERENCES studies(id),
    file_path             TEXT NOT NULL,
    content_sha256        TEXT NOT NULL CHECK (length(content_sha256) = 64),
    acquisition_datetime  TEXT,
    eligible              INTEGER NOT NULL CHECK (eligible IN (0, 1)),
    eligibility_reason    TEXT,
    revision              INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
    received_at           DATETIME NOT NULL,
    updated_at            DATETIME NOT NULL
);
CREATE INDEX instances_by_study ON instances(study_ref);
CREATE INDEX instances_by_series ON instances(series_ref);

-- One row per analysis run of a study; version 1, 2, ... per study (re-analyses never overwrite).
CREATE TABLE analyses (
    id                 INTEGER PRIMARY KEY,
    study_ref          INTEGER NOT NULL REFERENCES studies(id),
    instance_ref       INTEGER REFERENCES instances(id),
    instance_revision  INTEGER,
    version            INTEGER NOT NULL CHECK (version >= 1),
    model_name         TEXT NOT NULL,
    model_version      TEXT NOT NULL,
    weights_sha256     TEXT NOT NULL,
    zone_a             INTEGER NOT NULL CHECK (zone_a BETWEEN 0 AND 3),
    zone_b             INTEGER NOT NULL CHECK (zone_b BETWEEN 0 AND 3),
    zone_c             INTEGER NOT NULL CHECK (zone_c BETWEEN 0 AND 3),
    zone_d             INTEGER NOT NULL CHECK (zone_d BETWEEN 0 AND 3),
    zone_e             INTEGER NOT NULL CHECK (zone_e BETWEEN 0 AND 3),
    zone_f             INTEGER NOT NULL CHECK (zone_f BETWEEN 0 AND 3),
    global_score       INTEGER NOT NULL CHECK (global_score = zone_a + zone_b + zone_c + zone_d + zone_e + zone_f),
    probabilities      TEXT,  -- JSON {"A": [p0, p1, p2, p3], ...}
    theta              TEXT,  -- JSON [6 affine parameters of the alignment network]
    confidence         REAL,
    timings            TEXT,  -- JSON {"stage": milliseconds}
    status             TEXT NOT NULL CHECK (status IN ('ok', 'low-confidence')),
    created_at         DATETIME NOT NULL,
    UNIQUE (study_ref, version)
);

-- DICOM objects written for an analysis (SR, Secondary Capture, ...).
CREATE TABLE outputs (
    id                INTEGER PRIMARY KEY,
    analysis_ref      INTEGER NOT NULL REFERENCES analyses(id),
    kind              TEXT NOT NULL CHECK (kind <> ''),
    sop_instance_uid  TEXT NOT NULL UNIQUE,
    series_uid        TEXT,
    file_path         TEXT NOT NULL,
    created_at        DATETIME NOT NULL
);
CREATE INDEX outputs_by_analysis ON outputs(analysis_ref);

-- The processing state machine, one job per study. rerun_requested marks a study that received new
-- content while it was being processed: finishing it re-queues it instead of leaving it done.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY,
    study_ref         INTEGER NOT NULL UNIQUE REFERENCES studies(id),
    state             TEXT NOT NULL CHECK (state IN ('received', 'queued', 'processing', 'done', 'failed', 'quarantined')),
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    rerun_requested   INTEGER NOT NULL DEFAULT 0 CHECK (rerun_requested IN (0, 1)),
    last_error        TEXT,
    owner             TEXT,
    lease_expires_at  DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    queued_at         DATETIME,
    started_at        DATETIME,
    finished_at       DATETIME
);
CREATE INDEX jobs_by_state ON jobs(state, queued_at);

-- Alerts fired by trend rules. One row per (analysis, rule, prior): re-evaluating is idempotent.
CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY,
    analysis_ref        INTEGER NOT NULL REFERENCES analyses(id),
    prior_analysis_ref  INTEGER REFERENCES analyses(id),
    rule                TEXT NOT NULL,
    value               INTEGER NOT NULL,
    message             TEXT NOT NULL,
    created_at          DATETIME NOT NULL
);
CREATE UNIQUE INDEX alerts_once ON alerts(analysis_ref, rule, IFNULL(prior_analysis_ref, 0));

-- Append-only audit log. No foreign keys on purpose: the log must accept any event.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    at            DATETIME NOT NULL,
    kind          TEXT NOT NULL,
    study_ref     INTEGER,
    job_ref       INTEGER,
    instance_ref  INTEGER,
    analysis_ref  INTEGER,
    from_state    TEXT,
    to_state      TEXT,
    actor         TEXT,
    message       TEXT
);
CREATE INDEX events_by_study ON events(study_ref, id);
CREATE INDEX events_by_job ON events(job_ref, id);
