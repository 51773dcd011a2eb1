-- 0010_explanation_jobs: the explanation (occlusion map) queue, whose state was kept in folders (an `attempts`
-- file, `worker.pid`, a `.failed` suffix). The folder under <outbox>/.brixia-explain/ stays the worker's workspace
-- (job.json, source.dcm, out/); its state is this row. One job per analysis.
-- state: queued -> running (a worker launched; attempts + 1) -> done (outputs recorded and published) |
--        queued (the worker ended without a result, or the pipeline stopped while it ran) | failed.
--        failed -> queued only by an operator (`brixia retry --explanations`).
-- failure_kind: 'worker-failed' (the worker exited without a result: retried), 'crash' (the pipeline stopped
-- while the worker ran: retried), 'permanent' (the worker said the image cannot be explained, or the job
-- folder is gone: failed at once), 'exhausted' (maxAttempts launches without a result: failed),
-- 'unrecorded' (set aside by an older brixia, which kept no kind). NULL while nothing failed.
CREATE TABLE explanation_jobs (
    id            INTEGER PRIMARY KEY,
    analysis_ref  INTEGER NOT NULL UNIQUE REFERENCES analyses(id),
    folder        TEXT NOT NULL UNIQUE CHECK (folder <> '' AND instr(folder, '/') = 0),
    state         TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    failure_kind  TEXT CHECK (failure_kind IS NULL
                              OR failure_kind IN ('worker-failed', 'crash', 'permanent', 'exhausted', 'unrecorded')),
    last_error    TEXT,
    worker_pid    INTEGER,
    queued_at     DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE INDEX explanation_jobs_state ON explanation_jobs(state, id);
-- Every state change of an explanation job is audited in the same transaction (events.kind 'explanation').
ALTER TABLE events ADD COLUMN explanation_ref INTEGER;
CREATE INDEX events_by_explanation ON events(explanation_ref, id);
