-- 0003_bounded_retries: every retry is bounded and every failure says what kind it was.
-- failure_kind: 'transient' (disk full, database busy, PACS down: retried with back-off up to
-- maxAttempts, then failed), 'deterministic' (the input itself cannot be reported: quarantined at
-- once), 'crash' (the worker died while holding the job; after maxCrashes the study is quarantined
-- as poison). NULL while nothing failed. retry_at: a queued job is not claimed before it (back-off).
ALTER TABLE jobs ADD COLUMN failure_kind TEXT
    CHECK (failure_kind IS NULL OR failure_kind IN ('transient', 'deterministic', 'crash'));
ALTER TABLE jobs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0 CHECK (crashes >= 0);
ALTER TABLE jobs ADD COLUMN retry_at DATETIME;
