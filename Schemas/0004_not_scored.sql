-- 0004_not_scored: a study Brixia examined but did not score (issue #14 item 3), and where each input came from
-- (item 6). A not-scored result is a result: the job is done, the reason is kept, a short SR saying "AI analysis
-- not performed: <reason>" is written and sent like any report, and nothing enters priors, trends or alerts
-- (those read only `analyses`). Versions are shared with `analyses`: a study's results are numbered 1, 2, ...
-- whichever table holds them, so the latest result of a study is the one with the highest version in either.
CREATE TABLE not_scored (
    id                 INTEGER PRIMARY KEY,
    study_ref          INTEGER NOT NULL REFERENCES studies(id),
    instance_ref       INTEGER REFERENCES instances(id),
    version            INTEGER NOT NULL CHECK (version >= 1),
    -- 'quality-check': the image-content check on the network's outputs failed.
    stage              TEXT NOT NULL CHECK (stage IN ('eligibility', 'quality-check')),
    reason             TEXT NOT NULL CHECK (reason <> ''),
    qc                 TEXT,  -- JSON {"measure": value} of the image-content check
    model_name         TEXT NOT NULL,
    model_version      TEXT NOT NULL,
    weights_sha256     TEXT NOT NULL,
    input_provenance   TEXT,  -- JSON, as analyses.input_provenance
    created_at         DATETIME NOT NULL,
    UNIQUE (study_ref, version)
);

-- DICOM objects written for a not-scored result (the "not performed" SR).
CREATE TABLE not_scored_outputs (
    id                INTEGER PRIMARY KEY,
    not_scored_ref    INTEGER NOT NULL REFERENCES not_scored(id),
    kind              TEXT NOT NULL CHECK (kind <> ''),
    sop_instance_uid  TEXT NOT NULL UNIQUE,
    series_uid        TEXT,
    file_path         TEXT NOT NULL,
    created_at        DATETIME NOT NULL
);
CREATE INDEX not_scored_outputs_by_result ON not_scored_outputs(not_scored_ref);

-- Provenance of the analysed input (item 6), JSON: transfer syntax, lossy compression (0028,2110/2112/2114),
-- photometric interpretation, whether MONOCHROME1 was inverted, the VOI applied. NULL for older rows.
ALTER TABLE analyses ADD COLUMN input_provenance TEXT;
